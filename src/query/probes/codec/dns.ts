import { ProbeDecodeError } from '../types';

/**
 * The DNS message pieces that the DNS and NetBIOS name service probes share (RFC 1035 §4, RFC 1002
 * §4.2 uses the same header and name format). Readers are bounds-checked and throw ProbeDecodeError.
 */

export interface DnsHeader {
  id: number;
  flags: number;
  qdCount: number;
  anCount: number;
  nsCount: number;
  arCount: number;
}

export const DNS_HEADER_LENGTH = 12;

export function encodeHeader(h: DnsHeader): Buffer {
  const b = Buffer.alloc(DNS_HEADER_LENGTH);
  b.writeUInt16BE(h.id, 0);
  b.writeUInt16BE(h.flags, 2);
  b.writeUInt16BE(h.qdCount, 4);
  b.writeUInt16BE(h.anCount, 6);
  b.writeUInt16BE(h.nsCount, 8);
  b.writeUInt16BE(h.arCount, 10);
  return b;
}

export function decodeHeader(msg: Buffer): DnsHeader {
  if (msg.length < DNS_HEADER_LENGTH) throw new ProbeDecodeError(`reply of ${msg.length} bytes is shorter than a DNS header`);
  return {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    qdCount: msg.readUInt16BE(4),
    anCount: msg.readUInt16BE(6),
    nsCount: msg.readUInt16BE(8),
    arCount: msg.readUInt16BE(10),
  };
}

/** A domain name as length-prefixed labels ending in the root label ("a.b" -> 01 61 01 62 00). */
export function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new Error(`DNS label too long: ${label}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Labels of a name at `offset`, following compression pointers; `end` is where the name ends in place. */
export function decodeNameLabels(msg: Buffer, offset: number): { labels: Buffer[]; end: number } {
  const labels: Buffer[] = [];
  let p = offset;
  let end = -1;
  // Each pointer must go strictly backwards, so a loop is impossible and the walk is bounded.
  let limit = offset;
  for (let total = 0; ; ) {
    if (p >= msg.length) throw new ProbeDecodeError(`DNS name at byte ${offset} runs past the reply`);
    const len = msg[p];
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= msg.length) throw new ProbeDecodeError('DNS name pointer truncated');
      const target = ((len & 0x3f) << 8) | msg[p + 1];
      if (end < 0) end = p + 2;
      if (target >= limit) throw new ProbeDecodeError('DNS name pointer does not point backwards');
      limit = target;
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new ProbeDecodeError(`DNS label type 0x${len.toString(16)} is not supported`);
    if (len === 0) {
      if (end < 0) end = p + 1;
      return { labels, end };
    }
    if (p + 1 + len > msg.length) throw new ProbeDecodeError('DNS label runs past the reply');
    total += len + 1;
    if (total > 255) throw new ProbeDecodeError('DNS name longer than 255 bytes');
    labels.push(msg.subarray(p + 1, p + 1 + len));
    p += 1 + len;
  }
}

/** A name as dotted text; the root is ".". Bytes outside printable ASCII are escaped as \DDD (RFC 4343). */
export function decodeName(msg: Buffer, offset: number): { name: string; end: number } {
  const { labels, end } = decodeNameLabels(msg, offset);
  const text = labels.map((l) => [...l].map((b) => (b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`)).join(''));
  return { name: text.length ? text.join('.') : '.', end };
}

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Offset of RDATA in the message (names inside RDATA may point anywhere before it). */
  dataOffset: number;
  data: Buffer;
  end: number;
}

export function decodeResourceRecord(msg: Buffer, offset: number): ResourceRecord {
  const { name, end: nameEnd } = decodeName(msg, offset);
  if (nameEnd + 10 > msg.length) throw new ProbeDecodeError('DNS resource record header truncated');
  const rdLength = msg.readUInt16BE(nameEnd + 8);
  const dataOffset = nameEnd + 10;
  if (dataOffset + rdLength > msg.length) throw new ProbeDecodeError('DNS resource record data truncated');
  return {
    name,
    type: msg.readUInt16BE(nameEnd),
    class: msg.readUInt16BE(nameEnd + 2),
    ttl: msg.readUInt32BE(nameEnd + 4),
    dataOffset,
    data: msg.subarray(dataOffset, dataOffset + rdLength),
    end: dataOffset + rdLength,
  };
}

/** Offset just past a question entry (name, type, class). */
export function skipQuestion(msg: Buffer, offset: number): number {
  const { end } = decodeName(msg, offset);
  if (end + 4 > msg.length) throw new ProbeDecodeError('DNS question truncated');
  return end + 4;
}
