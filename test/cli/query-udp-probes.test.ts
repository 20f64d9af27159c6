import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl, runCli } from '../helpers/cli';
import { freePort, run, startDaemon, tempDir, udpExchange, waitForReply, which } from '../helpers/daemon';
import { schemaErrors } from '../helpers/schema';

/*
 * `portqry-ts query` end to end with the UDP probes against real Debian servers on loopback, each on a
 * free port, with --probe naming the probe as a user would for a service on a non-standard port.
 */

async function query(args: string[]) {
  const r = await runCli(['query', '-n', '127.0.0.1', '-nr', '--timeout', '800', ...args]);
  return { ...r, records: r.stdout && r.stdout.startsWith('{') ? parseJsonl(r.stdout) : [] };
}

const dnsmasq = which('dnsmasq');
t.test('dns over UDP and TCP: dnsmasq', { skip: !dnsmasq && 'dnsmasq is not installed' }, async (t) => {
  const port = await freePort('tcp');
  const daemon = startDaemon(dnsmasq!, ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--user=root', '--pid-file=', '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, '--host-record=portqry.microsoft.com,192.0.2.53']);
  t.teardown(() => daemon.stop());
  await waitForReply(daemon, () => udpExchange('127.0.0.1', port, Buffer.from('50510100000100000000000007706f7274717279096d6963726f736f667403636f6d0000010001', 'hex'), 300));

  const udp = await query(['-p', 'udp', '-e', String(port), '--probe', 'dns', '--json']);
  t.equal(udp.code, 0, udp.stderr);
  t.equal(udp.records.length, 1);
  const [r] = udp.records as Record<string, any>[];
  t.equal(r.State, 'LISTENING');
  t.equal(r.Probe, 'dns');
  t.equal(r.ProbeData.ResponseCode, 'NOERROR');
  t.same(r.ProbeData.Answers, [{ Name: 'portqry.microsoft.com', Type: 'A', Ttl: 0, Data: '192.0.2.53' }]);
  t.same(schemaErrors('query-result.schema.json', r), []);

  const tcp = await query(['-p', 'tcp', '-e', String(port), '--probe', 'dns-tcp', '--json']);
  t.equal(tcp.code, 0, tcp.stderr);
  const [rt] = tcp.records as Record<string, any>[];
  t.equal(rt.Probe, 'dns-tcp');
  t.same(rt.ProbeData, r.ProbeData, 'TCP answer = UDP answer');

  const text = await query(['-p', 'udp', '-e', String(port), '--probe', 'dns', '--format', 'text']);
  t.match(text.stdout, `Sending DNS query to UDP port ${port}...\n\nDNS response: NOERROR (authoritative)\nAnswer: portqry.microsoft.com 0 A 192.0.2.53\n\nUDP port ${port} is LISTENING\n`);
});

const snmpd = which('snmpd');
t.test('snmp with PortQry\'s -cn !community!: snmpd', { skip: !snmpd && 'snmpd is not installed' }, async (t) => {
  const dir = tempDir('snmpd-cli');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'snmpd.conf'), 'rocommunity pudp-secret 127.0.0.1\nsysName pudp-agent\nsysDescr portqry-ts probe test agent\n');
  const port = await freePort();
  const daemon = startDaemon(snmpd!, ['-f', '-Lo', '-C', '-c', path.join(dir, 'snmpd.conf'), `udp:127.0.0.1:${port}`], { env: { SNMP_PERSISTENT_DIR: dir, MIBS: '', MIBDIRS: dir } });
  t.teardown(() => daemon.stop());
  // Ready when it answers an empty datagram's neighbour: the probe itself with the right community.
  const { default: snmp } = await import('../../src/query/probes/snmp');
  await waitForReply(daemon, () => udpExchange('127.0.0.1', port, snmp.encode({ host: '', address: '', port, community: 'pudp-secret', timeoutMs: 0 }), 300));

  const ok = await query(['-p', 'udp', '-e', String(port), '--probe', 'snmp', '-cn', '!pudp-secret!', '--json']);
  t.equal(ok.code, 0, ok.stderr);
  const [r] = ok.records as Record<string, any>[];
  t.equal(r.State, 'LISTENING');
  t.equal(r.ProbeData.SysName, 'pudp-agent');
  t.equal(r.ProbeData.Community, 'pudp-secret');

  const wrong = await query(['-p', 'udp', '-e', String(port), '--probe', 'snmp', '--json']);
  const [w] = wrong.records as Record<string, any>[];
  t.equal(w.State, 'FILTERED', 'community public is ignored: silence after the query, PortQry\'s FILTERED');
  t.equal(wrong.code, 2);
  t.match(w.ProbeError, /no reply to the SNMP query/);
});

const tftpd = which('in.tftpd');
t.test('tftp: tftpd-hpa answers from a new port and is LISTENING', { skip: !tftpd && 'tftpd-hpa is not installed' }, async (t) => {
  const dir = tempDir('tftp-cli');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const daemon = startDaemon(tftpd!, ['-L', '-a', `127.0.0.1:${port}`, '-s', '-u', 'root', dir]);
  t.teardown(() => daemon.stop());
  await waitForReply(daemon, () => udpExchange('127.0.0.1', port, Buffer.from('\0\x01x\0octet\0', 'latin1'), 300));
  const r = await query(['-p', 'udp', '-e', String(port), '--probe', 'tftp', '--json']);
  t.equal(r.code, 0, r.stderr);
  const [rec] = r.records as Record<string, any>[];
  t.equal(rec.State, 'LISTENING');
  t.same(rec.ProbeData, { Opcode: 'ERROR', ErrorCode: 1, ErrorMessage: 'File not found', Block: null, DataLength: null });
});

const chronyd = which('chronyd');
t.test('ntp: chronyd', { skip: !chronyd && 'chrony is not installed' }, async (t) => {
  const dir = tempDir('chrony-cli');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'chrony.conf'), [`port ${port}`, 'bindaddress 127.0.0.1', 'allow all', 'local stratum 8', 'cmdport 0', `pidfile ${dir}/chronyd.pid`, ''].join('\n'));
  const daemon = startDaemon(chronyd!, ['-d', '-x', '-u', 'root', '-f', path.join(dir, 'chrony.conf')]);
  t.teardown(() => daemon.stop());
  const { encodeNtpRequest } = await import('../../src/query/probes/ntp');
  await waitForReply(daemon, () => udpExchange('127.0.0.1', port, encodeNtpRequest(), 300));
  const r = await query(['-p', 'udp', '-e', String(port), '--probe', 'ntp', '--json']);
  t.equal(r.code, 0, r.stderr);
  const [rec] = r.records as Record<string, any>[];
  t.equal(rec.ProbeData.Stratum, 8);
  t.equal(typeof rec.ProbeData.ClockOffsetMs, 'number');
  t.same(schemaErrors('query-result.schema.json', rec), []);
});

const krb5kdc = which('krb5kdc');
const kdb5util = which('kdb5_util');
t.test('kerberos over UDP and TCP: MIT krb5kdc', { skip: (!krb5kdc || !kdb5util) && 'krb5-kdc is not installed' }, async (t) => {
  const dir = tempDir('krb5-cli');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort('tcp');
  fs.writeFileSync(path.join(dir, 'kdc.conf'), ['[kdcdefaults]', ` kdc_listen = 127.0.0.1:${port}`, ` kdc_tcp_listen = 127.0.0.1:${port}`, '[realms]', ' PUDP.TEST = {', `  database_name = ${dir}/principal`, `  key_stash_file = ${dir}/stash`, ' }', '[logging]', ' kdc = STDERR', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'krb5.conf'), '[libdefaults]\n default_realm = PUDP.TEST\n');
  const env = { KRB5_CONFIG: path.join(dir, 'krb5.conf'), KRB5_KDC_PROFILE: path.join(dir, 'kdc.conf') };
  run(kdb5util!, ['create', '-s', '-r', 'PUDP.TEST', '-P', 'pudp-master-password', '-W'], { env });
  const daemon = startDaemon(krb5kdc!, ['-n', '-r', 'PUDP.TEST', '-P', path.join(dir, 'kdc.pid')], { env });
  t.teardown(() => daemon.stop());
  const { encodeAsRequest } = await import('../../src/query/probes/kerberos');
  await waitForReply(daemon, () => udpExchange('127.0.0.1', port, encodeAsRequest('PUDP.TEST'), 300));

  const both = await query(['-p', 'udp', '-e', String(port), '--probe', 'kerberos', '--json']);
  t.equal(both.code, 0, both.stderr);
  const [u] = both.records as Record<string, any>[];
  t.equal(u.State, 'LISTENING');
  t.equal(u.ProbeData.MessageType, 'KRB-ERROR');
  t.equal(u.ProbeData.RequestedRealm, 'PORTQRY-TS.INVALID', 'an address gives no realm to ask for');
  const tcp = await query(['-p', 'tcp', '-e', String(port), '--probe', 'kerberos-tcp', '--format', 'text']);
  t.equal(tcp.code, 0, tcp.stderr);
  t.match(tcp.stdout, /KDC response: KDC_ERR_\w+ \(\d+\)\nRealm: /);
});
