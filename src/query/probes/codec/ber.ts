import { ProbeDecodeError } from '../types';

/**
 * ASN.1 BER, the subset that SNMP, LDAP/CLDAP and Kerberos speak: definite lengths, single-byte tags
 * when encoding (every tag these protocols use is below 31), any tag and length form when decoding.
 * Encoders build requests; the reader walks a reply and throws ProbeDecodeError on anything that
 * runs past its buffer, so decoders built on it are total over arbitrary bytes.
 */

/** Tag bytes the probes use (universal class, primitive unless noted). */
export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Enumerated: 0x0a,
  Utf8String: 0x0c,
  Sequence: 0x30,
  Set: 0x31,
  PrintableString: 0x13,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  GeneralString: 0x1b,
} as const;

/** Tag byte of a context-specific [n] (constructed unless `primitive`), as Kerberos and LDAP use. */
export function contextTag(n: number, primitive = false): number {
  return (primitive ? 0x80 : 0xa0) | n;
}

/** Tag byte of an [APPLICATION n] (constructed unless `primitive`): LDAP operations, Kerberos messages. */
export function applicationTag(n: number, primitive = false): number {
  return (primitive ? 0x40 : 0x60) | n;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV; constructed values pass their children, which are concatenated. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const value = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

export function sequence(...children: Buffer[]): Buffer {
  return tlv(Tag.Sequence, ...children);
}

/** A two's-complement INTEGER (or ENUMERATED, etc. with `tag`), minimal length. */
export function integer(value: number | bigint, tag: number = Tag.Integer): Buffer {
  let n = BigInt(value);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (!(n === 0n && (bytes[0] & 0x80) === 0) && !(n === -1n && (bytes[0] & 0x80) !== 0));
  return tlv(tag, Buffer.from(bytes));
}

export function enumerated(value: number): Buffer {
  return integer(value, Tag.Enumerated);
}

export function boolean(value: boolean, tag: number = Tag.Boolean): Buffer {
  return tlv(tag, Buffer.from([value ? 0xff : 0x00]));
}

export function octetString(value: string | Buffer, tag: number = Tag.OctetString): Buffer {
  return tlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

export function nullValue(): Buffer {
  return tlv(Tag.Null);
}

/** An OBJECT IDENTIFIER from dotted text ("1.3.6.1.2.1.1.1.0"). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new Error(`invalid OID ${dotted}`);
    return BigInt(s);
  });
  if (arcs.length < 2) throw new Error(`invalid OID ${dotted}`);
  const out: number[] = [];
  const subIds = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  for (const sub of subIds) {
    const group: number[] = [Number(sub & 0x7fn)];
    for (let n = sub >> 7n; n > 0n; n >>= 7n) group.unshift(Number(n & 0x7fn) | 0x80);
    out.push(...group);
  }
  return tlv(Tag.Oid, Buffer.from(out));
}

/** KerberosTime / GeneralizedTime "YYYYMMDDHHMMSSZ" for a Date (whole seconds, UTC). */
export function generalizedTime(date: Date, tag: number = Tag.GeneralizedTime): Buffer {
  const iso = date.toISOString(); // 2026-11-25T22:39:16.123Z
  return tlv(tag, Buffer.from(iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z', 'ascii'));
}

// ---------------------------------------------------------------------------------------------------
// Decoding

export interface Element {
  /** First identifier byte (class, constructed bit and low tag bits), what `Tag`/contextTag() give. */
  tag: number;
  /** Tag number (for tags >= 31 in the long form, the full number). */
  tagNumber: number;
  tagClass: 'universal' | 'application' | 'context' | 'private';
  constructed: boolean;
  /** The value bytes (a view into the input). */
  value: Buffer;
  /** Offset just past this element in the buffer it was read from. */
  end: number;
}

const CLASSES = ['universal', 'application', 'context', 'private'] as const;

/** Reads one element at `offset`; throws ProbeDecodeError if it is cut or malformed. */
export function readElement(buf: Buffer, offset = 0): Element {
  let p = offset;
  const need = (n: number, what: string) => {
    if (p + n > buf.length) throw new ProbeDecodeError(`BER ${what} truncated at byte ${p}`);
  };
  need(1, 'tag');
  const tag = buf[p++];
  let tagNumber = tag & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let i = 0; ; i++) {
      need(1, 'tag');
      const b = buf[p++];
      if (i >= 4) throw new ProbeDecodeError('BER tag number too long');
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  need(1, 'length');
  let length = buf[p++];
  if (length === 0x80) throw new ProbeDecodeError('BER indefinite length is not supported');
  if (length > 0x80) {
    const count = length & 0x7f;
    if (count > 4) throw new ProbeDecodeError(`BER length of ${count} bytes is too long`);
    need(count, 'length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[p++];
  }
  need(length, 'value');
  return {
    tag,
    tagNumber,
    tagClass: CLASSES[tag >> 6],
    constructed: (tag & 0x20) !== 0,
    value: buf.subarray(p, p + length),
    end: p + length,
  };
}

/** Reads one element that must carry `tag`; `what` names it in the error. */
export function expectElement(buf: Buffer, offset: number, tag: number, what: string): Element {
  const el = readElement(buf, offset);
  if (el.tag !== tag) throw new ProbeDecodeError(`${what}: expected tag 0x${hex(tag)}, got 0x${hex(el.tag)}`);
  return el;
}

/** The elements inside a constructed value (or any buffer holding consecutive TLVs). */
export function children(el: Element | Buffer): Element[] {
  const buf = Buffer.isBuffer(el) ? el : el.value;
  const out: Element[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const child = readElement(buf, offset);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/**
 * Children of a SEQUENCE whose fields are explicitly tagged [0], [1], ... (Kerberos style): a map from
 * the context tag number to the element inside the tag.
 */
export function taggedFields(el: Element): Map<number, Element> {
  const fields = new Map<number, Element>();
  for (const child of children(el)) {
    if (child.tagClass !== 'context' || !child.constructed) continue;
    fields.set(child.tagNumber, readElement(child.value, 0));
  }
  return fields;
}

export function decodeBigInteger(el: Element): bigint {
  const v = el.value;
  if (v.length === 0) throw new ProbeDecodeError('BER INTEGER has no bytes');
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if (v[0] & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** An INTEGER/ENUMERATED as a number; throws if it does not fit in a safe integer. */
export function decodeInteger(el: Element): number {
  const n = decodeBigInteger(el);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new ProbeDecodeError('BER INTEGER out of range');
  return Number(n);
}

export function decodeOid(el: Element): string {
  const v = el.value;
  if (v.length === 0) throw new ProbeDecodeError('BER OID has no bytes');
  const subIds: bigint[] = [];
  let n = 0n;
  for (let i = 0; i < v.length; i++) {
    n = (n << 7n) | BigInt(v[i] & 0x7f);
    if ((v[i] & 0x80) === 0) {
      subIds.push(n);
      n = 0n;
    } else if (i === v.length - 1) {
      throw new ProbeDecodeError('BER OID truncated');
    }
  }
  const first = subIds[0] < 80n ? subIds[0] / 40n : 2n;
  const second = subIds[0] - first * 40n;
  return [first, second, ...subIds.slice(1)].join('.');
}

/** A string type's bytes as text (UTF-8; Kerberos' GeneralString is ASCII in practice). */
export function decodeString(el: Element): string {
  return el.value.toString('utf8');
}

/** GeneralizedTime / UTCTime to an ISO 8601 UTC string; throws if it is not a time. */
export function decodeTime(el: Element): string {
  const s = el.value.toString('latin1');
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?Z$/.exec(s);
  if (!m) throw new ProbeDecodeError(`BER time '${s.slice(0, 40)}' is not a UTC time`);
  let year = Number(m[1]);
  if (m[1].length === 2) year += year < 50 ? 2000 : 1900;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), ms));
  if (Number.isNaN(date.getTime())) throw new ProbeDecodeError(`BER time '${s}' is not a valid date`);
  return date.toISOString();
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
