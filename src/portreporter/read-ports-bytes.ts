import { convertTime, intern, isAddress, portsRecord, unbracket, type RowContext } from './read-ports';
import type { PortReporterRecord } from './record';

/**
 * PR-PORTS rows read from the bytes of the file, the common case of `parse` and `stats`: an ASCII row
 * of ten fields. Reading bytes of a Buffer costs about a third of reading characters of the decoded
 * line strings (slices of a read chunk: V8 follows each slice to its parent on every charCodeAt), and
 * this path makes a string only where the record needs a new one: an address not seen lately, a
 * process whose image or user changed, a new second.
 *
 * The rule is simple to keep true: a row is read here only when it gives the very record
 * parsePortsRow (read-ports.ts) gives for its decoded line; anything else (another number of fields,
 * a non-ASCII byte, lower-case protocol, an empty PID, any malformed field, a time that does not
 * convert) returns undefined and the caller reads the line with parsePortsRow, which also words the
 * reason a row is bad. test/unit/portreporter-row-bytes.test.ts runs both readers on the same rows
 * (edge cases and generated mutations) and compares every record.
 *
 * Both readers share the RowContext: the time of the last second is trusted here only while
 * `lastTime` is still the string this reader stored its bytes for.
 */
export interface ByteRowState {
  /** The last time field's bytes, valid while timeFor === RowContext.lastTime. */
  timeBytes: Uint8Array;
  /** timeBytes as a DataView (sameWide). */
  timeView: DataView;
  timeLength: number;
  timeFor: string | undefined;
  /** Per PID: a copy of the bytes from its image to the end of its last row (read buffers are reused), and their strings. */
  tails: Map<number, { bytes: Uint8Array; view: DataView; image: string | null; user: string | null }>;
}

const FIELDS = 10;
/** Comma positions of the current row: no allocation per row. */
const CUT = new Int32Array(FIELDS - 1);
const MAX_TIME_BYTES = 32;

// Dotted-quad addresses seen lately, by value: a direct-mapped cache, so a row of a known address
// makes no string. Only canonical texts (no leading zeros) go in, so a value stands for one text.
// Made on first use, not when the module loads: --version and query never read a log.
const SLOT_BITS = 14;
let slotKeys: Int32Array | undefined;
let slotTexts: (string | undefined)[] = [];
/** [0]: the value of the dotted quad read last (an int32 cell: a number of 32 bits kept in a variable would be boxed each time). */
const QUAD = new Int32Array(1);

export function createByteRowState(): ByteRowState {
  const timeBytes = new Uint8Array(MAX_TIME_BYTES);
  return { timeBytes, timeView: new DataView(timeBytes.buffer), timeLength: 0, timeFor: undefined, tails: new Map() };
}

/**
 * The record of the row at buf[start, end) (no line end; CR removed by the caller), or undefined when
 * the row must be read from its text by parsePortsRow.
 */
export function parsePortsBytes(buf: Buffer, start: number, end: number, lineNo: number, ctx: RowContext, memory: ByteRowState): PortReporterRecord | undefined {
  if (!scanPortsBytes(buf, start, end, ctx, memory)) return undefined;
  const r = scanned;
  return portsRecord(ctx, r.protocol, r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state, r.pid, r.image, r.user, lineNo);
}

/** The fields of the row scanPortsBytes read last: one object for every row (no allocation per row). */
export interface ScannedRow {
  protocol: 'TCP' | 'UDP';
  localAddress: string;
  localPort: number;
  remoteAddress: string | null;
  remotePort: number | null;
  state: string | null;
  pid: number;
  image: string | null;
  user: string | null;
  /** Where the addresses' bytes are in the row (the remote one when remoteAddress is not null). */
  localStart: number;
  localEnd: number;
  remoteStart: number;
  remoteEnd: number;
  /** Where the ports' digits are in the row (the remote one when remotePort is not null). */
  localPortStart: number;
  localPortEnd: number;
  remotePortStart: number;
  remotePortEnd: number;
  /** True when both addresses are dotted quads (or the remote one is null): bytes that need no escaping in JSON. */
  plainAddresses: boolean;
}

export const scanned: ScannedRow = {
  protocol: 'TCP', localAddress: '', localPort: 0, remoteAddress: null, remotePort: null, state: null, pid: 0, image: null, user: null,
  localStart: 0, localEnd: 0, remoteStart: 0, remoteEnd: 0, localPortStart: 0, localPortEnd: 0, remotePortStart: 0, remotePortEnd: 0,
  plainAddresses: false,
};

/**
 * Reads the row at buf[start, end) into `scanned` (and the time into ctx) when parsePortsRow would give
 * the same record for its text; false otherwise. parsePortsBytes makes the record of it;
 * ports-row-json.ts writes its JSON without one. With texts false the addresses are checked but their
 * strings are not made (localAddress is '', remoteAddress '' or null): the caller copies their bytes.
 */
export function scanPortsBytes(buf: Buffer, start: number, end: number, ctx: RowContext, memory: ByteRowState, texts = true): boolean {
  return scanRepeatedRow(buf, start, end, ctx, memory, texts) || scanAnyRow(buf, start, end, ctx, memory, texts);
}

/**
 * The common row in one pass over its bytes: the last row's time bytes, TCP or UDP, a port, an address,
 * a port or `*`, an address or `*`, a PID, and that PID's last image and user bytes. Every field is read
 * as it is passed (no comma scan before, no second read of a field), and the time and the names are
 * compared, not read; a new second is converted here (newSecond). Anything else (a new PID or names, a
 * byte of another kind, a field too long) returns false, having changed at most the second it
 * converted, and scanAnyRow reads the row; so this path gives scanAnyRow's result or none, which the
 * row-bytes tests check on long random sequences.
 * It reads each of a row's ~100 bytes once where scanAnyRow reads ~180 of them: 500 → 280 ns a row.
 */
export function scanRepeatedRow(buf: Buffer, start: number, end: number, ctx: RowContext, memory: ByteRowState, texts: boolean): boolean {
  // The time: the bytes stored for the second the context holds, then a comma; or a new second.
  let p = start + memory.timeLength + 1;
  if (memory.timeFor === undefined || memory.timeFor !== ctx.lastTime || p >= end || buf[p - 1] !== 44 /* , */ || !sameWide(buf, start, memory.timeLength, memory.timeBytes, memory.timeView)) {
    p = newSecond(buf, start, end, ctx, memory);
    if (p < 0) return false;
  }
  if (p + 4 > end) return false;

  let proto: 'TCP' | 'UDP';
  if (buf[p + 3] !== 44) return false;
  if (buf[p] === 84 /* T */ && buf[p + 1] === 67 /* C */ && buf[p + 2] === 80 /* P */) proto = 'TCP';
  else if (buf[p] === 85 /* U */ && buf[p + 1] === 68 /* D */ && buf[p + 2] === 80 /* P */) proto = 'UDP';
  else return false;

  const localPortStart = p + 4;
  const localPortEnd = digitsEnd(buf, localPortStart, end, 5);
  if (localPortEnd < 0 || digitsValue > 65535) return false;
  const localPort = digitsValue;

  const localStart = localPortEnd + 1;
  const localEnd = addressEnd(buf, localStart, end);
  if (localEnd < 0) return false;
  // plain: both addresses of digits, dots, hexadecimal digits and colons (nothing to escape in JSON).
  // (Written out for each address: a shared helper cost 8 ns a row, 3 % of this reader.)
  let plain = true;
  let localAddress: string | undefined;
  if (texts) localAddress = addressText(buf, localStart, localEnd);
  else {
    const check = addressChecked(buf, localStart, localEnd);
    localAddress = check === 0 ? undefined : '';
    if (check !== 2) plain = false;
  }
  if (localAddress === undefined) return false;

  // The remote port: digits, `*` or nothing (null).
  // (A field's end is always below `end`: the bytes past a row are not read.)
  const rportStart = localEnd + 1;
  let rportEnd: number;
  let remotePort: number | null = null;
  if (rportStart + 1 >= end) return false;
  if (buf[rportStart] === 44) rportEnd = rportStart;
  else if (buf[rportStart] === 42 /* * */ && buf[rportStart + 1] === 44) rportEnd = rportStart + 1;
  else {
    rportEnd = digitsEnd(buf, rportStart, end, 5);
    if (rportEnd < 0 || digitsValue > 65535) return false;
    remotePort = digitsValue;
  }

  // The remote address: an address, `*` or nothing (null).
  const remoteStart = rportEnd + 1;
  let remoteEnd: number;
  let remoteAddress: string | null = null;
  if (remoteStart + 1 >= end) return false;
  if (buf[remoteStart] === 44) remoteEnd = remoteStart;
  else if (buf[remoteStart] === 42 && buf[remoteStart + 1] === 44) remoteEnd = remoteStart + 1;
  else {
    remoteEnd = addressEnd(buf, remoteStart, end);
    if (remoteEnd < 0) return false;
    let a: string | undefined;
    if (texts) a = addressText(buf, remoteStart, remoteEnd);
    else {
      const check = addressChecked(buf, remoteStart, remoteEnd);
      a = check === 0 ? undefined : '';
      if (check !== 2) plain = false;
    }
    if (a === undefined) return false;
    remoteAddress = a;
  }

  const pidEnd = digitsEnd(buf, remoteEnd + 1, end, 10);
  if (pidEnd < 0) return false;
  const pid = digitsValue;
  const names = memory.tails.get(pid);
  if (names === undefined || end - pidEnd - 1 !== names.bytes.length || !sameWide(buf, pidEnd + 1, names.bytes.length, names.bytes, names.view)) return false;

  return setScanned(proto, localAddress, localPort, remoteAddress, remotePort, pid, names, plain, localStart, localEnd, remoteStart, remoteEnd, localPortStart, localPortEnd, rportStart, rportEnd);
}

/**
 * Fills `scanned` with a row both readers have read, its state from its protocol and remote port
 * (a TCP row without a remote port, or with port 0, is a listener: remote address 0.0.0.0 or ::).
 */
function setScanned(
  proto: 'TCP' | 'UDP',
  localAddress: string,
  localPort: number,
  remoteAddress: string | null,
  remotePort: number | null,
  pid: number,
  names: { image: string | null; user: string | null },
  plain: boolean,
  localStart: number,
  localEnd: number,
  remoteStart: number,
  remoteEnd: number,
  localPortStart: number,
  localPortEnd: number,
  remotePortStart: number,
  remotePortEnd: number,
): true {
  const r = scanned;
  r.protocol = proto;
  r.localAddress = localAddress;
  r.localPort = localPort;
  r.remoteAddress = remoteAddress;
  if (proto === 'UDP') {
    r.state = null;
    r.remotePort = remotePort;
  } else if (remotePort === null || remotePort === 0) {
    r.state = 'Listen';
    r.remotePort = null;
  } else {
    r.state = 'Established';
    r.remotePort = remotePort;
  }
  r.pid = pid;
  r.image = names.image;
  r.user = names.user;
  r.localStart = localStart;
  r.localEnd = localEnd;
  r.remoteStart = remoteStart;
  r.remoteEnd = remoteEnd;
  r.localPortStart = localPortStart;
  r.localPortEnd = localPortEnd;
  r.remotePortStart = remotePortStart;
  r.remotePortEnd = remotePortEnd;
  r.plainAddresses = plain;
  return true;
}

/**
 * A row of another second than the last: its time converted as scanAnyRow converts it (the same
 * checks, the same context and memory after), so a log's ~20 rows a second do not leave the one-pass
 * reader at each new second. Returns where the protocol starts, or -1 (nothing changed) when the time
 * field is not one scanAnyRow converts. A row declined later keeps the conversion, as a row declined
 * by scanAnyRow after its time does: it is the conversion of that time either way.
 */
function newSecond(buf: Buffer, start: number, end: number, ctx: RowContext, memory: ByteRowState): number {
  const limit = Math.min(end, start + MAX_TIME_BYTES + 1);
  let first = -1;
  let i = start;
  for (; i < limit; i++) {
    const c = buf[i]!;
    if (c === 44 /* , */) {
      if (first >= 0) break;
      first = i;
    } else if (c > 127) {
      return -1;
    }
  }
  if (first < 0 || i === limit) return -1;
  return convertRowTime(buf, start, first, i, ctx, memory) ? i + 1 : -1;
}

/**
 * The time field buf[start, timeEnd) (date, the comma at `comma`, time) converted as parsePortsRow
 * converts its text, into the context (lastTime, lastUtc, lastLocal) and the reader's memory of its
 * bytes; false (nothing changed) when it does not convert.
 */
function convertRowTime(buf: Buffer, start: number, comma: number, timeEnd: number, ctx: RowContext, memory: ByteRowState): boolean {
  const key = latin1(buf, start, timeEnd);
  const t = convertTime(key, comma - start, key.length, ctx.clock);
  if (t === undefined) return false;
  ctx.lastTime = key;
  ctx.lastUtc = t.utc;
  ctx.lastLocal = t.local;
  memory.timeFor = key;
  memory.timeBytes.set(buf.subarray(start, timeEnd));
  memory.timeLength = timeEnd - start;
  return true;
}

/** Set by digitsEnd: the value of the digits it passed. */
let digitsValue = 0;

/** The index of the comma after 1 to maxDigits decimal digits at buf[start…), else -1; their value in digitsValue. */
function digitsEnd(buf: Uint8Array, start: number, end: number, maxDigits: number): number {
  let n = 0;
  let i = start;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i === start || i - start > maxDigits || i === end || buf[i] !== 44) return -1;
  digitsValue = n;
  return i;
}

/** Set by addressEnd: dottedQuadAt's answer for the field it passed (1, -1 or 0), and the quad's value in QUAD[0]. */
let addressKind = 0;

/**
 * The index of the comma that ends the field at buf[start…) (an ASCII field), else -1; with
 * dottedQuadAt's answer for the field in addressKind.
 */
function addressEnd(buf: Uint8Array, start: number, end: number): number {
  return (end - start >= 16 && canonicalQuadEnd(buf, start)) || anyAddressEnd(buf, start, end);
}

/**
 * The comma after a canonical dotted quad at buf[i…) (1 to 3 digits an octet, no leading zero, at most
 * 255, then a comma: what most addresses of a log are), with addressKind 1 and its value in QUAD[0];
 * 0 for anything else. It reads at most 16 bytes, which the caller has.
 */
function canonicalQuadEnd(buf: Uint8Array, i: number): number {
  let acc = 0;
  for (let octet = 0; octet < 4; octet++) {
    let v = buf[i]! - 48;
    if (v < 0 || v > 9) return 0;
    i++;
    if (v !== 0) {
      const d1 = buf[i]! - 48;
      if (d1 >= 0 && d1 <= 9) {
        v = v * 10 + d1;
        i++;
        const d2 = buf[i]! - 48;
        if (d2 >= 0 && d2 <= 9) {
          v = v * 10 + d2;
          i++;
          if (v > 255) return 0;
        }
      }
    }
    acc = (acc << 8) | v;
    if (buf[i] !== (octet === 3 ? 44 /* , */ : 46) /* . */) return 0;
    if (octet < 3) i++;
  }
  addressKind = 1;
  QUAD[0] = acc;
  return i;
}

/** addressEnd for any field (a dotted quad with leading zeros, an IPv6 address, anything else): its comma found, then dottedQuadAt's answer. */
function anyAddressEnd(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 44 /* , */) break;
    if (c > 127) return -1;
  }
  if (i === end) return -1;
  addressKind = dottedQuadAt(buf, start, i);
  return i;
}

/** addressAt for a field addressEnd has read. */
function addressText(buf: Buffer, start: number, end: number): string | undefined {
  const kind = addressKind;
  if (kind === 0) {
    const text = latin1(buf, start, end);
    return plainIPv6At(buf, start, end) || isAddress(text) ? text : undefined;
  }
  if (kind < 0) return latin1(buf, start, end);
  return cachedQuad(buf, start, end);
}

/**
 * For a field addressEnd has read, without making its text: 2 for an address of digits, dots,
 * hexadecimal digits and colons only (a dotted quad, or an IPv6 address plainIPv6At reads), 1 for
 * another text isAddress accepts, 0 for no address.
 */
function addressChecked(buf: Buffer, start: number, end: number): 0 | 1 | 2 {
  if (addressKind !== 0 || plainIPv6At(buf, start, end)) return 2;
  return isAddress(latin1(buf, start, end)) ? 1 : 0;
}

/**
 * True for an IPv6 address of hexadecimal groups alone at buf[start, end): 1 to 4 digits a group,
 * separated by ':', eight of them, or at most seven with one '::' (a tenth of a busy server's rows).
 * False means "not this form", not "no address": a zone (%12), an IPv4 tail or anything else goes to
 * isAddress, which decides. So true is given only where isAddress (net.isIP's rules, ip-text.ts)
 * says true too, and no string is made for the common IPv6 row.
 */
function plainIPv6At(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  let groups = 0;
  let gap = false;
  if (end - i >= 2 && buf[i] === 58 /* : */ && buf[i + 1] === 58) {
    gap = true;
    i += 2;
    if (i === end) return true; // ::
  }
  for (;;) {
    const from = i;
    while (i < end && i - from < 5) {
      const c = buf[i]!;
      if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) i++;
      else break;
    }
    const digits = i - from;
    if (digits === 0 || digits > 4) return false;
    groups++;
    if (i === end) break;
    if (buf[i] !== 58) return false;
    i++;
    if (i === end) return false; // a trailing single ':'
    if (buf[i] === 58) {
      if (gap) return false;
      gap = true;
      i++;
      if (i === end) break; // …::
    }
  }
  return gap ? groups <= 7 : groups === 8;
}

/** The reader of any row (scanPortsBytes when scanRepeatedRow declines). */
function scanAnyRow(buf: Buffer, start: number, end: number, ctx: RowContext, memory: ByteRowState, texts: boolean): boolean {
  const cut = CUT;
  let cuts = 0;
  let i = start;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 44 /* , */) {
      cut[cuts++] = i;
      if (cuts === FIELDS - 1) break;
    } else if (c > 127) {
      return false;
    }
  }
  if (cuts !== FIELDS - 1) return false;

  // The time: the bytes of the last converted one, or a conversion (the text's, as parsePortsRow does).
  const timeEnd = cut[1]!;
  if (memory.timeFor === undefined || memory.timeFor !== ctx.lastTime || !sameBytes(buf, start, timeEnd, memory.timeBytes, memory.timeLength)) {
    if (timeEnd - start > MAX_TIME_BYTES || !convertRowTime(buf, start, cut[0]!, timeEnd, ctx, memory)) return false;
  }

  const p = cut[1]! + 1;
  if (cut[2]! - p !== 3) return false;
  let proto: 'TCP' | 'UDP';
  if (buf[p] === 84 /* T */ && buf[p + 1] === 67 /* C */ && buf[p + 2] === 80 /* P */) proto = 'TCP';
  else if (buf[p] === 85 /* U */ && buf[p + 1] === 68 /* D */ && buf[p + 2] === 80 /* P */) proto = 'UDP';
  else return false;

  const localPort = decimalAt(buf, cut[2]! + 1, cut[3]!, 5);
  if (localPort < 0 || localPort > 65535) return false;
  const localAddress = texts ? addressAt(buf, cut[3]! + 1, cut[4]!) : isAddressAt(buf, cut[3]! + 1, cut[4]!);
  if (localAddress === undefined) return false;

  const rportStart = cut[4]! + 1;
  const rportEnd = cut[5]!;
  const raddrEnd = cut[6]!;
  let remotePort: number | null;
  if (rportEnd === rportStart || (rportEnd - rportStart === 1 && buf[rportStart] === 42 /* * */)) remotePort = null;
  else {
    remotePort = decimalAt(buf, rportStart, rportEnd, 5);
    if (remotePort < 0 || remotePort > 65535) return false;
  }
  let remoteAddress: string | null = null;
  if (!(raddrEnd === rportEnd + 1 || (raddrEnd - rportEnd === 2 && buf[rportEnd + 1] === 42))) {
    const a = texts ? addressAt(buf, rportEnd + 1, raddrEnd) : isAddressAt(buf, rportEnd + 1, raddrEnd);
    if (a === undefined) return false;
    remoteAddress = a;
  }
  const pid = decimalAt(buf, raddrEnd + 1, cut[7]!, 10);
  if (pid < 0) return false;
  // A process's rows repeat its image and user: the strings of its last row when the bytes are the same.
  const tailStart = cut[7]! + 1;
  let names = memory.tails.get(pid);
  if (names === undefined || !sameBytes(buf, tailStart, end, names.bytes, names.bytes.length)) {
    // The user field may hold commas and was not scanned: it is the rest of the row.
    for (let j = cut[8]! + 1; j < end; j++) if (buf[j]! > 127) return false;
    const image = latin1(buf, tailStart, cut[8]!);
    if (memory.tails.size >= 65_536) memory.tails.clear();
    const bytes = new Uint8Array(buf.subarray(tailStart, end));
    names = { bytes, view: new DataView(bytes.buffer), image: intern(ctx, image || null), user: intern(ctx, unbracket(latin1(buf, cut[8]! + 1, end))) };
    memory.tails.set(pid, names);
  }
  return setScanned(proto, localAddress, localPort, remoteAddress, remotePort, pid, names, false, cut[3]! + 1, cut[4]!, rportEnd + 1, raddrEnd, cut[2]! + 1, cut[3]!, rportStart, rportEnd);
}

function latin1(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}

// The DataView of the buffer read last (a chunk holds thousands of rows).
let viewFor: Uint8Array | undefined;
let viewOfLast: DataView | undefined;

function viewOf(buf: Uint8Array): DataView {
  if (buf !== viewFor || viewOfLast === undefined) {
    viewOfLast = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewFor = buf;
  }
  return viewOfLast;
}

/** buf[start, start + length) equals bytes[0, length): four bytes a compare (a byte a compare costs about 1.2 ns here). */
function sameWide(buf: Uint8Array, start: number, length: number, bytes: Uint8Array, bytesView: DataView): boolean {
  const v = viewOf(buf);
  let k = 0;
  for (; k + 4 <= length; k += 4) if (v.getInt32(start + k, true) !== bytesView.getInt32(k, true)) return false;
  for (; k < length; k++) if (buf[start + k] !== bytes[k]) return false;
  return true;
}

function sameBytes(buf: Uint8Array, start: number, end: number, bytes: Uint8Array, length: number): boolean {
  if (end - start !== length) return false;
  for (let i = 0; i < length; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}

/** Unsigned decimal of 1 to maxDigits digits at buf[start, end), else -1. */
function decimalAt(buf: Uint8Array, start: number, end: number, maxDigits: number): number {
  if (end <= start || end - start > maxDigits) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The address text at buf[start, end) when parsePortsRow's isAddress accepts it, else undefined. */
function addressAt(buf: Buffer, start: number, end: number): string | undefined {
  const quad = dottedQuadAt(buf, start, end);
  if (quad === 0) {
    // IPv6 and anything else: the text's own check.
    const text = latin1(buf, start, end);
    return isAddress(text) ? text : undefined;
  }
  if (quad < 0) return latin1(buf, start, end);
  return cachedQuad(buf, start, end);
}

/** The text of the canonical dotted quad at buf[start, end), whose value is in QUAD[0], from the cache. */
function cachedQuad(buf: Buffer, start: number, end: number): string {
  const value = QUAD[0]!;
  const slot = Math.imul(value, 0x9e3779b1) >>> (32 - SLOT_BITS);
  const keys = slotKeys ?? makeSlots();
  let text = slotTexts[slot];
  if (text === undefined || keys[slot] !== value) {
    text = latin1(buf, start, end);
    keys[slot] = value;
    slotTexts[slot] = text;
  }
  return text;
}

/** '' when addressAt would give an address for buf[start, end), else undefined; no string for a dotted quad. */
function isAddressAt(buf: Buffer, start: number, end: number): '' | undefined {
  if (dottedQuadAt(buf, start, end) !== 0) return '';
  return isAddress(latin1(buf, start, end)) ? '' : undefined;
}

function makeSlots(): Int32Array {
  slotTexts = new Array<string | undefined>(1 << SLOT_BITS).fill(undefined);
  return (slotKeys = new Int32Array(1 << SLOT_BITS));
}

/**
 * isDottedQuad (read-ports.ts) on bytes: four decimal octets of at most three digits and 255. Returns
 * 1 with the value in QUAD[0] for a canonical text, -1 for one with a leading zero, 0 for no quad.
 */
function dottedQuadAt(buf: Uint8Array, start: number, end: number): number {
  let octets = 0;
  let value = 0;
  let digits = 0;
  let acc = 0;
  let canonical = 1;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : buf[i]!;
    if (c === 46 /* . */) {
      if (digits === 0 || value > 255 || ++octets > 4) return 0;
      acc = acc * 256 + value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      if (digits === 1 && value === 0) canonical = -1;
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return 0;
    }
  }
  if (octets !== 4) return 0;
  QUAD[0] = acc;
  return canonical;
}
