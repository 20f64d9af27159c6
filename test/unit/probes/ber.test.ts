import t from 'tap';
import {
  applicationTag, children, contextTag, decodeBigInteger, decodeInteger, decodeOid, decodeString, decodeTime,
  expectElement, generalizedTime, integer, octetString, oid, readElement, sequence, Tag, taggedFields, tlv,
} from '../../../src/query/probes/codec/ber';
import { ProbeDecodeError } from '../../../src/query/probes/types';

t.test('INTEGER encodes minimal two\'s complement and round-trips', async (t) => {
  // X.690 examples: 0 -> 02 01 00, 127 -> 02 01 7f, 128 -> 02 02 00 80, -128 -> 02 01 80, -129 -> 02 02 ff 7f
  t.equal(integer(0).toString('hex'), '020100');
  t.equal(integer(127).toString('hex'), '02017f');
  t.equal(integer(128).toString('hex'), '02020080');
  t.equal(integer(256).toString('hex'), '02020100');
  t.equal(integer(-128).toString('hex'), '020180');
  t.equal(integer(-129).toString('hex'), '0202ff7f');
  for (const n of [0, 1, -1, 255, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 40 + 7]) t.equal(decodeInteger(readElement(integer(n))), n);
  t.equal(decodeBigInteger(readElement(integer(2n ** 63n))), 2n ** 63n);
  t.throws(() => decodeInteger(readElement(integer(2n ** 63n))), ProbeDecodeError);
});

t.test('OID encodes and decodes (sysDescr.0 is 06 08 2b 06 01 02 01 01 01 00)', async (t) => {
  t.equal(oid('1.3.6.1.2.1.1.1.0').toString('hex'), '06082b06010201010100');
  for (const o of ['1.3.6.1.4.1.311.21.20', '2.999.1', '1.2.840.113556.1.4.319', '0.9.2342.19200300.100.1.25']) {
    t.equal(decodeOid(readElement(oid(o))), o);
  }
  t.throws(() => decodeOid(readElement(Buffer.from('06022b86', 'hex'))), ProbeDecodeError, 'last sub-id cut');
});

t.test('long lengths encode in the long form and decode back', async (t) => {
  const big = octetString(Buffer.alloc(300, 0x41));
  t.equal(big.subarray(0, 4).toString('hex'), '0482012c');
  t.equal(readElement(big).value.length, 300);
  t.equal(readElement(octetString(Buffer.alloc(200))).value.length, 200);
});

t.test('constructed values, context and application tags', async (t) => {
  const msg = tlv(applicationTag(30), sequence(tlv(contextTag(0), integer(5)), tlv(contextTag(4), generalizedTime(new Date('2026-01-02T03:04:05.678Z'))), tlv(contextTag(9), octetString('EXAMPLE.TEST', Tag.GeneralString))));
  const app = readElement(msg);
  t.equal(app.tagClass, 'application');
  t.equal(app.tagNumber, 30);
  t.ok(app.constructed);
  const seq = expectElement(app.value, 0, Tag.Sequence, 'body');
  const fields = taggedFields(seq);
  t.equal(decodeInteger(fields.get(0)!), 5);
  t.equal(decodeTime(fields.get(4)!), '2026-01-02T03:04:05.000Z');
  t.equal(decodeString(fields.get(9)!), 'EXAMPLE.TEST');
  t.equal(children(seq).length, 3);
  t.throws(() => expectElement(app.value, 0, Tag.Set, 'body'), /expected tag 0x31, got 0x30/);
});

t.test('times: GeneralizedTime with fractions and UTCTime', async (t) => {
  t.equal(decodeTime(readElement(tlv(Tag.GeneralizedTime, Buffer.from('20261125223916.5Z')))), '2026-11-25T22:39:16.500Z');
  t.equal(decodeTime(readElement(tlv(Tag.UtcTime, Buffer.from('491231235959Z')))), '2049-12-31T23:59:59.000Z');
  t.equal(decodeTime(readElement(tlv(Tag.UtcTime, Buffer.from('991231235959Z')))), '1999-12-31T23:59:59.000Z');
  t.throws(() => decodeTime(readElement(tlv(Tag.GeneralizedTime, Buffer.from('yesterday')))), ProbeDecodeError);
});

t.test('multi-byte tag numbers are read', async (t) => {
  const el = readElement(Buffer.from('5f8101020102', 'hex'));
  t.equal(el.tagNumber, 129);
  t.equal(el.tagClass, 'application');
  t.equal(el.value.toString('hex'), '0102');
});

t.test('every prefix of a valid message is rejected with ProbeDecodeError, never a crash', async (t) => {
  const msg = sequence(integer(1), octetString('public'), tlv(0xa0, integer(7), integer(0), integer(0), sequence(sequence(oid('1.3.6.1.2.1.1.5.0'), octetString(Buffer.alloc(150))))));
  for (let n = 0; n < msg.length; n++) {
    const cut = msg.subarray(0, n);
    t.throws(() => { const el = readElement(cut); walk(el); }, ProbeDecodeError, `prefix of ${n} bytes`);
  }
  t.throws(() => readElement(Buffer.from('3080', 'hex')), /indefinite/);
  t.throws(() => readElement(Buffer.from('3085ffffffffff', 'hex')), /too long/);
  t.throws(() => readElement(Buffer.from('0484ffffffff00', 'hex')), /truncated/);
});

function walk(el: ReturnType<typeof readElement>): void {
  if (el.constructed) for (const c of children(el)) walk(c);
}
