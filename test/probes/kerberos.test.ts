import t from 'tap';
import { applicationTag, children, contextTag, decodeInteger, decodeString, expectElement, generalizedTime, integer, octetString, readElement, sequence, Tag, taggedFields, tlv } from '../../src/query/probes/codec/ber';
import kerberos, { decodeKdcReply, encodeAsRequest, guessRealm, PROBE_PRINCIPAL } from '../../src/query/probes/kerberos';
import kerberosTcp from '../../src/query/probes/kerberos-tcp';
import { udpExchange } from '../helpers/real-server';
import { startKdc, unavailable } from '../helpers/udp-servers';
import { connectProbeStream } from '../helpers/probe-stream';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
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
  t.same(schemaErrors(probeDataSchema('kerberos'), fields), []);
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

t.test('real KDC: MIT krb5kdc on loopback answers over UDP and TCP', { skip: unavailable('krb5kdc', 'krb5-kdc') }, async (t) => {
  const server = await startKdc(t, kerberos.encode(ctx));
  const reply = server.firstReply;
  const fields = kerberos.decode(reply, ctx);
  t.equal(fields.MessageType, 'KRB-ERROR');
  t.equal(fields.ErrorName, 'KDC_ERR_C_PRINCIPAL_UNKNOWN', 'the dummy principal is unknown');
  t.equal(fields.Realm, 'PUDP.TEST');
  t.ok(Math.abs(fields.ClockSkewSeconds as number) < 5, 'same machine, same clock');
  t.same(schemaErrors(probeDataSchema('kerberos'), fields), []);
  t.same(decoderFailures((b) => decodeKdcReply(b, 'X'), reply), []);

  const addressCtx = { ...ctx, host: '127.0.0.1' };
  const wrongRealm = kerberos.decode((await udpExchange(server.address, server.port, kerberos.encode(addressCtx), 1000))!, addressCtx);
  t.equal(wrongRealm.MessageType, 'KRB-ERROR', 'a realm the KDC does not serve still gets a KRB-ERROR');
  t.equal(wrongRealm.Realm, wrongRealm.RequestedRealm, 'MIT echoes the realm it was asked for');
  t.same(schemaErrors(probeDataSchema('kerberos'), wrongRealm), []);

  const stream = await connectProbeStream(server.address, server.port);
  t.teardown(() => stream.close());
  const overTcp = await kerberosTcp.converse(stream, ctx);
  t.equal(overTcp.ErrorName, 'KDC_ERR_C_PRINCIPAL_UNKNOWN');
  t.equal(overTcp.Realm, 'PUDP.TEST');
  t.same(schemaErrors(probeDataSchema('kerberos-tcp'), overTcp), []);
});
