import { createHash } from 'node:crypto';
import { type DatagramProbe, ProbeDecodeError, type ProbeFields } from './types';

/**
 * IKE (UDP 500): an IKEv2 IKE_SA_INIT request (RFC 7296 §1.2) offering AES-CBC-256 / HMAC-SHA2-256 /
 * MODP-2048, the suite Windows RRAS and strongSwan both accept. A responder answers with its own
 * IKE_SA_INIT (chosen proposal, DH group) or a notification (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD,
 * COOKIE); an IKEv1-only peer answers with an IKEv1 informational. Any of those is LISTENING.
 * Our KE value and nonce are fixed bytes: nobody completes this exchange, the responder only answers.
 */
const HEADER_LENGTH = 28;
const INITIATOR_SPI = Buffer.from('706f72747172792d', 'hex'); // "portqry-"
const DH_GROUP = 14;

const EXCHANGES: Record<number, string> = {
  2: 'Identity Protection (Main Mode)', 4: 'Aggressive', 5: 'Informational', 32: 'Quick Mode',
  34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL',
};
const V2_NOTIFY: Record<number, string> = {
  1: 'UNSUPPORTED_CRITICAL_PAYLOAD', 4: 'INVALID_IKE_SPI', 5: 'INVALID_MAJOR_VERSION', 7: 'INVALID_SYNTAX', 9: 'INVALID_MESSAGE_ID',
  11: 'INVALID_SPI', 14: 'NO_PROPOSAL_CHOSEN', 17: 'INVALID_KE_PAYLOAD', 24: 'AUTHENTICATION_FAILED',
  16384: 'INITIAL_CONTACT', 16388: 'NAT_DETECTION_SOURCE_IP', 16389: 'NAT_DETECTION_DESTINATION_IP', 16390: 'COOKIE',
  16404: 'MULTIPLE_AUTH_SUPPORTED', 16406: 'REDIRECT_SUPPORTED', 16430: 'IKEV2_FRAGMENTATION_SUPPORTED', 16431: 'SIGNATURE_HASH_ALGORITHMS',
};
const V1_NOTIFY: Record<number, string> = { 14: 'NO-PROPOSAL-CHOSEN', 16: 'PAYLOAD-MALFORMED', 5: 'INVALID-MAJOR-VERSION', 24: 'AUTHENTICATION-FAILED' };
const TRANSFORM_TYPES = ['', 'Encryption', 'Prf', 'Integrity', 'DhGroup', 'ExtendedSequenceNumbers'];
const TRANSFORM_NAMES: Record<string, Record<number, string>> = {
  Encryption: { 3: '3DES', 12: 'AES-CBC', 13: 'AES-CTR', 20: 'AES-GCM-16', 28: 'CHACHA20-POLY1305' },
  Prf: { 2: 'HMAC-SHA1', 5: 'HMAC-SHA2-256', 6: 'HMAC-SHA2-384', 7: 'HMAC-SHA2-512' },
  Integrity: { 2: 'HMAC-SHA1-96', 12: 'HMAC-SHA2-256-128', 13: 'HMAC-SHA2-384-192', 14: 'HMAC-SHA2-512-256' },
  DhGroup: { 2: 'MODP-1024', 14: 'MODP-2048', 15: 'MODP-3072', 19: 'ECP-256', 20: 'ECP-384', 21: 'ECP-521', 31: 'Curve25519' },
};
/** Vendor IDs are MD5 (or longer) hashes; those that name a product are recognised by their prefix. */
const VENDOR_IDS: [string, string][] = [
  [createHash('md5').update('strongSwan').digest('hex'), 'strongSwan'],
  ['1e2b516905991c7d7c96fcbfb587e461', 'MS NT5 ISAKMPOAKLEY (Windows)'],
  ['4048b7d56ebce88525e7de7f00d6c2d3', 'IKE Fragmentation'],
  ['afcad71368a1f1c96b8696fc77570100', 'Dead Peer Detection'],
  ['4a131c81070358455c5728f20e95452f', 'RFC 3947 NAT-T'],
];

function payload(type: number, body: Buffer): { type: number; bytes: (next: number) => Buffer } {
  return {
    type,
    bytes: (next) => {
      const head = Buffer.alloc(4);
      head[0] = next;
      head.writeUInt16BE(4 + body.length, 2);
      return Buffer.concat([head, body]);
    },
  };
}

function transform(last: boolean, type: number, id: number, keyLength?: number): Buffer {
  const attr = keyLength ? Buffer.from([0x80, 0x0e, keyLength >> 8, keyLength & 0xff]) : Buffer.alloc(0);
  const b = Buffer.alloc(8);
  b[0] = last ? 0 : 3;
  b.writeUInt16BE(8 + attr.length, 2);
  b[4] = type;
  b.writeUInt16BE(id, 6);
  return Buffer.concat([b, attr]);
}

export function encodeSaInit(): Buffer {
  const transforms = Buffer.concat([transform(false, 1, 12, 256), transform(false, 2, 5), transform(false, 3, 12), transform(true, 4, DH_GROUP)]);
  const proposal = Buffer.concat([Buffer.from([0, 0, 0, 0, 1, 1, 0, 4]), transforms]); // last, #1, IKE, no SPI, 4 transforms
  proposal.writeUInt16BE(proposal.length, 2);
  // KE data: 256 bytes for MODP-2048; any value 1 < y < p-1 is accepted by the responder's check.
  const keData = Buffer.alloc(256);
  for (let i = 0; i < keData.length; i++) keData[i] = (i * 151 + 89) & 0xff;
  keData[0] = 0x5a;
  const ke = Buffer.concat([Buffer.from([0, DH_GROUP, 0, 0]), keData]);
  const nonce = Buffer.from('portqry-ts ike probe nonce 32 b!', 'ascii');
  const payloads = [payload(33, proposal), payload(34, ke), payload(40, nonce)];
  const body = Buffer.concat(payloads.map((p, i) => p.bytes(payloads[i + 1]?.type ?? 0)));
  const header = Buffer.alloc(HEADER_LENGTH);
  INITIATOR_SPI.copy(header, 0);
  header[16] = payloads[0].type;
  header[17] = 0x20; // version 2.0
  header[18] = 34; // IKE_SA_INIT
  header[19] = 0x08; // initiator
  header.writeUInt32BE(HEADER_LENGTH + body.length, 24);
  return Buffer.concat([header, body]);
}

interface Notification {
  Type: number;
  Name: string;
}

function decodeProposal(body: Buffer): Record<string, string> | null {
  // SA payload body: the first proposal substructure, then its transforms (RFC 7296 §3.3).
  if (body.length < 8) throw new ProbeDecodeError('IKE SA payload too short');
  const length = body.readUInt16BE(2);
  if (length < 8 || length > body.length) throw new ProbeDecodeError('IKE proposal length invalid');
  const spiSize = body[6];
  const count = body[7];
  let p = 8 + spiSize;
  const chosen: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    if (p + 8 > length) throw new ProbeDecodeError('IKE transform truncated');
    const tLength = body.readUInt16BE(p + 2);
    if (tLength < 8 || p + tLength > length) throw new ProbeDecodeError('IKE transform length invalid');
    const type = body[p + 4];
    const id = body.readUInt16BE(p + 6);
    let name = TRANSFORM_NAMES[TRANSFORM_TYPES[type]]?.[id] ?? String(id);
    for (let a = p + 8; a + 4 <= p + tLength; ) {
      const attrType = body.readUInt16BE(a);
      if (attrType & 0x8000) {
        if ((attrType & 0x7fff) === 14) name += `-${body.readUInt16BE(a + 2)}`;
        a += 4;
      } else {
        a += 4 + body.readUInt16BE(a + 2);
      }
    }
    if (TRANSFORM_TYPES[type]) chosen[TRANSFORM_TYPES[type]] = name;
    p += tLength;
  }
  return chosen;
}

export function decodeIkeReply(reply: Buffer): ProbeFields {
  if (reply.length < HEADER_LENGTH) throw new ProbeDecodeError(`reply of ${reply.length} bytes is shorter than an IKE header`);
  const major = reply[17] >> 4;
  if (major !== 1 && major !== 2) throw new ProbeDecodeError(`IKE major version ${major}`);
  const length = reply.readUInt32BE(24);
  if (length < HEADER_LENGTH || length > reply.length) throw new ProbeDecodeError(`IKE length ${length} does not fit the ${reply.length}-byte datagram`);
  const exchange = reply[18];
  const flags = reply[19];
  const notifications: Notification[] = [];
  const vendorIds: string[] = [];
  let proposal: Record<string, string> | null = null;
  let dhGroup: number | null = null;
  const encryptedFirst = major === 2 ? 46 : -1;
  let next = reply[16];
  let p = HEADER_LENGTH;
  // IKEv1 with the encryption flag: payloads are ciphertext (only a phase 2 reply would be).
  const encrypted = major === 1 && (flags & 1) !== 0;
  while (next !== 0 && !encrypted) {
    if (p + 4 > length) throw new ProbeDecodeError('IKE payload header truncated');
    const type = next;
    next = reply[p];
    const pLength = reply.readUInt16BE(p + 2);
    if (pLength < 4 || p + pLength > length) throw new ProbeDecodeError(`IKE payload length ${pLength} is invalid`);
    const body = reply.subarray(p + 4, p + pLength);
    p += pLength;
    if (type === encryptedFirst) break;
    if ((major === 2 && type === 41) || (major === 1 && type === 11)) {
      // v2: protocol, SPI size, type; v1: DOI (4), protocol, SPI size, type.
      const at = major === 2 ? 2 : 6;
      if (body.length < at + 2) throw new ProbeDecodeError('IKE notify payload too short');
      const code = body.readUInt16BE(at);
      notifications.push({ Type: code, Name: (major === 2 ? V2_NOTIFY : V1_NOTIFY)[code] ?? `NOTIFY_${code}` });
      if (code === 17 && major === 2 && body.length >= at + 2 + body[1] + 2) dhGroup = body.readUInt16BE(at + 2 + body[1]);
    } else if ((major === 2 && type === 43) || (major === 1 && type === 13)) {
      const hex = body.toString('hex');
      vendorIds.push(VENDOR_IDS.find(([prefix]) => hex.startsWith(prefix))?.[1] ?? hex);
    } else if (major === 2 && type === 33) {
      proposal = decodeProposal(body);
    } else if (major === 2 && type === 34) {
      if (body.length < 2) throw new ProbeDecodeError('IKE KE payload too short');
      dhGroup = body.readUInt16BE(0);
    }
  }
  return {
    Version: `${major}.${reply[17] & 0x0f}`,
    Exchange: EXCHANGES[exchange] ?? String(exchange),
    Response: major === 2 ? (flags & 0x20) !== 0 : null,
    ResponderSpi: reply.subarray(8, 16).toString('hex'),
    Proposal: proposal,
    DhGroup: dhGroup,
    Notifications: notifications,
    VendorIds: vendorIds,
  };
}

export function describeIke(fields: ProbeFields): string[] {
  const lines = [`IKE v${String(fields.Version)} ${String(fields.Exchange)} response`];
  const proposal = fields.Proposal as Record<string, string> | null;
  if (proposal) lines.push(`Chosen proposal: ${Object.values(proposal).join(' / ')}`);
  for (const n of (fields.Notifications as Notification[]) ?? []) lines.push(`Notify: ${n.Name} (${n.Type})`);
  for (const v of (fields.VendorIds as string[]) ?? []) lines.push(`Vendor ID: ${v}`);
  return lines;
}

const ike: DatagramProbe = {
  kind: 'datagram',
  name: 'ike',
  label: 'ISAKMP',
  ports: [500],
  encode: () => encodeSaInit(),
  decode: (reply) => decodeIkeReply(reply),
  describe: describeIke,
};

export default ike;
