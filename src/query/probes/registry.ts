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

export function datagramProbeFor(port: number): DatagramProbe | undefined {
  return PROBES.find((p): p is DatagramProbe => p.kind === 'datagram' && p.ports.includes(port));
}

export function streamProbeFor(port: number): StreamProbe | undefined {
  return PROBES.find((p): p is StreamProbe => p.kind === 'stream' && p.ports.includes(port));
}

export function probeByName(name: string): Probe | undefined {
  return PROBES.find((p) => p.name === name);
}
