import t from 'tap';
import ike, { decodeIkeReply, encodeSaInit } from '../../src/query/probes/ike';
import { startCharon, unavailable } from '../helpers/udp-servers';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

const ctx = { host: '127.0.0.1', address: '127.0.0.1', port: 500, community: 'public', timeoutMs: 1000 };

function payloadBytes(next: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = next;
  head.writeUInt16BE(4 + body.length, 2);
  return Buffer.concat([head, body]);
}

function header(version: number, exchange: number, flags: number, first: number, body: Buffer): Buffer {
  const h = Buffer.alloc(28);
  Buffer.from('706f72747172792d', 'hex').copy(h, 0);
  Buffer.from('0102030405060708', 'hex').copy(h, 8);
  h[16] = first;
  h[17] = version;
  h[18] = exchange;
  h[19] = flags;
  h.writeUInt32BE(28 + body.length, 24);
  return Buffer.concat([h, body]);
}

/** IKEv2 responses built from RFC 7296 §3: a refusal (NO_PROPOSAL_CHOSEN), and an INVALID_KE_PAYLOAD asking for group 19. */
const noProposal = header(0x20, 34, 0x20, 41, payloadBytes(0, Buffer.from([0, 0, 0, 14])));
const invalidKe = header(0x20, 34, 0x20, 41, Buffer.concat([payloadBytes(43, Buffer.from([0, 0, 0, 17, 0, 19])), payloadBytes(0, Buffer.from('afcad71368a1f1c96b8696fc77570100', 'hex'))]));
/** An IKEv1 Informational with NO-PROPOSAL-CHOSEN (RFC 2408 §3.14), what an IKEv1-only peer sends back. */
const v1Notify = header(0x10, 5, 0, 11, payloadBytes(0, Buffer.from([0, 0, 0, 1, 1, 0, 0, 14])));

t.test('the request is an IKEv2 IKE_SA_INIT with SA, KE (MODP-2048) and nonce', async (t) => {
  const req = encodeSaInit();
  t.equal(req[17], 0x20);
  t.equal(req[18], 34);
  t.equal(req.readUInt32BE(24), req.length);
  const fields = decodeIkeReply(Buffer.concat([req.subarray(0, 19), Buffer.from([0x20]), req.subarray(20)]));
  t.same(fields.Proposal, { Encryption: 'AES-CBC-256', Prf: 'HMAC-SHA2-256', Integrity: 'HMAC-SHA2-256-128', DhGroup: 'MODP-2048' }, 'our own proposal reads back');
  t.equal(fields.DhGroup, 14);
  t.same(schemaErrors(probeDataSchema('ike'), fields), []);
});

t.test('notifications, vendor ids and IKEv1 replies decode', async (t) => {
  t.same(decodeIkeReply(noProposal).Notifications, [{ Type: 14, Name: 'NO_PROPOSAL_CHOSEN' }]);
  const ke = decodeIkeReply(invalidKe);
  t.equal(ke.DhGroup, 19, 'INVALID_KE_PAYLOAD names the group the responder wants');
  t.same(ke.VendorIds, ['Dead Peer Detection']);
  const v1 = decodeIkeReply(v1Notify);
  t.equal(v1.Version, '1.0');
  t.equal(v1.Exchange, 'Informational');
  t.same(v1.Notifications, [{ Type: 14, Name: 'NO-PROPOSAL-CHOSEN' }]);
  t.same(ike.describe!(decodeIkeReply(noProposal)), ['IKE v2.0 IKE_SA_INIT response', 'Notify: NO_PROPOSAL_CHOSEN (14)']);
  for (const fixture of [noProposal, invalidKe, v1Notify]) t.same(schemaErrors(probeDataSchema('ike'), decodeIkeReply(fixture)), []);
});

t.test('truncated and mutated replies: ProbeDecodeError or fields', async (t) => {
  t.throws(() => decodeIkeReply(Buffer.alloc(27)), /shorter/);
  for (const fixture of [noProposal, invalidKe, v1Notify, encodeSaInit()]) {
    t.same(decoderFailures(decodeIkeReply, fixture), []);
    t.same(acceptedPrefixes(decodeIkeReply, fixture), []);
  }
});

t.test('real responder: strongSwan charon in a network namespace answers IKE_SA_INIT on port 500', { skip: unavailable('charon', 'strongswan-charon', true) }, async (t) => {
  const server = await startCharon(t, ike.encode(ctx));
  const reply = server.firstReply;
  const fields = ike.decode(reply, ctx);
  t.equal(fields.Version, '2.0');
  t.equal(fields.Exchange, 'IKE_SA_INIT');
  t.equal(fields.Response, true);
  t.same(fields.Notifications, [{ Type: 14, Name: 'NO_PROPOSAL_CHOSEN' }], 'no connection is configured, so charon refuses the proposal');
  t.same(schemaErrors(probeDataSchema('ike'), fields), []);
  t.same(decoderFailures(decodeIkeReply, reply), []);
});
