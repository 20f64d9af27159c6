import t from 'tap';
import dns from '../../src/query/probes/dns';
import ike from '../../src/query/probes/ike';
import kerberos from '../../src/query/probes/kerberos';
import l2tp from '../../src/query/probes/l2tp';
import netbiosNs, { decodeNodeStatusResponse } from '../../src/query/probes/netbios-ns';
import ntp from '../../src/query/probes/ntp';
import snmp from '../../src/query/probes/snmp';
import tftp from '../../src/query/probes/tftp';
import type { ProbeContext } from '../../src/query/probes/types';
import { parseJsonl, runCli } from '../helpers/cli';
import { schemaErrors } from '../helpers/schema';
import { startCharon, startChronyd, startDnsmasq, startKdc, startNmbd, startSnmpd, startTftpd, startXl2tpd, unavailable } from '../helpers/udp-servers';

/*
 * `portqry-ts query` end to end with the UDP probes against real Debian servers: on a free loopback
 * port with --probe naming the probe (a service on a non-standard port), or on the well-known port in
 * a network namespace, where the port alone picks the probe.
 */
const ctx: ProbeContext = { host: '127.0.0.1', address: '127.0.0.1', port: 0, community: 'public', timeoutMs: 1000 };

async function query(host: string, args: string[]) {
  const r = await runCli(['query', '-n', host, '-nr', '--timeout', '800', ...args]);
  const records = (r.stdout.startsWith('{') ? parseJsonl(r.stdout) : []) as Record<string, any>[];
  return { ...r, records };
}

t.test('dns over UDP and TCP: dnsmasq', { skip: unavailable('dnsmasq', 'dnsmasq') }, async (t) => {
  const { port } = await startDnsmasq(t, dns.encode(ctx));
  const udp = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'dns', '--json']);
  t.equal(udp.code, 0, udp.stderr);
  t.equal(udp.records.length, 1);
  const [r] = udp.records;
  t.equal(r.State, 'LISTENING');
  t.equal(r.Probe, 'dns');
  t.equal(r.ProbeData.ResponseCode, 'NOERROR');
  t.same(r.ProbeData.Answers, [{ Name: 'portqry.microsoft.com', Type: 'A', Ttl: 0, Data: '192.0.2.53' }]);
  t.same(schemaErrors('query-result.schema.json', r), []);

  const tcp = await query('127.0.0.1', ['-p', 'tcp', '-e', String(port), '--probe', 'dns-tcp', '--json']);
  t.equal(tcp.code, 0, tcp.stderr);
  t.equal(tcp.records[0].Probe, 'dns-tcp');
  t.same(tcp.records[0].ProbeData, r.ProbeData, 'TCP answer = UDP answer');

  const text = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'dns', '--format', 'text']);
  t.match(text.stdout, `Sending DNS query to UDP port ${port}...\n\nDNS response: NOERROR (authoritative)\nAnswer: portqry.microsoft.com 0 A 192.0.2.53\n\nUDP port ${port} is LISTENING\n`);
});

t.test('snmp with PortQry\'s -cn !community!: snmpd', { skip: unavailable('snmpd', 'snmpd') }, async (t) => {
  const { port } = await startSnmpd(t, 'pudp-secret', snmp.encode({ ...ctx, community: 'pudp-secret' }));
  const ok = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'snmp', '-cn', '!pudp-secret!', '--json']);
  t.equal(ok.code, 0, ok.stderr);
  const [r] = ok.records;
  t.equal(r.State, 'LISTENING');
  t.equal(r.ProbeData.SysName, 'pudp-agent');
  t.equal(r.ProbeData.Community, 'pudp-secret');

  const wrong = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'snmp', '--json']);
  const [w] = wrong.records;
  t.equal(w.State, 'FILTERED', 'community public is ignored: silence after the query, PortQry\'s FILTERED');
  t.equal(wrong.code, 2);
  t.match(w.ProbeError, /no reply to the SNMP query/);
});

t.test('tftp: tftpd-hpa answers from a new port and is LISTENING', { skip: unavailable('in.tftpd', 'tftpd-hpa') }, async (t) => {
  const { port } = await startTftpd(t, tftp.encode(ctx));
  const r = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'tftp', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.records[0].State, 'LISTENING');
  t.same(r.records[0].ProbeData, { Opcode: 'ERROR', ErrorCode: 1, ErrorMessage: 'File not found', Block: null, DataLength: null });
});

t.test('ntp: chronyd', { skip: unavailable('chronyd', 'chrony') }, async (t) => {
  const { port } = await startChronyd(t, ntp.encode(ctx));
  const r = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'ntp', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.records[0].ProbeData.Stratum, 8);
  t.equal(typeof r.records[0].ProbeData.ClockOffsetMs, 'number');
  t.same(schemaErrors('query-result.schema.json', r.records[0]), []);
});

t.test('kerberos over UDP and TCP: MIT krb5kdc', { skip: unavailable('krb5kdc', 'krb5-kdc') }, async (t) => {
  const { port } = await startKdc(t, kerberos.encode(ctx));
  const udp = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'kerberos', '--json']);
  t.equal(udp.code, 0, udp.stderr);
  const [u] = udp.records;
  t.equal(u.State, 'LISTENING');
  t.equal(u.ProbeData.MessageType, 'KRB-ERROR');
  t.equal(u.ProbeData.RequestedRealm, 'PORTQRY-TS.INVALID', 'an address gives no realm to ask for');
  const tcp = await query('127.0.0.1', ['-p', 'tcp', '-e', String(port), '--probe', 'kerberos-tcp', '--format', 'text']);
  t.equal(tcp.code, 0, tcp.stderr);
  t.match(tcp.stdout, /KDC response: KDC_ERR_\w+ \(\d+\)\nRealm: /);
});

t.test('l2tp: xl2tpd', { skip: unavailable('xl2tpd', 'xl2tpd') }, async (t) => {
  const { port } = await startXl2tpd(t, l2tp.encode(ctx));
  const r = await query('127.0.0.1', ['-p', 'udp', '-e', String(port), '--probe', 'l2tp', '--format', 'text']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `Sending L2TP query to UDP port ${port}...\n\nL2TP response: SCCRP\nHost name: pudp-lns\nVendor: xelerance.com\n`);
});

t.test('netbios-ns on UDP 137 picks its probe by port: nmbd in a namespace', { skip: unavailable('nmbd', 'samba (nmbd)', true) }, async (t) => {
  const server = await startNmbd(t, netbiosNs.encode(ctx), (reply) => Boolean(decodeNodeStatusResponse(reply).MachineName));
  const r = await query(server.address, ['-p', 'udp', '-e', '137', '--json']);
  t.equal(r.code, 0, r.stderr);
  const [rec] = r.records;
  t.equal(rec.Service, 'netbios-ns');
  t.equal(rec.Probe, 'netbios-ns');
  t.equal(rec.State, 'LISTENING');
  t.equal(rec.ProbeData.MachineName, 'PUDPTEST');
  const text = await query(server.address, ['-p', 'udp', '-e', '137', '--format', 'text']);
  t.match(text.stdout, /UDP port 137 \(netbios-ns service\): LISTENING or FILTERED\n\nUsing ephemeral source port\n\nAttempting NETBIOS adapter status query to UDP port 137\.\.\.\n\nServer's response: MAC address [0-9a-f]{12}\n/);
});

t.test('ike on UDP 500 picks its probe by port: charon in a namespace', { skip: unavailable('charon', 'strongswan-charon', true) }, async (t) => {
  const server = await startCharon(t, ike.encode(ctx));
  const r = await query(server.address, ['-p', 'udp', '-e', '500', '--json']);
  t.equal(r.code, 0, r.stderr);
  const [rec] = r.records;
  t.equal(rec.Probe, 'ike');
  t.equal(rec.State, 'LISTENING');
  t.equal(rec.ProbeData.Exchange, 'IKE_SA_INIT');
  t.same(rec.ProbeData.Notifications, [{ Type: 14, Name: 'NO_PROPOSAL_CHOSEN' }]);
});
