import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { applicationTag, children, contextTag, decodeInteger, decodeString, expectElement, generalizedTime, integer, octetString, readElement, sequence, Tag, taggedFields, tlv } from '../../src/query/probes/codec/ber';
import kerberos, { decodeKdcReply, encodeAsRequest, guessRealm, PROBE_PRINCIPAL } from '../../src/query/probes/kerberos';
import kerberosTcp from '../../src/query/probes/kerberos-tcp';
import { freePort, run, startDaemon, tempDir, udpExchange, waitForReply, which } from '../helpers/daemon';
import { connectProbeStream } from '../helpers/probe-stream';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

const ctx = { host: 'dc01.pudp.test', address: '127.0.0.1', port: 88, community: 'public', timeoutMs: 1000 };

/** A KRB-ERROR as RFC 4120 §5.9.1 lays it out: what an AD DC answers for an unknown user. */
function fixtureError(code = 6, stime = new Date('2026-11-25T22:39:16Z')): Buffer {
  const field = (n: number, v: Buffer) => tlv(contextTag(n), v);
  const sname = sequence(field(0, integer(2)), field(1, sequence(octetString('krbtgt', Tag.GeneralString), octetString('CONTOSO.COM', Tag.GeneralString))));
  return tlv(applicationTag(30), sequence(
    field(0, integer(5)), field(1, integer(30)), field(4, generalizedTime(stime)), field(5, integer(250000)), field(6, integer(code)),
    field(9, octetString('CONTOSO.COM', Tag.GeneralString)), field(10, sname), field(11, octetString('Client not found', Tag.GeneralString)),
  ));
}

t.test('realm from the host name, placeholder for addresses', async (t) => {
  t.equal(guessRealm('dc01.contoso.com'), 'CONTOSO.COM');
  t.equal(guessRealm('contoso.com'), 'CONTOSO.COM');
  t.equal(guessRealm('dc01'), 'PORTQRY-TS.INVALID');
  t.equal(guessRealm('10.0.0.5'), 'PORTQRY-TS.INVALID');
  t.equal(guessRealm('::1'), 'PORTQRY-TS.INVALID');
});

t.test('the AS-REQ (RFC 4120 §5.4.1) asks krbtgt/REALM for the probe principal, without padata', async (t) => {
  const req = readElement(encodeAsRequest('CONTOSO.COM'));
  t.equal(req.tag, applicationTag(10));
  const kdcReq = taggedFields(expectElement(req.value, 0, Tag.Sequence, 'KDC-REQ'));
  t.equal(decodeInteger(kdcReq.get(1)!), 5);
  t.equal(decodeInteger(kdcReq.get(2)!), 10);
  t.notOk(kdcReq.has(3), 'no pre-authentication data');
  const body = taggedFields(kdcReq.get(4)!);
  t.equal(decodeString(body.get(2)!), 'CONTOSO.COM');
  const cname = taggedFields(body.get(1)!);
  t.same(children(cname.get(1)!).map(decodeString), [PROBE_PRINCIPAL]);
  t.same(children(taggedFields(body.get(3)!).get(1)!).map(decodeString), ['krbtgt', 'CONTOSO.COM']);
  t.same(children(body.get(8)!).map(decodeInteger), [18, 17, 23]);
});

t.test('decodes a KRB-ERROR: code, realm, server time and skew', async (t) => {
  const fields = decodeKdcReply(fixtureError(), 'CONTOSO.COM', new Date('2026-11-25T22:39:14.250Z'));
  t.same(fields, {
    MessageType: 'KRB-ERROR', ErrorCode: 6, ErrorName: 'KDC_ERR_C_PRINCIPAL_UNKNOWN', Realm: 'CONTOSO.COM', RequestedRealm: 'CONTOSO.COM', ServerPrincipal: 'krbtgt/CONTOSO.COM',
    ServerTime: '2026-11-25T22:39:16.250Z', ClockSkewSeconds: 2, ErrorText: 'Client not found',
  });
  t.same(kerberos.describe!(fields), [
    'KDC response: KDC_ERR_C_PRINCIPAL_UNKNOWN (6)',
    'Realm: CONTOSO.COM',
    'Server time: 2026-11-25T22:39:16.250Z (clock skew 2 s)',
    'Error text: Client not found',
  ]);
});

t.test('non-Kerberos and cut replies are ProbeDecodeError', async (t) => {
  t.throws(() => decodeKdcReply(encodeAsRequest('X'), 'X'), /not KRB-ERROR or AS-REP/);
  t.throws(() => decodeKdcReply(Buffer.from('300100', 'hex'), 'X'), /not a Kerberos message/);
  t.same(decoderFailures((b) => decodeKdcReply(b, 'X'), fixtureError()), []);
  t.same(acceptedPrefixes((b) => decodeKdcReply(b, 'X'), fixtureError()), []);
});

const krb5kdc = which('krb5kdc');
const kdb5util = which('kdb5_util');
t.test('real KDC: MIT krb5kdc on loopback answers over UDP and TCP', { skip: (!krb5kdc || !kdb5util) && 'krb5-kdc is not installed (.ci/apt-packages.txt)' }, async (t) => {
  const dir = tempDir('krb5');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort('tcp');
  fs.writeFileSync(path.join(dir, 'krb5.conf'), `[libdefaults]\n default_realm = PUDP.TEST\n[realms]\n PUDP.TEST = {\n  kdc = 127.0.0.1:${port}\n }\n`);
  fs.writeFileSync(path.join(dir, 'kdc.conf'), [
    '[kdcdefaults]', ` kdc_listen = 127.0.0.1:${port}`, ` kdc_tcp_listen = 127.0.0.1:${port}`,
    '[realms]', ' PUDP.TEST = {', `  database_name = ${dir}/principal`, `  key_stash_file = ${dir}/stash`, `  acl_file = ${dir}/kadm5.acl`, ' }',
    '[logging]', ' kdc = STDERR', '',
  ].join('\n'));
  const env = { KRB5_CONFIG: path.join(dir, 'krb5.conf'), KRB5_KDC_PROFILE: path.join(dir, 'kdc.conf') };
  run(kdb5util!, ['create', '-s', '-r', 'PUDP.TEST', '-P', 'pudp-master-password', '-W'], { env });
  const daemon = startDaemon(krb5kdc!, ['-n', '-r', 'PUDP.TEST', '-P', path.join(dir, 'kdc.pid')], { env });
  t.teardown(() => daemon.stop());

  const reply = await waitForReply(daemon, () => udpExchange('127.0.0.1', port, kerberos.encode(ctx), 500));
  const fields = kerberos.decode(reply, ctx);
  t.equal(fields.MessageType, 'KRB-ERROR');
  t.equal(fields.ErrorName, 'KDC_ERR_C_PRINCIPAL_UNKNOWN', 'the dummy principal is unknown');
  t.equal(fields.Realm, 'PUDP.TEST');
  t.ok(Math.abs(fields.ClockSkewSeconds as number) < 5, 'same machine, same clock');
  t.same(decoderFailures((b) => decodeKdcReply(b, 'X'), reply), []);

  const wrongRealm = kerberos.decode((await udpExchange('127.0.0.1', port, kerberos.encode({ ...ctx, host: '127.0.0.1' }), 1000))!, ctx);
  t.equal(wrongRealm.MessageType, 'KRB-ERROR', 'a realm the KDC does not serve still gets a KRB-ERROR');
  t.comment(`unknown realm: ${String(wrongRealm.ErrorName)} realm ${String(wrongRealm.Realm)}`);

  const stream = await connectProbeStream('127.0.0.1', port);
  t.teardown(() => stream.close());
  const overTcp = await kerberosTcp.converse(stream, ctx);
  t.equal(overTcp.ErrorName, 'KDC_ERR_C_PRINCIPAL_UNKNOWN');
  t.equal(overTcp.Realm, 'PUDP.TEST');
});
