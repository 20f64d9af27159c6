import cldap from './cldap';
import dns from './dns';
import dnsTcp from './dns-tcp';
import ftp from './ftp';
import http from './http';
import ike from './ike';
import imap from './imap';
import kerberos from './kerberos';
import kerberosTcp from './kerberos-tcp';
import l2tp from './l2tp';
import ldap from './ldap';
import netbiosNs from './netbios-ns';
import ntp from './ntp';
import pop3 from './pop3';
import rdp from './rdp';
import rpcEpm from './rpc-epm';
import rpcEpmUdp from './rpc-epm-udp';
import smb from './smb';
import smtp from './smtp';
import snmp from './snmp';
import sqlBrowser from './sql-browser';
import tftp from './tftp';
import tls from './tls';
import type { DatagramProbe, Probe, StreamProbe } from './types';

/**
 * Every probe, in one list. Adding a probe is adding its file and one import line here; the
 * registry test checks names are unique and every probe survives the fuzzer.
 */
export const PROBES: readonly Probe[] = [
  ftp,
  smtp,
  pop3,
  imap,
  http,
  ldap,
  dns,
  dnsTcp,
  netbiosNs,
  snmp,
  cldap,
  sqlBrowser,
  tftp,
  tls,
  rdp,
  kerberos,
  kerberosTcp,
  ntp,
  l2tp,
  ike,
  smb,
  rpcEpm,
  rpcEpmUdp,
];

/**
 * The first probe of a kind in PROBES' order that lists a port, as one lookup (a 65,535-port scan asks
 * for every port: searching the list each time cost 40–130 ms of such a run).
 */
let byPort: { stream: Map<number, StreamProbe>; datagram: Map<number, DatagramProbe> } | undefined;
function probeTables(): NonNullable<typeof byPort> {
  if (!byPort) {
    const stream = new Map<number, StreamProbe>();
    const datagram = new Map<number, DatagramProbe>();
    for (const p of PROBES) {
      for (const port of p.ports) {
        if (p.kind === 'stream' && !stream.has(port)) stream.set(port, p);
        if (p.kind === 'datagram' && !datagram.has(port)) datagram.set(port, p);
      }
    }
    byPort = { stream, datagram };
  }
  return byPort;
}

export function datagramProbeFor(port: number): DatagramProbe | undefined {
  return probeTables().datagram.get(port);
}

export function streamProbeFor(port: number): StreamProbe | undefined {
  return probeTables().stream.get(port);
}

export function probeByName(name: string): Probe | undefined {
  return PROBES.find((p) => p.name === name);
}
