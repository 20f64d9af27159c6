import t from 'tap';
import { integer, nullValue, octetString, oid, sequence, tlv } from '../../src/query/probes/codec/ber';
import snmp, { decodeGetResponse, encodeGetRequest } from '../../src/query/probes/snmp';
import { udpExchange } from '../helpers/real-server';
import { startSnmpd, unavailable } from '../helpers/udp-servers';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

const ctx = { host: '127.0.0.1', address: '127.0.0.1', port: 161, community: 'public', timeoutMs: 1000 };

/** An SNMPv2c GetResponse built from RFC 3416 with the BER encoders (other agents' value types included). */
function fixtureResponse(): Buffer {
  const vb = (o: string, value: Buffer) => sequence(oid(o), value);
  return sequence(integer(1), octetString('public'), tlv(0xa2, integer(0x5051), integer(0), integer(0), sequence(
    vb('1.3.6.1.2.1.1.1.0', octetString('Hardware: Intel64 Family 6 - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)')),
    vb('1.3.6.1.2.1.1.5.0', octetString('DC01')),
    vb('1.3.6.1.2.1.1.3.0', tlv(0x43, Buffer.from('0a1b2c3d', 'hex'))),
    vb('1.3.6.1.2.1.2.2.1.6.1', octetString(Buffer.from('00155d01c61e', 'hex'))),
    vb('1.3.6.1.2.1.31.1.1.1.6.1', tlv(0x46, Buffer.from('00ffffffffffffffff', 'hex'))),
    vb('1.3.6.1.2.1.4.20.1.1.10', tlv(0x40, Buffer.from([10, 0, 0, 1]))),
    vb('1.3.6.1.2.1.1.9.9', tlv(0x81, Buffer.alloc(0))),
  )));
}

t.test('the request is an SNMPv1 GetRequest for sysDescr.0 and sysName.0 with the community', async (t) => {
  t.equal(
    encodeGetRequest('public').toString('hex'),
    '303502010004067075626c6963a02802025051020100020100301c300c06082b060102010101000500300c06082b060102010105000500',
  );
  t.ok(snmp.encode({ ...ctx, community: 's3cr3t!' }).includes(Buffer.from('s3cr3t!')), '-cn community is sent');
  t.ok(snmp.encode({ ...ctx, community: '' }).includes(Buffer.from('public')), 'empty community falls back to public');
});

t.test('decodes a v2c GetResponse: sysDescr, sysName and every SMI value type', async (t) => {
  const fields = decodeGetResponse(fixtureResponse());
  t.equal(fields.Version, 'v2c');
  t.equal(fields.Community, 'public');
  t.equal(fields.ErrorStatus, 'noError');
  t.equal(fields.SysName, 'DC01');
  t.match(fields.SysDescr, /^Hardware: Intel64/);
  t.same((fields.Variables as unknown[]).slice(2), [
    { Oid: '1.3.6.1.2.1.1.3.0', Type: 'TimeTicks', Value: 0x0a1b2c3d },
    { Oid: '1.3.6.1.2.1.2.2.1.6.1', Type: 'OctetString', Value: '00155d01c61e' },
    { Oid: '1.3.6.1.2.1.31.1.1.1.6.1', Type: 'Counter64', Value: '18446744073709551615' },
    { Oid: '1.3.6.1.2.1.4.20.1.1.10', Type: 'IpAddress', Value: '10.0.0.1' },
    { Oid: '1.3.6.1.2.1.1.9.9', Type: 'noSuchInstance', Value: null },
  ]);
  t.same(snmp.describe!(fields), ['SNMP v2c response for community public: noError', `sysDescr: ${String(fields.SysDescr)}`, 'sysName: DC01']);
  t.same(schemaErrors(probeDataSchema('snmp'), fields), []);
});

t.test('rejects requests, traps and answers to other requests', async (t) => {
  t.throws(() => decodeGetResponse(encodeGetRequest('public')), /not a GetResponse/);
  const other = sequence(integer(0), octetString('public'), tlv(0xa2, integer(99), integer(0), integer(0), sequence(sequence(oid('1.3.6.1.2.1.1.5.0'), nullValue()))));
  t.throws(() => decodeGetResponse(other), /does not match/);
  t.throws(() => decodeGetResponse(Buffer.from('0401ff', 'hex')), /expected tag 0x30/);
  t.throws(() => decodeGetResponse(Buffer.from('hello')), /truncated/);
});

t.test('truncated and mutated responses: ProbeDecodeError or fields, never a crash', async (t) => {
  t.same(decoderFailures(decodeGetResponse, fixtureResponse()), []);
  t.same(acceptedPrefixes(decodeGetResponse, fixtureResponse()), []);
});

t.test('real agent: net-snmp snmpd on loopback answers the community and ignores others', { skip: unavailable('snmpd', 'snmpd') }, async (t) => {
  const ours = { ...ctx, community: 'pudp-community' };
  const server = await startSnmpd(t, 'pudp-community', snmp.encode(ours));
  const reply = server.firstReply;
  const fields = snmp.decode(reply, ours);
  t.equal(fields.Version, 'v1');
  t.equal(fields.SysName, 'pudp-agent');
  t.equal(fields.SysDescr, 'portqry-ts probe test agent');
  t.same(schemaErrors(probeDataSchema('snmp'), fields), []);
  t.same(decoderFailures(decodeGetResponse, reply), []);
  t.equal(await udpExchange(server.address, server.port, snmp.encode(ctx), 700), undefined, 'a wrong community gets silence, as PortQry documents');
});
