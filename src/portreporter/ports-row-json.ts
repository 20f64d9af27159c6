import { type JsonBytes, writeRecordJson } from '../output/record-kind';
import { type ByteRowState, scanned, scanPortsBytes } from './read-ports-bytes';
import type { RowContext } from './read-ports';
import type { ProcessDetail } from './read-process';
import type { PortReporterRecord } from './record';
import { PortReporterRecordKind } from './record-kind';
import { fieldsJson, SOURCE_LINE_PREFIX, writeRecordEnd, writeRowBytes } from './record-json';

/**
 * `parse --format jsonl|json` of a PR-PORTS row without a record: the row's bytes are read
 * (scanPortsBytes, the very checks of parsePortsBytes) and its JSON is written straight into the
 * output. The bytes are those of the record parsePortsBytes makes, joined with its process detail
 * (correlate.ts, enrich) and written by writePortReporterJson, so the output cannot tell the paths
 * apart (test/unit/portreporter-row-bytes.test.ts runs both on the same rows, generated mutations included).
 * Each record is about 700 bytes, of which a row adds fewer than 100: the fields that repeat are
 * encoded once and copied after:
 *   - ComputerName … Event: once per second of the log (the time cached by the row reader);
 *   - OwningProcess … ProcessStartTime: once per process (its image and user strings, which the row
 *     reader keeps per PID, and the PR-PIDS block the row matches, compared by identity), followed in
 *     the same bytes by LifetimeSeconds … SourceFile, the same for every row of the file (no DNS, no
 *     flags: the path is taken only without --resolve, criteria and filters, parse-parallel.ts's
 *     encodedApplies), and the `"SourceLine":` key: one copy per row for ~75 % of its bytes.
 * A native copy costs about 30 ns whatever its size and a copy by hand about 4 ns a byte here, so
 * fewer, longer runs are what makes this path fast.
 * A row this reader declines (a malformed or unusual one) takes the record path, into the same output
 * and in its place.
 */

/** Where the encoded records go, and how many went (a LogParser writes into it while it is set). */
export interface EncodeTarget {
  out: JsonBytes;
  /** json: each record as `,\n{…}` (the emitter opens the array); jsonl: `{…}\n`. */
  json: boolean;
  records: number;
  /** Of those, records with Flagged true (from our event log; --fail-on-flag counts them). */
  flagged: number;
}

/** Appends records (of lines other than the data rows written here) as the output writes them, and empties the array. */
export function encodeRecords(records: PortReporterRecord[], target: EncodeTarget): void {
  const out = target.out;
  for (const r of records) {
    if (r.Flagged) target.flagged++;
    if (target.json) out.ascii(',\n');
    writeRecordJson(PortReporterRecordKind, r as unknown as Record<string, unknown>, out);
    if (!target.json) out.ascii('\n');
  }
  target.records += records.length;
  records.length = 0;
}

/** What the row path needs of a PR-PIDS index (correlate.ts's ProcessIndex). */
export interface ProcessLookup {
  lookup(pid: number, timeLocal: string | null): ProcessDetail | undefined;
}

interface ProcessRun {
  image: string | null;
  user: string | null;
  detail: ProcessDetail | undefined;
  /** OwningProcess … ProcessStartTime, then the file's LifetimeSeconds … SourceFile and `,"SourceLine":`. */
  bytes: Buffer;
}

const PROCESS_FROM = 10; // OwningProcess
const TAIL_FROM = 18; // LifetimeSeconds
const PROCESS_RUNS_MAX = 4096;
const JSON_SEPARATOR = Buffer.from(',\n', 'latin1');

export class PortsRowJson {
  private headComputer: string | null | undefined;
  private headUtc: string | null | undefined;
  private headLocal: string | null | undefined;
  private head: Buffer | undefined;
  private readonly tail: Buffer;
  private readonly processes = new Map<number, ProcessRun>();

  constructor(sourceFile: string) {
    // A PR-PORTS row's record has no lifetime, no host name and no flag.
    this.tail = fieldsJson([null, null, false, [], sourceFile], TAIL_FROM);
  }

  /** Writes the row's record into target and returns true; false (nothing written) when the record path must read it. */
  write(buf: Buffer, start: number, end: number, lineNo: number, ctx: RowContext, memory: ByteRowState, index: ProcessLookup | undefined, target: EncodeTarget): boolean {
    if (!scanPortsBytes(buf, start, end, ctx, memory, false)) return false;
    const r = scanned;
    const out = target.out;
    if (target.json) out.bytes(JSON_SEPARATOR);

    const computer = ctx.computerName;
    const utc = ctx.lastUtc ?? null;
    const local = ctx.lastLocal ?? null;
    let head = this.head;
    if (head === undefined || computer !== this.headComputer || utc !== this.headUtc || local !== this.headLocal) {
      head = this.head = fieldsJson([computer, utc, local, 'Opened'], 0);
      this.headComputer = computer;
      this.headUtc = utc;
      this.headLocal = local;
    }
    out.bytes(head);

    writeRowBytes(out, buf, r);

    // The process: what enrich (correlate.ts) fills in from the block the row matches.
    const pid = r.pid;
    const detail = index?.lookup(pid, local);
    let run = this.processes.get(pid);
    if (run === undefined || run.image !== r.image || run.user !== r.user || run.detail !== detail) {
      const values =
        detail === undefined
          ? [pid, r.image, null, null, r.user, null, null, null]
          : [pid, r.image ?? detail.imageName, detail.imagePath, detail.commandLine, r.user ?? detail.user, detail.services, detail.modules, detail.startUtc];
      if (this.processes.size >= PROCESS_RUNS_MAX && run === undefined) this.processes.clear();
      run = { image: r.image, user: r.user, detail, bytes: Buffer.concat([fieldsJson(values, PROCESS_FROM), this.tail, SOURCE_LINE_PREFIX]) };
      this.processes.set(pid, run);
    }
    writeRecordEnd(out, run.bytes, lineNo, !target.json);
    target.records++;
    return true;
  }
}
