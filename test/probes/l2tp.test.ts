import t from 'tap';
import l2tp, { decodeL2tpReply, encodeSccrq } from '../../src/query/probes/l2tp';
import { startXl2tpd, unavailable } from '../helpers/udp-servers';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

const ctx = { host: '127.0.0.1', address: '127.0.0.1', port: 1701, community: 'public', timeoutMs: 1000 };

function avp(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt16BE(0x8000 | (6 + value.length), 0);
  head.writeUInt16BE(type, 4);
  return Buffer.concat([head, value]);
}

/** A StopCCN (RFC 2661 §6.4) with result code 4 "not authorized" and a message, as a refusing LNS sends it. */
function stopCcn(): Buffer {
  const avps = Buffer.concat([avp(0, Buffer.from('0004', 'hex')), avp(9, Buffer.from('1234', 'hex')), avp(1, Buffer.concat([Buffer.from('00040000', 'hex'), Buffer.from('tunnel denied')]))]);
  const header = Buffer.from('c802000050510000' + '00010001', 'hex');
  header.writeUInt16BE(12 + avps.length, 2);
  return Buffer.concat([header, avps]);
}

t.test('the request is an SCCRQ with the mandatory AVPs (RFC 2661 §6.1)', async (t) => {
  const req = encodeSccrq();
  t.equal(req.readUInt16BE(0), 0xc802, 'control message, length and sequence present, version 2');
  t.equal(req.readUInt16BE(2), req.length);
  t.equal(req.subarray(12, 20).toString('hex'), '8008000000000001', 'first AVP: Message Type SCCRQ');
  t.ok(req.includes(Buffer.from('portqry-ts')), 'host name AVP');
  t.ok(encodeSccrq(0x1234).includes(Buffer.from('80080000000912340', 'hex').subarray(0, 8)), 'Assigned Tunnel ID AVP');
});

t.test('a StopCCN decodes to its result code and message', async (t) => {
  const fields = decodeL2tpReply(stopCcn());
  t.equal(fields.MessageType, 'StopCCN');
  t.equal(fields.ResultCode, 4);
  t.equal(fields.ResultError, 0);
  t.equal(fields.ResultMessage, 'tunnel denied');
  t.same(l2tp.describe!(fields), ['L2TP response: StopCCN', 'Result: 4 (Requester is not authorized): tunnel denied']);
  t.same(schemaErrors(probeDataSchema('l2tp'), fields), []);
});

t.test('data messages, other versions and cut replies are ProbeDecodeError', async (t) => {
  t.throws(() => decodeL2tpReply(Buffer.from('0002000000000000', 'hex')), /data message/);
  t.throws(() => decodeL2tpReply(Buffer.from('c803000c0000000000000000', 'hex')), /version 3/);
  t.same(decodeL2tpReply(Buffer.from('c802000c5051000000010001', 'hex')).MessageType, 'ZLB', 'an empty control message is a ZLB ack');
  t.same(schemaErrors(probeDataSchema('l2tp'), decodeL2tpReply(Buffer.from('c802000c5051000000010001', 'hex'))), [], 'ZLB');
  t.same(decoderFailures(decodeL2tpReply, stopCcn()), []);
  t.same(decoderFailures(decodeL2tpReply, encodeSccrq()), []);
});

t.test('real LNS: xl2tpd on loopback answers SCCRP with its host name and vendor', { skip: unavailable('xl2tpd', 'xl2tpd') }, async (t) => {
  const server = await startXl2tpd(t, encodeSccrq(0x5051));
  const reply = server.firstReply;
  const fields = l2tp.decode(reply, ctx);
  t.equal(fields.MessageType, 'SCCRP');
  t.equal(fields.HostName, 'pudp-lns');
  t.equal(fields.VendorName, 'xelerance.com');
  t.equal(fields.ProtocolVersion, '1.0');
  t.equal(fields.TunnelId, 0x5051, 'addressed to the tunnel id we assigned');
  t.same(schemaErrors(probeDataSchema('l2tp'), fields), []);
  t.same(decoderFailures(decodeL2tpReply, reply), []);
  t.same(acceptedPrefixes(decodeL2tpReply, reply), []);
});
