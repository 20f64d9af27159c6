import { COPY_BY_HAND, isUint, JsonBytes, type OutputRecord, putEscape, putUint, writeValue } from '../output/record-kind';
import { toAsciiJson } from '../output/json';
import type { ScannedRow } from './read-ports-bytes';
import { PORT_REPORTER_RECORD_KEYS } from './record';

/**
 * A PortReporterRecord as JSON: the same bytes as the general encoder (writeRecordJson), written in
 * runs of fields that repeat from record to record, each run encoded once and copied after, and the
 * fields that change on every row written straight into the buffer:
 *   - ComputerName … Event: the same for the rows of one second (about 20 on a busy server);
 *   - Protocol … State: written per row without the general encoder's dispatch (one room check for
 *     all six; TCP/UDP and the local address, of which a server has a few, from cached bytes; ports
 *     as digits without a string);
 *   - OwningProcess … ProcessStartTime: the same for every row of one process (keyed by its PID; the
 *     values are compared, the key only finds the candidate), ~70 % of a record's bytes;
 *   - LifetimeSeconds … SourceFile: the same for every row of a file.
 * A run is reused only when every value in it is identical (===; arrays only frozen ones, which cannot
 * change, or empty ones), so the output cannot differ (test/unit/record-json.test.ts). A value of an
 * unexpected type takes the general encoder (writeValue).
 */
const KEYS = PORT_REPORTER_RECORD_KEYS;
const PREFIX = KEYS.map((k, i) => Buffer.from(`${i === 0 ? '{' : ','}${toAsciiJson(k)}:`, 'latin1'));
const HEAD = [0, 4] as const; // ComputerName … Event
const ROW = [4, 10] as const; // Protocol … State
const PROCESS = [10, 18] as const; // OwningProcess … ProcessStartTime
const TAIL = [18, 23] as const; // LifetimeSeconds … SourceFile
const SOURCE_LINE = 23;

/** The fields this encoder reads by name (the record is a PortReporterRecord, but any value is handled). */
interface Fields {
  ComputerName: unknown;
  TimeUtc: unknown;
  TimeLocal: unknown;
  Event: unknown;
  Protocol: unknown;
  LocalAddress: unknown;
  LocalPort: unknown;
  RemoteAddress: unknown;
  RemotePort: unknown;
  State: unknown;
  OwningProcess: unknown;
  ProcessName: unknown;
  ProcessPath: unknown;
  CommandLine: unknown;
  UserName: unknown;
  Services: unknown;
  Modules: unknown;
  ProcessStartTime: unknown;
  LifetimeSeconds: unknown;
  RemoteHostName: unknown;
  Flagged: unknown;
  FlagReasons: unknown;
  SourceFile: unknown;
  SourceLine: unknown;
}

function encode(r: OutputRecord, from: number, to: number, out: JsonBytes): void {
  for (let i = from; i < to; i++) {
    out.bytes(PREFIX[i]!);
    writeValue(r[KEYS[i]!], out);
  }
}

/** Encodes fields [from, to) and returns a copy of their bytes. */
function encodeKept(r: OutputRecord, from: number, to: number, out: JsonBytes): Buffer {
  const start = out.pos;
  encode(r, from, to, out);
  return Buffer.from(out.buf.subarray(start, out.pos));
}

interface Run {
  values: unknown[];
  bytes: Buffer;
}

/**
 * The run's values, kept for comparing. A string is kept as a copy of its own: a field is a slice of
 * a decoded read chunk, and a kept slice would keep the whole chunk alive (one per process: 37 MB
 * more peak RSS on 1 GB). JSON's round trip copies any string exactly, lone surrogates included.
 */
function valuesOf(r: OutputRecord, from: number, to: number): unknown[] {
  const v: unknown[] = [];
  for (let i = from; i < to; i++) {
    const x = r[KEYS[i]!];
    v.push(typeof x === 'string' && x.length >= 13 ? (JSON.parse(JSON.stringify(x)) as string) : x);
  }
  return v;
}

/** A value whose bytes stay what they were: a primitive, or a frozen array of primitives' bytes (writeValue caches those too). */
function stable(v: unknown): boolean {
  return v === null || typeof v !== 'object' || (Array.isArray(v) && Object.isFrozen(v));
}

/** Encodes fields [from, to), and returns them as a run to reuse when every value is stable. */
function newRun(r: OutputRecord, from: number, to: number, out: JsonBytes): Run | undefined {
  const values = valuesOf(r, from, to);
  if (values.every(stable)) return { values, bytes: encodeKept(r, from, to, out) };
  encode(r, from, to, out);
  return undefined;
}

// --- Writing straight into the buffer (the caller has reserved the room) ---------------------------

/**
 * Copies b to pos. A copy by hand costs about 4 ns a byte on the build machine and a native one about
 * 30 ns a call whatever its size (Node 22), so runs longer than COPY_BY_HAND bytes are copied natively.
 */
function put(buf: Buffer, pos: number, b: Uint8Array): number {
  const n = b.length;
  if (n > COPY_BY_HAND) buf.set(b, pos);
  else for (let i = 0; i < n; i++) buf[pos + i] = b[i]!;
  return pos + n;
}


/** The most bytes putString writes for a string of n code units. */
const stringRoom = (n: number): number => 6 * n + 2;

/**
 * A JSON string escaped as toAsciiJson escapes it (the general encoder's writeString: `"` and `\`
 * with a backslash, control characters as JSON.stringify writes them, every code unit above 0x7E as
 * \uxxxx), at pos; stringRoom(s.length) bytes must be free.
 */
function putString(buf: Buffer, pos: number, s: string): number {
  buf[pos++] = 34;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 34 && c !== 92) {
      buf[pos++] = c;
      continue;
    }
    pos = putEscape(buf, pos, c);
  }
  buf[pos++] = 34;
  return pos;
}

const NULL = Buffer.from('null', 'latin1');
const PROTOCOL_TCP = Buffer.from(`${PREFIX[4]!.toString('latin1')}"TCP"`, 'latin1');
const PROTOCOL_UDP = Buffer.from(`${PREFIX[4]!.toString('latin1')}"UDP"`, 'latin1');
/** A fixed upper bound of the bytes of Protocol … State besides the two addresses' strings. */
const ROW_ROOM = PREFIX.slice(ROW[0], ROW[1]).reduce((n, p) => n + p.length, 0) + 5 + 10 + 10 + 4 + 4 + stringRoom(16);

/** LocalAddress, of which a server has a few: its field's bytes by value (bounded). */
const localBytes = new Map<string, Buffer>();
const LOCAL_MAX = 64;

/** Protocol … State, straight into the buffer; false (nothing written) for a value of an unexpected type. */
function writeRow(r: Fields, out: JsonBytes): boolean {
  const proto = r.Protocol;
  const local = r.LocalAddress;
  const lport = r.LocalPort;
  const remote = r.RemoteAddress;
  const rport = r.RemotePort;
  const state = r.State;
  if (
    (typeof local !== 'string' && local !== null) ||
    (typeof remote !== 'string' && remote !== null) ||
    (typeof state !== 'string' && state !== null) ||
    (lport !== null && !isUint(lport)) ||
    (rport !== null && !isUint(rport)) ||
    (proto !== 'TCP' && proto !== 'UDP') ||
    (state !== null && state.length > 16)
  ) {
    return false;
  }
  let localField: Buffer | undefined;
  let localRoom = 4;
  if (local !== null) {
    localField = localBytes.get(local);
    if (localField === undefined) localRoom = stringRoom(local.length);
  }
  out.reserve(ROW_ROOM + (localField === undefined ? localRoom : localField.length) + (remote === null ? 4 : stringRoom(remote.length)));
  const buf = out.buf;
  let pos = put(buf, out.pos, proto === 'TCP' ? PROTOCOL_TCP : PROTOCOL_UDP);
  if (localField !== undefined) pos = put(buf, pos, localField);
  else {
    const start = pos;
    pos = put(buf, pos, PREFIX[5]!);
    if (local === null) pos = put(buf, pos, NULL);
    else {
      pos = putString(buf, pos, local);
      if (localBytes.size >= LOCAL_MAX) localBytes.clear();
      // A copy of the key of its own (a slice would keep its read chunk alive).
      localBytes.set(local.length < 13 ? local : (JSON.parse(JSON.stringify(local)) as string), Buffer.from(buf.subarray(start, pos)));
    }
  }
  pos = put(buf, pos, PREFIX[6]!);
  pos = lport === null ? put(buf, pos, NULL) : putUint(buf, pos, lport);
  pos = put(buf, pos, PREFIX[7]!);
  pos = remote === null ? put(buf, pos, NULL) : putString(buf, pos, remote);
  pos = put(buf, pos, PREFIX[8]!);
  pos = rport === null ? put(buf, pos, NULL) : putUint(buf, pos, rport);
  pos = put(buf, pos, PREFIX[9]!);
  pos = state === null ? put(buf, pos, NULL) : putString(buf, pos, state);
  out.pos = pos;
  return true;
}

const joined = (...parts: (Uint8Array | string)[]): Buffer => Buffer.from(parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('latin1'))).join(''), 'latin1');
// The constant runs between a row's values, each copied in one go.
const ROW_TCP = joined(PREFIX[4]!, '"TCP"', PREFIX[5]!, '"');
const ROW_UDP = joined(PREFIX[4]!, '"UDP"', PREFIX[5]!, '"');
const AFTER_LOCAL = joined('"', PREFIX[6]!);
const REMOTE_OPEN = joined(PREFIX[7]!, '"');
const REMOTE_NULL = joined(PREFIX[7]!, 'null', PREFIX[8]!);
const AFTER_REMOTE = joined('"', PREFIX[8]!);
const STATE_LISTEN = joined(PREFIX[9]!, '"Listen"');
const STATE_ESTABLISHED = joined(PREFIX[9]!, '"Established"');
const STATE_NULL = joined(PREFIX[9]!, 'null');

/**
 * Protocol … State of a row read by scanPortsBytes without address strings: the addresses and the
 * ports' digits are copied from the row's bytes (ASCII, as the scan checked); an address escaped as
 * putString escapes it, a port with leading zeros written from its value.
 */
export function writeRowBytes(out: JsonBytes, row: Buffer, r: ScannedRow): void {
  out.reserve(ROW_ROOM + 6 * (r.localEnd - r.localStart) + 6 * (r.remoteEnd - r.remoteStart) + 8);
  const buf = out.buf;
  const plain = r.plainAddresses;
  let pos = put(buf, out.pos, r.protocol === 'TCP' ? ROW_TCP : ROW_UDP);
  pos = plain ? putPlain(buf, pos, row, r.localStart, r.localEnd) : putAscii(buf, pos, row, r.localStart, r.localEnd);
  pos = put(buf, pos, AFTER_LOCAL);
  pos = putDigits(buf, pos, row, r.localPortStart, r.localPortEnd, r.localPort);
  if (r.remoteAddress === null) pos = put(buf, pos, REMOTE_NULL);
  else {
    pos = put(buf, pos, REMOTE_OPEN);
    pos = plain ? putPlain(buf, pos, row, r.remoteStart, r.remoteEnd) : putAscii(buf, pos, row, r.remoteStart, r.remoteEnd);
    pos = put(buf, pos, AFTER_REMOTE);
  }
  pos = r.remotePort === null ? put(buf, pos, NULL) : putDigits(buf, pos, row, r.remotePortStart, r.remotePortEnd, r.remotePort);
  const state = r.state;
  if (state === 'Established') pos = put(buf, pos, STATE_ESTABLISHED);
  else if (state === 'Listen') pos = put(buf, pos, STATE_LISTEN);
  else if (state === null) pos = put(buf, pos, STATE_NULL);
  else pos = putString(buf, put(buf, pos, PREFIX[9]!), state);
  out.pos = pos;
}

/** The digits of n, which src[start, end) holds: copied when they are String(n) (no leading zero). */
function putDigits(buf: Buffer, pos: number, src: Uint8Array, start: number, end: number, n: number): number {
  if (end - start > 1 && src[start] === 48) return putUint(buf, pos, n);
  for (let i = start; i < end; i++) buf[pos++] = src[i]!;
  return pos;
}

/** src[start, end) as it is: bytes the reader found to be digits and dots. */
function putPlain(buf: Buffer, pos: number, src: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) buf[pos++] = src[i]!;
  return pos;
}

/** The latin1 text of src[start, end) (bytes below 0x80) escaped as putString escapes it, without its quotes. */
function putAscii(buf: Buffer, pos: number, src: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c >= 0x20 && c <= 0x7e && c !== 34 && c !== 92) buf[pos++] = c;
    else pos = putEscape(buf, pos, c);
  }
  return pos;
}

// Made on first use, not when the module loads (the start-up snapshot holds no buffer of ours).
let scratchBytes: JsonBytes | undefined;

/** The JSON of fields [from, from + values.length) with these values, as bytes of their own (`,"Key":value…`). */
export function fieldsJson(values: readonly unknown[], from: number): Buffer {
  const scratch = (scratchBytes ??= new JsonBytes(1 << 12));
  scratch.pos = 0;
  for (let i = 0; i < values.length; i++) {
    scratch.bytes(PREFIX[from + i]!);
    writeValue(values[i], scratch);
  }
  return Buffer.from(scratch.buf.subarray(0, scratch.pos));
}

/** `,"SourceLine":`, for a caller that writes it with the bytes before it (then writeRecordEnd). */
export const SOURCE_LINE_PREFIX: Buffer = PREFIX[SOURCE_LINE]!;

/**
 * Writes `bytes`, which end with SOURCE_LINE_PREFIX, then N and `}` (N an unsigned integer), then a
 * line feed when newline is true: one copy for the runs a record ends with.
 */
export function writeRecordEnd(out: JsonBytes, bytes: Buffer, line: number, newline: boolean): void {
  out.reserve(bytes.length + 12);
  let pos = put(out.buf, out.pos, bytes);
  pos = putUint(out.buf, pos, line);
  out.buf[pos++] = 125; // }
  if (newline) out.buf[pos++] = 10;
  out.pos = pos;
}

let head: Run | undefined;
let tail: Run | undefined;
/** OwningProcess … ProcessStartTime by PID (the run is reused only when all its values are the same). */
const processRuns = new Map<unknown, Run>();
const PROCESS_RUNS_MAX = 4096;

function sameProcess(r: Fields, v: unknown[]): boolean {
  return (
    r.OwningProcess === v[0] &&
    r.ProcessName === v[1] &&
    r.ProcessPath === v[2] &&
    r.CommandLine === v[3] &&
    r.UserName === v[4] &&
    r.Services === v[5] &&
    r.Modules === v[6] &&
    r.ProcessStartTime === v[7]
  );
}

export function writePortReporterJson(record: OutputRecord, out: JsonBytes): void {
  const r = record as unknown as Fields;
  // Head.
  const h = head;
  if (h !== undefined && r.ComputerName === h.values[0] && r.TimeUtc === h.values[1] && r.TimeLocal === h.values[2] && r.Event === h.values[3]) out.bytes(h.bytes);
  else head = newRun(record, HEAD[0], HEAD[1], out);
  // The row's own fields.
  if (!writeRow(r, out)) encode(record, ROW[0], ROW[1], out);
  // The process's fields.
  const pid = r.OwningProcess;
  const cached = processRuns.get(pid);
  if (cached !== undefined && sameProcess(r, cached.values)) out.bytes(cached.bytes);
  else {
    const run = newRun(record, PROCESS[0], PROCESS[1], out);
    if (run !== undefined) {
      if (processRuns.size >= PROCESS_RUNS_MAX && cached === undefined) processRuns.clear();
      processRuns.set(pid, run);
    }
  }
  // Tail: FlagReasons is a new array in every record; an empty one always reads [].
  const reasons = r.FlagReasons;
  if (Array.isArray(reasons) && reasons.length === 0) {
    const t = tail;
    if (t && r.LifetimeSeconds === t.values[0] && r.RemoteHostName === t.values[1] && r.Flagged === t.values[2] && r.SourceFile === t.values[4]) out.bytes(t.bytes);
    else {
      const values = valuesOf(record, TAIL[0], TAIL[1]);
      values[3] = null;
      if (values.every(stable)) tail = { values, bytes: encodeKept(record, TAIL[0], TAIL[1], out) };
      else encode(record, TAIL[0], TAIL[1], out);
    }
  } else encode(record, TAIL[0], TAIL[1], out);
  const line = r.SourceLine;
  if (isUint(line)) writeRecordEnd(out, SOURCE_LINE_PREFIX, line, false);
  else {
    out.bytes(PREFIX[SOURCE_LINE]!);
    writeValue(line, out);
    out.ascii('}');
  }
}
