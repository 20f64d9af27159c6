import { type JsonBytes, type OutputRecord, writeValue } from '../output/record-kind';
import { toAsciiJson } from '../output/json';
import { PORT_REPORTER_RECORD_KEYS } from './record';

/**
 * A PortReporterRecord as JSON: the same bytes as the general encoder (writeRecordJson), written in
 * runs of fields that repeat from record to record, each run encoded once and copied after:
 *   - ComputerName … Protocol: the same for the rows of one second (about 20 on a busy server);
 *   - ProcessPath … ProcessStartTime: the same for every row of one process (keyed by its Modules,
 *     one frozen array per PR-PIDS block), ~70 % of a record's bytes;
 *   - LifetimeSeconds … SourceFile: the same for every row of a file.
 * A run is reused only when every value in it is identical (===; arrays only frozen ones, which cannot
 * change, or empty ones), so the output cannot differ (test/unit/record-json.test.ts).
 */
const KEYS = PORT_REPORTER_RECORD_KEYS;
const PREFIX = KEYS.map((k, i) => Buffer.from(`${i === 0 ? '{' : ','}${toAsciiJson(k)}:`, 'latin1'));
const HEAD = [0, 5] as const; // ComputerName … Protocol
const PROCESS = [12, 18] as const; // ProcessPath … ProcessStartTime
const TAIL = [18, 23] as const; // LifetimeSeconds … SourceFile
const SOURCE_LINE = 23;

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

function sameValues(r: OutputRecord, from: number, run: Run): boolean {
  const v = run.values;
  for (let i = 0; i < v.length; i++) if (r[KEYS[from + i]!] !== v[i]) return false;
  return true;
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

let head: Run | undefined;
let tail: Run | undefined;
let lastProcess: Run | undefined;
const processRuns = new WeakMap<object, Run>();

export function writePortReporterJson(r: OutputRecord, out: JsonBytes): void {
  // Head.
  if (head && sameValues(r, HEAD[0], head)) out.bytes(head.bytes);
  else {
    const values = valuesOf(r, HEAD[0], HEAD[1]);
    if (values.every(stable)) head = { values, bytes: encodeKept(r, HEAD[0], HEAD[1], out) };
    else encode(r, HEAD[0], HEAD[1], out);
  }
  encode(r, HEAD[1], PROCESS[0], out);
  // The process's fields.
  const modules = r.Modules;
  const byModules = Array.isArray(modules) && Object.isFrozen(modules);
  const cached = byModules ? processRuns.get(modules) : lastProcess;
  if (cached && sameValues(r, PROCESS[0], cached)) out.bytes(cached.bytes);
  else {
    const values = valuesOf(r, PROCESS[0], PROCESS[1]);
    if (values.every(stable)) {
      const run = { values, bytes: encodeKept(r, PROCESS[0], PROCESS[1], out) };
      if (byModules) processRuns.set(modules, run);
      else lastProcess = run;
    } else encode(r, PROCESS[0], PROCESS[1], out);
  }
  // Tail: FlagReasons is a new array in every record; an empty one always reads [].
  const reasons = r.FlagReasons;
  if (Array.isArray(reasons) && reasons.length === 0) {
    const t = tail;
    if (t && r.LifetimeSeconds === t.values[0] && r.RemoteHostName === t.values[1] && r.Flagged === t.values[2] && r.SourceFile === t.values[4]) out.bytes(t.bytes);
    else {
      const values = valuesOf(r, TAIL[0], TAIL[1]);
      values[3] = null;
      if (values.every(stable)) tail = { values, bytes: encodeKept(r, TAIL[0], TAIL[1], out) };
      else encode(r, TAIL[0], TAIL[1], out);
    }
  } else encode(r, TAIL[0], TAIL[1], out);
  out.bytes(PREFIX[SOURCE_LINE]!);
  writeValue(r.SourceLine, out);
  out.ascii('}');
}
