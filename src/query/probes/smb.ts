import { randomBytes } from 'node:crypto';
import { applicationTag, children, contextTag, decodeOid, expectElement, Tag } from './codec/ber';
import { fileTimeToIso, readGuid } from './codec/guid';
import { ProbeDecodeError, type ProbeFields, type StreamProbe } from './types';

/**
 * SMB2 NEGOTIATE ([MS-SMB2] 2.2.3 / 2.2.4) over direct TCP (445, [MS-SMB2] 2.1: a 4-byte length
 * header). The request offers every dialect from 2.0.2 to 3.1.1 with 3.1.1's negotiate contexts; the
 * response says which dialect the server picked, whether it requires signing, its GUID, capabilities,
 * limits, clock, and (3.1.1) the preauth hash, cipher and signing algorithm it chose.
 */

const SMB2_MAGIC = Buffer.from([0xfe, 0x53, 0x4d, 0x42]);
const SMB1_MAGIC = Buffer.from([0xff, 0x53, 0x4d, 0x42]);
const HEADER_SIZE = 64;

export const DIALECTS: Record<number, string> = { 0x0202: '2.0.2', 0x0210: '2.1', 0x0300: '3.0', 0x0302: '3.0.2', 0x0311: '3.1.1', 0x02ff: '2.???' };
const OFFERED = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

const CAPABILITIES: [number, string][] = [
  [0x01, 'DFS'], [0x02, 'LEASING'], [0x04, 'LARGE_MTU'], [0x08, 'MULTI_CHANNEL'],
  [0x10, 'PERSISTENT_HANDLES'], [0x20, 'DIRECTORY_LEASING'], [0x40, 'ENCRYPTION'], [0x80, 'NOTIFICATIONS'],
];
const HASHES: Record<number, string> = { 0x0001: 'SHA-512' };
const CIPHERS: Record<number, string> = { 0x0000: 'none', 0x0001: 'AES-128-CCM', 0x0002: 'AES-128-GCM', 0x0003: 'AES-256-CCM', 0x0004: 'AES-256-GCM' };
const SIGNING: Record<number, string> = { 0x0000: 'HMAC-SHA256', 0x0001: 'AES-CMAC', 0x0002: 'AES-GMAC' };
const MECHANISMS: Record<string, string> = {
  '1.2.840.48018.1.2.2': 'MS-KRB5',
  '1.2.840.113554.1.2.2': 'KRB5',
  '1.2.840.113554.1.2.2.3': 'KRB5-U2U',
  '1.3.6.1.4.1.311.2.2.10': 'NTLMSSP',
  '1.3.6.1.4.1.311.2.2.30': 'NEGOEX',
};

const name = (table: Record<number, string>, value: number) => table[value] ?? `0x${value.toString(16).padStart(4, '0')}`;
const pad8 = (n: number) => (8 - (n % 8)) % 8;

function negotiateContext(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(type, 0);
  head.writeUInt16LE(data.length, 2);
  return Buffer.concat([head, data]);
}

/** The SMB2 NEGOTIATE request with its 4-byte direct-TCP header; `clientGuid` and `salt` are random by default. */
export function encodeNegotiate(messageId = 1, clientGuid: Buffer = randomBytes(16), salt: Buffer = randomBytes(32)): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  SMB2_MAGIC.copy(header, 0);
  header.writeUInt16LE(64, 4); // StructureSize
  header.writeUInt16LE(0, 12); // Command: NEGOTIATE
  header.writeUInt16LE(1, 14); // CreditRequest
  header.writeBigUInt64LE(BigInt(messageId), 24);
  const dialects = Buffer.alloc(OFFERED.length * 2);
  OFFERED.forEach((d, i) => dialects.writeUInt16LE(d, i * 2));
  const contextsOffset = HEADER_SIZE + 36 + dialects.length + pad8(HEADER_SIZE + 36 + dialects.length);
  const preauth = Buffer.alloc(6);
  preauth.writeUInt16LE(1, 0); // HashAlgorithmCount
  preauth.writeUInt16LE(salt.length, 2);
  preauth.writeUInt16LE(0x0001, 4); // SHA-512
  const ciphers = [0x0002, 0x0001, 0x0004, 0x0003];
  const encryption = Buffer.alloc(2 + ciphers.length * 2);
  encryption.writeUInt16LE(ciphers.length, 0);
  ciphers.forEach((c, i) => encryption.writeUInt16LE(c, 2 + i * 2));
  const algorithms = [0x0002, 0x0001, 0x0000];
  const signing = Buffer.alloc(2 + algorithms.length * 2);
  signing.writeUInt16LE(algorithms.length, 0);
  algorithms.forEach((a, i) => signing.writeUInt16LE(a, 2 + i * 2));
  const contexts = [negotiateContext(0x0001, Buffer.concat([preauth, salt])), negotiateContext(0x0002, encryption), negotiateContext(0x0008, signing)];
  const contextBytes = Buffer.concat(contexts.flatMap((c, i) => (i < contexts.length - 1 ? [c, Buffer.alloc(pad8(c.length))] : [c])));
  const body = Buffer.alloc(36);
  body.writeUInt16LE(36, 0); // StructureSize
  body.writeUInt16LE(OFFERED.length, 2);
  body.writeUInt16LE(0x0001, 4); // SecurityMode: signing enabled
  body.writeUInt32LE(0x7f, 8); // Capabilities: everything up to ENCRYPTION, so the server shows all it has
  clientGuid.copy(body, 12);
  body.writeUInt32LE(contextsOffset, 28);
  body.writeUInt16LE(contexts.length, 32);
  return withTransportHeader(Buffer.concat([header, body, dialects, Buffer.alloc(pad8(HEADER_SIZE + 36 + dialects.length)), contextBytes]));
}

function withTransportHeader(message: Buffer): Buffer {
  const transport = Buffer.alloc(4);
  transport.writeUInt32BE(message.length); // first byte 0, then a 24-bit length
  return Buffer.concat([transport, message]);
}

const SMB1_DIALECTS = ['NT LM 0.12', 'SMB 2.002', 'SMB 2.???'];

/**
 * The SMB1 multi-protocol NEGOTIATE a Windows client opens with ([MS-SMB2] 3.2.4.2.2.1): an SMB2 server
 * answers with an SMB2 NEGOTIATE response (dialect 2.??? = "now send SMB2 NEGOTIATE"), an SMB1-only
 * server with its SMB1 response, so one connection tells the two apart.
 */
export function encodeSmb1Negotiate(): Buffer {
  const header = Buffer.alloc(32);
  SMB1_MAGIC.copy(header, 0);
  header.writeUInt8(0x72, 4); // SMB_COM_NEGOTIATE
  header.writeUInt8(0x18, 9); // Flags: case-insensitive, canonicalized paths
  header.writeUInt16LE(0xc801, 10); // Flags2: Unicode, NT status, extended security, long names
  header.writeUInt16LE(0xffff, 24); // TID
  header.writeUInt16LE(0xfeff, 26); // PIDLow
  const dialects = Buffer.concat(SMB1_DIALECTS.map((d) => Buffer.concat([Buffer.from([0x02]), Buffer.from(d, 'ascii'), Buffer.from([0])])));
  const counts = Buffer.alloc(3);
  counts.writeUInt8(0, 0); // WordCount
  counts.writeUInt16LE(dialects.length, 1);
  return withTransportHeader(Buffer.concat([header, counts, dialects]));
}

/** The SMB1 NEGOTIATE response (NT LM 0.12, [MS-CIFS] 2.2.4.52.2): the server speaks SMB1 only. */
function decodeSmb1Response(msg: Buffer): ProbeFields {
  if (msg.length < 35 || msg[4] !== 0x72) throw new ProbeDecodeError('SMB1 reply that is not a NEGOTIATE response');
  const status = msg.readUInt32LE(5);
  if (status !== 0) throw new ProbeDecodeError(`SMB1 NEGOTIATE failed with status 0x${status.toString(16).padStart(8, '0')}`);
  const wordCount = msg[32]!;
  const words = msg.subarray(33, 33 + wordCount * 2);
  if (words.length < wordCount * 2 || wordCount < 1) throw new ProbeDecodeError('SMB1 NEGOTIATE response cut');
  const index = words.readUInt16LE(0);
  if (index === 0xffff) throw new ProbeDecodeError('the server accepted none of the offered dialects');
  const fields: ProbeFields = { ...EMPTY_FIELDS, Smb1Only: true, Dialect: SMB1_DIALECTS[index] ?? `dialect #${index}` };
  if (wordCount === 17) {
    const securityMode = words[2]!;
    const flags2 = msg.readUInt16LE(10);
    const bytes = msg.subarray(33 + 34 + 2);
    Object.assign(fields, {
      SigningEnabled: (securityMode & 0x04) !== 0,
      SigningRequired: (securityMode & 0x08) !== 0,
      SystemTime: fileTimeToIso(words.readBigUInt64LE(23)),
      ServerGuid: flags2 & 0x0800 && bytes.length >= 16 ? readGuid(bytes, 0) : null,
      AuthMechanisms: flags2 & 0x0800 && bytes.length > 16 ? spnegoMechanisms(bytes.subarray(16)) : null,
    });
  }
  return fields;
}

const EMPTY_FIELDS: ProbeFields = {
  Smb1Only: false, Dialect: null, DialectRevision: null, SigningEnabled: null, SigningRequired: null, ServerGuid: null, Capabilities: [],
  MaxTransactSize: null, MaxReadSize: null, MaxWriteSize: null, SystemTime: null, ServerStartTime: null, AuthMechanisms: null,
  PreauthIntegrityHash: null, EncryptionCipher: null, SigningAlgorithm: null,
};

/** True once the whole message the 4-byte header announces has arrived. */
export function smbMessageComplete(buffered: Buffer): boolean {
  return buffered.length >= 4 && buffered.length >= 4 + (buffered.readUInt32BE(0) & 0xffffff);
}

/** SPNEGO NegTokenInit mechanism names from the security buffer; null when it is not one. */
export function spnegoMechanisms(blob: Buffer): string[] | null {
  try {
    const gss = expectElement(blob, 0, applicationTag(0), 'GSS-API token');
    const [mech, init] = children(gss);
    if (!mech || mech.tag !== Tag.Oid || decodeOid(mech) !== '1.3.6.1.5.5.2' || !init || init.tag !== contextTag(0)) return null;
    const negTokenInit = expectElement(init.value, 0, Tag.Sequence, 'NegTokenInit');
    const mechTypes = children(negTokenInit).find((e) => e.tag === contextTag(0));
    if (!mechTypes) return [];
    const list = expectElement(mechTypes.value, 0, Tag.Sequence, 'MechTypeList');
    return children(list).map((oid) => {
      const dotted = decodeOid(oid);
      return MECHANISMS[dotted] ?? dotted;
    });
  } catch (err) {
    if (err instanceof ProbeDecodeError) return null;
    throw err;
  }
}

/** Decodes the NEGOTIATE response (with its 4-byte header); an SMB1 answer is reported as such. */
export function decodeNegotiateResponse(bytes: Buffer): ProbeFields {
  if (bytes.length < 8) throw new ProbeDecodeError(`SMB reply of ${bytes.length} bytes`);
  if (bytes[0] !== 0) throw new ProbeDecodeError(`not a direct-TCP SMB message (first byte 0x${bytes[0]!.toString(16)})`);
  const length = bytes.readUInt32BE(0) & 0xffffff;
  if (bytes.length < 4 + length) throw new ProbeDecodeError(`SMB message cut at ${bytes.length - 4} of ${length} bytes`);
  const msg = bytes.subarray(4, 4 + length);
  if (msg.subarray(0, 4).equals(SMB1_MAGIC)) return decodeSmb1Response(msg);
  if (!msg.subarray(0, 4).equals(SMB2_MAGIC)) throw new ProbeDecodeError('not an SMB2 message');
  if (msg.length < HEADER_SIZE + 64) throw new ProbeDecodeError(`SMB2 message of ${msg.length} bytes is too short for a NEGOTIATE response`);
  const status = msg.readUInt32LE(8);
  if (msg.readUInt16LE(12) !== 0) throw new ProbeDecodeError(`SMB2 command ${msg.readUInt16LE(12)} is not NEGOTIATE`);
  if (status !== 0) throw new ProbeDecodeError(`SMB2 NEGOTIATE failed with status 0x${status.toString(16).padStart(8, '0')}`);
  const body = msg.subarray(HEADER_SIZE);
  if (body.readUInt16LE(0) !== 65) throw new ProbeDecodeError(`NEGOTIATE response StructureSize ${body.readUInt16LE(0)}, 65 expected`);
  const securityMode = body.readUInt16LE(2);
  const dialect = body.readUInt16LE(4);
  const capabilities = body.readUInt32LE(24);
  const securityOffset = body.readUInt16LE(56);
  const securityLength = body.readUInt16LE(58);
  const blob = securityLength > 0 && securityOffset + securityLength <= msg.length ? msg.subarray(securityOffset, securityOffset + securityLength) : null;
  const fields: ProbeFields = {
    ...EMPTY_FIELDS,
    Smb1Only: false,
    Dialect: name(DIALECTS, dialect),
    DialectRevision: dialect,
    SigningEnabled: (securityMode & 0x01) !== 0,
    SigningRequired: (securityMode & 0x02) !== 0,
    ServerGuid: readGuid(body, 8),
    Capabilities: CAPABILITIES.filter(([bit]) => capabilities & bit).map(([, n]) => n),
    MaxTransactSize: body.readUInt32LE(28),
    MaxReadSize: body.readUInt32LE(32),
    MaxWriteSize: body.readUInt32LE(36),
    SystemTime: fileTimeToIso(body.readBigUInt64LE(40)),
    ServerStartTime: fileTimeToIso(body.readBigUInt64LE(48)),
    AuthMechanisms: blob ? spnegoMechanisms(blob) : null,
    PreauthIntegrityHash: null,
    EncryptionCipher: null,
    SigningAlgorithm: null,
  };
  if (dialect === 0x0311) Object.assign(fields, decodeNegotiateContexts(msg, body.readUInt32LE(60), body.readUInt16LE(6)));
  return fields;
}

/** The 3.1.1 negotiate contexts the server answered with (offset from the SMB2 header). */
function decodeNegotiateContexts(msg: Buffer, offset: number, count: number): ProbeFields {
  const out: ProbeFields = {};
  for (let i = 0; i < count; i++) {
    if (offset + 8 > msg.length) throw new ProbeDecodeError(`negotiate context ${i} starts past the message`);
    const type = msg.readUInt16LE(offset);
    const length = msg.readUInt16LE(offset + 2);
    const data = msg.subarray(offset + 8, offset + 8 + length);
    if (data.length < length) throw new ProbeDecodeError(`negotiate context ${i} cut`);
    const first = data.length >= 4 && data.readUInt16LE(0) > 0 ? data.readUInt16LE(2) : null;
    if (type === 0x0001 && data.length >= 6 && data.readUInt16LE(0) > 0) out.PreauthIntegrityHash = name(HASHES, data.readUInt16LE(4));
    else if (type === 0x0002 && first !== null) out.EncryptionCipher = name(CIPHERS, first);
    else if (type === 0x0008 && first !== null) out.SigningAlgorithm = name(SIGNING, first);
    offset += 8 + length + pad8(8 + length);
  }
  return out;
}

const smb: StreamProbe = {
  kind: 'stream',
  name: 'smb',
  label: 'SMB',
  ports: [445],
  async converse(stream, ctx) {
    const exchange = async (request: Buffer, what: string) => {
      await stream.write(request);
      const reply = await stream.read({ maxBytes: 65536, timeoutMs: ctx.timeoutMs, until: smbMessageComplete });
      if (reply.length === 0) throw new ProbeDecodeError(`no answer to ${what} within ${ctx.timeoutMs} ms`);
      return decodeNegotiateResponse(reply);
    };
    const first = await exchange(encodeSmb1Negotiate(), 'the SMB NEGOTIATE');
    // 2.??? means "SMB2 is spoken here: negotiate the dialect with an SMB2 NEGOTIATE" (message ID 1).
    return first.DialectRevision === 0x02ff ? exchange(encodeNegotiate(1), 'the SMB2 NEGOTIATE') : first;
  },
  describe(f) {
    if (f.Smb1Only) return ['SMB negotiation: the server answered with SMB1 only (NT LM 0.12); SMB2/3 is not enabled'];
    const lines = [
      `SMB dialect: ${String(f.Dialect)}`,
      `Signing: ${f.SigningRequired ? 'required' : f.SigningEnabled ? 'enabled, not required' : 'not enabled'}`,
      `Server GUID: ${String(f.ServerGuid)}`,
      `Capabilities: ${(f.Capabilities as string[]).join(', ') || 'none'}`,
    ];
    if (f.EncryptionCipher || f.SigningAlgorithm) lines.push(`Preauth hash: ${String(f.PreauthIntegrityHash)}; cipher: ${String(f.EncryptionCipher)}; signing algorithm: ${String(f.SigningAlgorithm)}`);
    if (Array.isArray(f.AuthMechanisms)) lines.push(`Authentication mechanisms: ${f.AuthMechanisms.join(', ')}`);
    return lines;
  },
};

export default smb;
