import { toAsciiJson } from './json';
import type { Style } from './style';

/** The subset of JSON Schema 2020-12 this module reads; schemas/*.schema.json are the full contract. */
export interface RecordSchema {
  $id: string;
  title: string;
  properties: Record<string, { type?: string | string[]; format?: string; description?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

export type FieldValue = string | number | boolean | null | readonly unknown[] | { readonly [k: string]: unknown };
export type OutputRecord = Record<string, unknown>;

/**
 * A kind of record the tool emits. Its keys and their order come from its schema's `properties`, so the
 * schema file is the single source of truth: a key cannot be added, renamed or reordered in code alone.
 */
export interface RecordKind {
  readonly name: string;
  readonly schema: RecordSchema;
  readonly keys: readonly string[];
  /** Keys whose schema format is date-time or iso-date-time (zone optional), rendered for Excel in CSV. */
  readonly dateTimeKeys: ReadonlySet<string>;
  /** Columns for `--format table`; default: every key whose values are scalars. */
  readonly tableColumns: readonly string[];
  /** Human text for one record (lines without trailing newline); default: a `Key : Value` list. */
  readonly text?: (record: OutputRecord, style: Style) => string[];
  /** Text printed once before the first record of this kind in text format (e.g. PortQry's preamble). */
  readonly textHeader?: (style: Style) => string[];
  /** Records shown highlighted (red) in text and table output, e.g. parse's flagged records. */
  readonly highlight?: (record: OutputRecord) => boolean;
  /**
   * Index of the first key of a tail that many records share unchanged (an owning process's details
   * on each of its endpoints): JSON output encodes such a tail once and copies its bytes after.
   */
  readonly sharedTailFrom?: number;
  /** A faster writer of the same JSON bytes for a hot kind (writeRecordJson calls it after its key check). */
  readonly writeJson?: (record: OutputRecord, out: JsonBytes) => void;
  /**
   * A faster writer of the keys before the shared tail (from `{` to the last value before it): exactly
   * the bytes the general loop writes; the tail is then written (or copied) as usual.
   */
  readonly writeHead?: (record: OutputRecord, out: JsonBytes) => void;
}

export interface RecordKindOptions {
  tableColumns?: readonly string[];
  text?: RecordKind['text'];
  textHeader?: RecordKind['textHeader'];
  highlight?: RecordKind['highlight'];
  /** The first key of the tail records share (RecordKind.sharedTailFrom). */
  sharedTail?: string;
  writeJson?: RecordKind['writeJson'];
  /** Needs sharedTail: writes the keys before it (RecordKind.writeHead). */
  writeHead?: RecordKind['writeHead'];
}

export function defineRecordKind(schema: RecordSchema, options: RecordKindOptions = {}): RecordKind {
  const keys = Object.keys(schema.properties);
  const dateTimeKeys = new Set(keys.filter((k) => ['date-time', 'iso-date-time'].includes(schema.properties[k]?.format ?? '')));
  const scalar = keys.filter((k) => {
    const t = schema.properties[k]?.type;
    const types = Array.isArray(t) ? t : [t];
    return !types.includes('object') && !types.includes('array');
  });
  if (options.writeHead && options.sharedTail === undefined) throw new Error(`${schema.title}: a head writer needs a shared tail`);
  for (const column of options.tableColumns ?? []) {
    if (!keys.includes(column)) throw new Error(`${schema.title}: table column ${column} is not in the schema`);
  }
  return {
    name: schema.title,
    schema,
    keys,
    dateTimeKeys,
    tableColumns: options.tableColumns ?? scalar,
    text: options.text,
    textHeader: options.textHeader,
    highlight: options.highlight,
    sharedTailFrom: options.sharedTail === undefined ? undefined : tailIndex(schema, keys, options.sharedTail),
    writeJson: options.writeJson,
    writeHead: options.writeHead,
  };
}

function tailIndex(schema: RecordSchema, keys: string[], key: string): number {
  const i = keys.indexOf(key);
  if (i < 0) throw new Error(`${schema.title}: shared tail key ${key} is not in the schema`);
  return i;
}

/**
 * Puts a record in its kind's shape: every key present, in schema order, `null` for unknown, dates as
 * ISO 8601 UTC, bigint as a decimal string (64-bit values lose precision as JSON numbers).
 * A key the schema does not know is a programming error and throws.
 */
export function normalizeRecord(kind: RecordKind, record: OutputRecord): OutputRecord {
  for (const key of Object.keys(record)) {
    if (!kind.schema.properties[key]) throw new Error(`${kind.name}: key ${key} is not in schema ${kind.schema.$id}`);
  }
  const out: OutputRecord = {};
  for (const key of kind.keys) out[key] = normalizeValue(record[key]);
  return out;
}

function normalizeValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = normalizeValue(v);
    return out;
  }
  return value;
}

// A record's keys are checked against the schema for each of the first records of a kind, then for
// one in CHECK_EVERY: the check is for programming errors, and doing it on every record of a
// multi-gigabyte parse would cost more than the serialization itself.
const CHECK_FIRST = 256;
const CHECK_EVERY = 256;
const jsonState = new WeakMap<RecordKind, { prefixes: Buffer[]; count: number; tails: Map<unknown, SharedTail>; tailHits: number; tailMisses: number }>();

/** The encoded bytes of one tail (RecordKind.sharedTailFrom) and the values they were made from. */
interface SharedTail {
  values: unknown[];
  bytes: Buffer;
}
const SHARED_TAILS_MAX = 4096;

/**
 * Whether a tail value gives the bytes an earlier one gave: the same string, number, boolean or null;
 * the same frozen array or object (shared, cannot change); two empty arrays; two Dates of one time.
 * A mutable non-empty array or object is never taken as unchanged.
 */
function sameTailValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null) return a === b;
  if (typeof b !== 'object' || b === null) return false;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b) && a.length === 0 && b.length === 0) return true;
  return a === b && Object.isFrozen(a);
}

/**
 * The longest run of bytes copied by hand rather than natively: a loop costs about 4 ns a byte on the
 * build machine, TypedArray.prototype.set about 30 ns a call whatever the size (Node 22.23.3).
 */
export const COPY_BY_HAND = 8;

/**
 * A growable byte buffer for ASCII JSON. Records are written into it directly (no intermediate strings
 * to build, join and encode again), and take() hands the bytes so far to a stream.
 */
export class JsonBytes {
  buf: Buffer;
  pos = 0;

  constructor(private readonly chunkSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** Room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.chunkSize, (this.pos + n) * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An ASCII string (no character above 0x7F). */
  ascii(text: string): void {
    const n = text.length;
    this.reserve(n);
    if (n > 32) {
      this.pos += this.buf.write(text, this.pos, 'latin1');
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    // Short runs are faster copied by hand than through a native copy (COPY_BY_HAND).
    if (n > COPY_BY_HAND) this.buf.set(b, this.pos);
    else {
      const buf = this.buf;
      const pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos + i] = b[i]!;
    }
    this.pos += n;
  }

  /**
   * The bytes written so far, as their own buffer; writing starts over. A small batch (a query result
   * handed over per event-loop turn) is copied out and the working buffer kept: allocating a fresh
   * megabyte per flush made a 65,535-port scan allocate 64 GB of external memory and spend half its
   * CPU time in the garbage collector. A large batch hands its buffer over (no copy).
   */
  take(): Buffer {
    const n = this.pos;
    this.pos = 0;
    if (n < this.buf.length >>> 2) {
      const out = Buffer.allocUnsafe(n);
      this.buf.copy(out, 0, 0, n);
      return out;
    }
    const out = this.buf.subarray(0, n);
    this.buf = Buffer.allocUnsafe(this.chunkSize);
    return out;
  }
}

/**
 * One record as ASCII JSON appended to out: exactly the bytes of toAsciiJson(normalizeRecord(kind,
 * record)), in one pass without the intermediate object or strings (the hot path of jsonl/json
 * output: parse writes millions of records).
 */
export function writeRecordJson(kind: RecordKind, record: OutputRecord, out: JsonBytes): void {
  let state = jsonState.get(kind);
  if (!state) {
    state = { prefixes: kind.keys.map((k, i) => Buffer.from(`${i === 0 ? '{' : ','}${toAsciiJson(k)}:`, 'latin1')), count: 0, tails: new Map(), tailHits: 0, tailMisses: 0 };
    jsonState.set(kind, state);
  }
  const n = state.count++;
  if (n < CHECK_FIRST || n % CHECK_EVERY === 0) {
    for (const key in record) {
      if (!kind.schema.properties[key]) throw new Error(`${kind.name}: key ${key} is not in schema ${kind.schema.$id}`);
    }
  }
  if (kind.writeJson) {
    kind.writeJson(record, out);
    return;
  }
  const keys = kind.keys;
  if (keys.length === 0) {
    out.ascii('{}');
    return;
  }
  const prefixes = state.prefixes;
  // Tails that keep changing (Windows: a CreationTime per endpoint) are not worth remembering.
  const tailFrom = state.tailMisses > 256 && state.tailHits * 4 < state.tailMisses ? keys.length : (kind.sharedTailFrom ?? keys.length);
  let i = 0;
  if (kind.writeHead) {
    kind.writeHead(record, out);
    i = kind.sharedTailFrom!;
  }
  for (; i < tailFrom; i++) {
    out.bytes(prefixes[i]!);
    writeValue(record[keys[i]!], out);
  }
  if (tailFrom < keys.length) {
    if (writeSharedTail(state.tails, keys, tailFrom, prefixes, record, out)) state.tailHits++;
    else state.tailMisses++;
  }
  out.ascii('}');
}

/**
 * Keys tailFrom.. of a record: copied from an earlier record's bytes when every value is unchanged
 * (true), else encoded and remembered.
 */
function writeSharedTail(tails: Map<unknown, SharedTail>, keys: readonly string[], tailFrom: number, prefixes: Buffer[], record: OutputRecord, out: JsonBytes): boolean {
  const id = record[keys[tailFrom]!];
  const known = tails.get(id);
  if (known !== undefined) {
    let same = true;
    for (let i = tailFrom; i < keys.length && same; i++) same = sameTailValue(known.values[i - tailFrom], record[keys[i]!]);
    if (same) {
      out.bytes(known.bytes);
      return true;
    }
  }
  const start = out.pos;
  const values: unknown[] = [];
  for (let i = tailFrom; i < keys.length; i++) {
    const value = record[keys[i]!];
    // A Date can be changed later: compare with its time now.
    values.push(value instanceof Date ? new Date(value.getTime()) : value);
    out.bytes(prefixes[i]!);
    writeValue(value, out);
  }
  if (tails.size >= SHARED_TAILS_MAX && known === undefined) tails.clear();
  tails.set(id, { values, bytes: Buffer.from(out.buf.subarray(start, out.pos)) });
  return false;
}

/** toAsciiJson(normalizeRecord(kind, record)) as a string (tests, small outputs). */
export function recordToJson(kind: RecordKind, record: OutputRecord): string {
  const out = new JsonBytes(1024);
  writeRecordJson(kind, record, out);
  return out.buf.toString('latin1', 0, out.pos);
}

const HEX = '0123456789abcdef';
// JSON.stringify's short escapes for control characters (\b \t \n \f \r); others are \u00xx.
const SHORT_ESCAPE: Record<number, number> = { 8: 98, 9: 116, 10: 110, 12: 102, 13: 114 };

/**
 * A JSON string, escaped as toAsciiJson escapes it (the bytes are identical): `"` and `\` with a
 * backslash, control characters as JSON.stringify writes them, every code unit above 0x7E as
 * \uxxxx. Written byte by byte into the buffer: Windows paths (every module, every DOMAIN\user) all
 * need escaping, so this is the common case, not a fallback.
 */
function writeString(value: string, out: JsonBytes): void {
  const n = value.length;
  out.reserve(n + 2);
  let buf = out.buf;
  let pos = out.pos;
  buf[pos++] = 34;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 34 && c !== 92) {
      buf[pos++] = c;
      continue;
    }
    // An escape takes up to 6 bytes for 1 code unit: room for it and the rest at the worst rate.
    if (pos + 6 * (n - i) + 1 > buf.length) {
      out.pos = pos;
      out.reserve(6 * (n - i) + 1);
      buf = out.buf;
    }
    pos = putEscape(buf, pos, c);
  }
  buf[pos++] = 34;
  out.pos = pos;
}

/**
 * The escape of one code unit that is not printable ASCII or is `"` or `\` (up to 6 bytes at pos), as
 * toAsciiJson writes it: a backslash before `"` and `\`, JSON.stringify's short escapes for control
 * characters, \uxxxx for the rest. Returns the new position. Shared by every byte-writing encoder.
 */
export function putEscape(buf: Buffer, pos: number, c: number): number {
  buf[pos++] = 92;
  if (c === 34 || c === 92) buf[pos++] = c;
  else if (c < 0x20 && SHORT_ESCAPE[c] !== undefined) buf[pos++] = SHORT_ESCAPE[c]!;
  else {
    buf[pos++] = 117;
    buf[pos++] = HEX.charCodeAt(c >>> 12);
    buf[pos++] = HEX.charCodeAt((c >>> 8) & 15);
    buf[pos++] = HEX.charCodeAt((c >>> 4) & 15);
    buf[pos++] = HEX.charCodeAt(c & 15);
  }
  return pos;
}

/** Whether putUint writes n as String(n) would: an integer in [0, 2^32). */
export const isUint = (n: unknown): n is number => typeof n === 'number' && n >>> 0 === n;

/** The decimal digits of an integer in [0, 2^32) (at most 10 bytes at pos), as String(n) writes them. Returns the new position. */
export function putUint(buf: Buffer, pos: number, n: number): number {
  if (n < 0x80000000) {
    // Integer arithmetic (ports, line numbers, PIDs): no floating-point division per digit.
    let digits = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
    let at = pos + digits;
    let x = n;
    do {
      const q = (x / 10) | 0;
      buf[--at] = 48 + (x - q * 10);
      x = q;
    } while (x > 0);
    return pos + digits;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let at = pos + digits;
  let x = n;
  do {
    const q = Math.floor(x / 10);
    buf[--at] = 48 + (x - q * 10);
    x = q;
  } while (x > 0);
  return pos + digits;
}

// Frozen arrays of strings (a process's modules and services, shared by every record of that process)
// are encoded once; their bytes are copied after that. Only frozen ones: they cannot change.
const frozenArrays = new WeakMap<readonly unknown[], Buffer>();

function writeFrozenArray(value: readonly unknown[], out: JsonBytes): void {
  let bytes = frozenArrays.get(value);
  if (bytes === undefined) {
    const start = out.pos;
    writeArray(value, out);
    bytes = Buffer.from(out.buf.subarray(start, out.pos));
    frozenArrays.set(value, bytes);
    return;
  }
  out.bytes(bytes);
}

function writeArray(value: readonly unknown[], out: JsonBytes): void {
  out.ascii('[');
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out.ascii(',');
    const v = value[i];
    const t = typeof v;
    // Nested objects and arrays take the general path, which normalizes them first.
    if (v !== null && (t === 'object' || t === 'function' || t === 'symbol')) out.ascii(toAsciiJson(normalizeValue(v)));
    else writeValue(v, out);
  }
  out.ascii(']');
}

// A process's start time is one Date shared by all its endpoints: its ISO form is made once (and
// again only if the Date was changed since).
const isoOf = new WeakMap<Date, { time: number; iso: string }>();

/** A Date as normalizeValue + toAsciiJson write it: its ISO 8601 UTC string, null when invalid. */
function writeDate(value: Date, out: JsonBytes): void {
  const time = value.getTime();
  if (Number.isNaN(time)) {
    out.ascii('null');
    return;
  }
  let cached = isoOf.get(value);
  if (cached === undefined || cached.time !== time) {
    cached = { time, iso: `"${value.toISOString()}"` };
    isoOf.set(value, cached);
  }
  out.ascii(cached.iso);
}

export function writeValue(value: unknown, out: JsonBytes): void {
  switch (typeof value) {
    case 'string':
      writeString(value, out);
      return;
    case 'number':
      out.ascii(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      out.ascii(value ? 'true' : 'false');
      return;
    case 'undefined':
      out.ascii('null');
      return;
    case 'bigint':
      out.ascii(`"${value.toString()}"`);
      return;
    default:
      if (value === null) {
        out.ascii('null');
        return;
      }
      if (value instanceof Date) {
        writeDate(value, out);
        return;
      }
      if (Array.isArray(value)) {
        if (value.length > 0 && Object.isFrozen(value)) writeFrozenArray(value, out);
        else writeArray(value, out);
        return;
      }
      out.ascii(toAsciiJson(normalizeValue(value)));
  }
}
