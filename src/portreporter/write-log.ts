/**
 * The files of `record`: sets of PR-INITIAL / PR-PORTS / PR-PIDS (+ PR-EVENTS with --jsonl) that share
 * a suffix, appended to, rotated, and kept whole through crashes and full disks.
 *
 * Crash safety rests on three rules. Every record (a PORTS row, a PIDS block, a JSON line) is one
 * write() of whole lines to a file opened O_APPEND, so a kill -9 between two writes leaves whole
 * records. A write the OS takes only in part (a full disk) is cut back to the previous size at once.
 * And at start the newest set is repaired: anything after its last whole record (power loss) is cut.
 *
 * This file is the writer (sets, rotation, the outage backlog); one job per file beside it:
 * append-file.ts (one file's whole-record appends), repair.ts (crash repair), log-set.ts (finding
 * sets), pids-written.ts (a continued set's PIDS blocks), log-dir.ts (the directory and its ACL).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Endpoint, ProcessInfo } from '../platform/types';
import { toAsciiJson } from '../output/json';
import { EventId, type EventLog } from '../eventlog/types';
import { AppendFile } from './append-file';
import { nextLocalMidnight, suffixNextMidnight } from './daily';
import { prepareLogDir, UnsafeLocationError, type DirIdentity } from './log-dir';
import { newestSet, setFiles } from './log-set';
import { processKey, writtenProcesses } from './pids-written';
import { repairFile } from './repair';
import { applyRetention, retentionActive, type RetentionPolicy } from './retention';
import { fileSuffix, logHeader, portsRow, processBlock, type HeaderInfo, type LogKind } from './write-format';

export interface RotationPolicy {
  /** A new set at every start (otherwise the newest set in the directory is continued). */
  start: boolean;
  /** A new set at local midnight (daily.ts). */
  daily: boolean;
  /** A new set when a file would grow past maxBytes. */
  size: boolean;
  maxBytes: number;
}

export interface LogWriterOptions {
  dir: string;
  rotation: RotationPolicy;
  jsonl: boolean;
  /** Everything a header needs but the start time. */
  header: Omit<HeaderInfo, 'started' | 'pidsFile'>;
  /** One warning line for stderr (repairs, disk full, recovery). */
  warn: (line: string) => void;
  /** The system log: write failures, recovery, the directory replaced (besides the stderr line). */
  eventLog?: EventLog;
  /** --keep / --max-total: old sets removed at start, at every new set and, for a size, at every sync. */
  retention?: RetentionPolicy;
}

export interface WriterCounters {
  portsRows: number;
  pidsBlocks: number;
  events: number;
  rotations: number;
  /** Write attempts that failed (full disk, I/O error). */
  writeFailures: number;
  /** Records dropped because too many were held during an outage. */
  dropped: number;
  /** Bytes cut from the newest set at start (a partial record from a crash). */
  repairedBytes: number;
  /** Times the log directory or a log file was found deleted or replaced while recording. */
  replacements: number;
  /** Old sets removed by --keep / --max-total. */
  setsRemoved: number;
}

type PendingRecord =
  | { type: 'port'; endpoint: Endpoint; process: ProcessInfo | null; seen: Date; processEndpoints: readonly Endpoint[] }
  | { type: 'event'; record: Record<string, unknown>; time: Date }
  | { type: 'initial'; text: string };

/** Records held in memory while the disk is full, at most; beyond this the oldest are dropped (counted). */
const MAX_PENDING = 100_000;

/** Writes records to the current set, rotating as the policy says; see the module comment for safety. */
export class LogWriter {
  readonly counters: WriterCounters = { portsRows: 0, pidsBlocks: 0, events: 0, rotations: 0, writeFailures: 0, dropped: 0, repairedBytes: 0, replacements: 0, setsRemoved: 0 };
  private suffix = '';
  /** With daily rotation: the local midnight (epoch ms) at which the current set ends. */
  private nextDayAt = Infinity;
  private files!: Record<LogKind | 'EVENTS', AppendFile>;
  /**
   * Processes with a block in this set's PR-PIDS, with the modules of their last block ('\n'-joined;
   * null: written by an earlier run of a continued set, modules not compared).
   */
  private pidsWritten = new Map<string, string | null>();
  private pending: PendingRecord[] = [];
  /** performance.now() when writing started failing: a wall-clock step cannot distort it. */
  private outageSince: number | null = null;
  /** The directory we write into (real path, dev, ino), checked at every flush. */
  private dir!: DirIdentity;
  /** Bytes of the sets other than the current one, as last listed (for --max-total between new sets). */
  private olderBytes = 0;
  /** Every set file this writer has written to, oldest first (for the summary and tests). */
  readonly setsWritten: string[] = [];

  private constructor(private readonly options: LogWriterOptions) {}

  /** Creates the directory (owner only), repairs the newest set, and opens or continues a set. */
  static open(options: LogWriterOptions, now: Date): LogWriter {
    const writer = new LogWriter(options);
    writer.dir = prepareLogDir(options.dir);
    const newest = newestSet(writer.dir.path);
    if (newest) {
      const files = setFiles(writer.dir.path, newest);
      for (const [kind, file] of Object.entries(files)) {
        const cut = repairFile(file, kind === 'PIDS' || kind === 'INITIAL');
        if (cut > 0) {
          writer.counters.repairedBytes += cut;
          options.warn(`repaired ${path.basename(file)}: removed a partial last record (${cut} bytes) left by an abrupt stop`);
        }
      }
    }
    // A set is continued only by a run that writes the same files: a PR-EVENTS log then covers its whole
    // set, which is what lets parse/stats count a set from its event log alone (read.ts withoutDuplicateSets).
    const continuable =
      newest &&
      !options.rotation.start &&
      !(options.rotation.daily && now.getTime() >= suffixNextMidnight(newest)) &&
      fs.existsSync(setFiles(options.dir, newest).EVENTS) === options.jsonl;
    if (continuable) writer.useSet(newest, now, true);
    else writer.newSet(now);
    if (continuable && options.rotation.size && writer.wouldOverflow(0)) writer.rotate(now);
    return writer;
  }

  get currentSuffix(): string {
    return this.suffix;
  }

  get paths(): Record<LogKind | 'EVENTS', string> {
    return { INITIAL: this.files.INITIAL.path, PORTS: this.files.PORTS.path, PIDS: this.files.PIDS.path, EVENTS: this.files.EVENTS.path };
  }

  /** Records waiting for the disk. */
  get backlog(): number {
    return this.pending.length;
  }

  private newSet(now: Date): void {
    const base = fileSuffix(now);
    let suffix = base;
    for (let n = 1; Object.values(setFiles(this.dir.path, suffix)).some(lexists); n++) suffix = `${base}-${n}`;
    this.useSet(suffix, now, false);
  }

  private useSet(suffix: string, now: Date, continued: boolean): void {
    this.closeFiles();
    const paths = setFiles(this.dir.path, suffix);
    const info: HeaderInfo = { ...this.options.header, started: now, pidsFile: path.basename(paths.PIDS) };
    this.files = {
      INITIAL: new AppendFile(paths.INITIAL, logHeader('INITIAL', info), !continued),
      PORTS: new AppendFile(paths.PORTS, logHeader('PORTS', info), !continued),
      PIDS: new AppendFile(paths.PIDS, logHeader('PIDS', info), !continued),
      EVENTS: new AppendFile(paths.EVENTS, '', !continued),
    };
    this.suffix = suffix;
    this.nextDayAt = continued ? suffixNextMidnight(suffix) : nextLocalMidnight(now);
    this.pidsWritten = new Map(continued ? [...writtenProcesses(paths.PIDS)].map((k) => [k, null] as const) : []);
    if (continued) {
      for (const f of Object.values(this.files)) if (lexists(f.path)) f.open();
    }
    this.setsWritten.push(suffix);
    // Like Port Reporter, a set's logs exist from its start, even before they hold a record. A failure
    // (full disk) is retried by the first record written to the file.
    try {
      if (!continued && this.setsWritten.length === 1) this.files.INITIAL.create();
      this.files.PORTS.create();
      this.files.PIDS.create();
      if (this.options.jsonl) this.files.EVENTS.create();
    } catch (err) {
      if (err instanceof UnsafeLocationError) throw err;
      this.writeFailed(err);
    }
    this.retain();
  }

  /** Removes the oldest whole sets beyond --keep / --max-total (retention.ts); never the current one. */
  private retain(): void {
    const policy = this.options.retention;
    if (!retentionActive(policy)) return;
    let result;
    try {
      result = applyRetention(this.dir.path, this.suffix, policy);
    } catch (err) {
      this.options.warn(`cannot apply --keep/--max-total in ${this.options.dir}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.counters.setsRemoved += result.removed.length;
    this.olderBytes = Math.max(0, result.bytesKept - this.currentBytes());
    if (result.removed.length > 0) {
      this.options.eventLog?.write('info', `portqry-ts record: removed ${result.removed.length} old log set(s) from ${this.options.dir} (${result.bytesRemoved} bytes): ${result.removed.join(', ')}`, EventId.LogRotated);
    }
    if (result.failures.length > 0) this.options.warn(`cannot remove an old log set: ${result.failures[0]}`);
  }

  private currentBytes(): number {
    return Object.values(this.files).reduce((sum, f) => sum + f.size, 0);
  }

  private rotate(now: Date): void {
    this.counters.rotations++;
    this.newSet(now);
  }

  private wouldOverflow(bytes: number, ...kinds: (LogKind | 'EVENTS')[]): boolean {
    const max = this.options.rotation.maxBytes;
    const check = kinds.length ? kinds : (['PORTS', 'PIDS', 'EVENTS'] as const);
    // A file holding no record yet is never rotated: a record larger than the limit still gets written.
    return check.some((k) => this.files[k].hasRecords && this.files[k].size + bytes > max);
  }

  /** PR-INITIAL: one block per process that owned an endpoint when recording started (pid null: no known owner). */
  initial(processes: readonly { pid: number | null; process: ProcessInfo | null; endpoints: readonly Endpoint[] }[], recorded: Date): void {
    for (const p of processes) this.enqueue({ type: 'initial', text: processBlock(p.pid, p.process, p.endpoints, recorded) });
  }

  /** A new endpoint: its PORTS row, preceded by its process's PIDS block the first time in this set. */
  port(endpoint: Endpoint, process: ProcessInfo | null, seen: Date, processEndpoints: readonly Endpoint[]): void {
    this.enqueue({ type: 'port', endpoint, process, seen, processEndpoints });
  }

  /** One line of the JSONL event log (a normalized RecordEvent); ignored without --jsonl. */
  event(record: Record<string, unknown>, time: Date): void {
    if (this.options.jsonl) this.enqueue({ type: 'event', record, time });
  }

  private enqueue(record: PendingRecord): void {
    this.pending.push(record);
    if (this.pending.length > MAX_PENDING) {
      this.pending.shift();
      this.counters.dropped++;
    }
  }

  /**
   * Writes what is pending, in order, stopping at the first failure (it is retried at the next flush).
   * Rotation happens here, between whole records, so no line is split across sets or lost.
   */
  flush(now: Date): void {
    if (!this.checkPlace(now)) return;
    while (this.pending.length > 0) {
      const record = this.pending[0]!;
      try {
        this.writeRecord(record, now);
      } catch (err) {
        if (err instanceof UnsafeLocationError) throw err;
        this.writeFailed(err);
        return;
      }
      this.pending.shift();
    }
    if (this.outageSince !== null) {
      const seconds = Math.round((performance.now() - this.outageSince) / 1000);
      const line = `writing again to ${this.options.dir} after ${seconds} s; ${this.counters.writeFailures} write(s) had failed, ${this.counters.dropped} record(s) dropped`;
      this.options.warn(line);
      this.options.eventLog?.write('info', `portqry-ts record: ${line}`, EventId.WriteRecovered);
      this.outageSince = null;
    }
  }

  /**
   * Is the directory we write into still the one at the path, and is every open file still linked
   * there? Checked once per flush (once per poll): lstat of the directory against the dev+ino seen
   * when it was prepared, fstat of each open file (st_nlink 0: deleted) and lstat of its path (another
   * file in its place). When not, the old files are closed (nothing is ever written into an unlinked
   * file), the directory is prepared again under the same safety rules (recreated 0700 if it is gone;
   * refused with UnsafeLocationError if what is there now is unsafe) and a new set is started; one
   * warning on stderr and one LogDirReplaced event. Returns false while the directory cannot be
   * recreated (records stay pending, as for a full disk).
   */
  private checkPlace(now: Date): boolean {
    const where = this.options.dir;
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(this.dir.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return true; // cannot tell; a failing write says why
    }
    let problem: string | null = null;
    if (!st) problem = `log directory ${where} disappeared`;
    else if (!st.isDirectory() || st.dev !== this.dir.dev || st.ino !== this.dir.ino) problem = `log directory ${where} was replaced by another ${st.isDirectory() ? 'directory' : 'file'}`;
    if (problem) {
      this.closeFiles();
      try {
        this.dir = prepareLogDir(where);
      } catch (err) {
        if (err instanceof UnsafeLocationError) throw err;
        this.writeFailed(err);
        return false;
      }
      this.replaced(`${problem}; ${st ? 'now writing into the new one' : 'recreated it (mode 0700)'} in a new set`, now);
      return true;
    }
    for (const f of Object.values(this.files)) {
      const fd = f.descriptor;
      if (fd === null) continue;
      let gone = false;
      try {
        const open = fs.fstatSync(fd);
        const there = fs.lstatSync(f.path, { throwIfNoEntry: false });
        gone = open.nlink === 0 || !there || there.ino !== open.ino || there.dev !== open.dev;
      } catch {
        gone = true;
      }
      if (gone) {
        this.closeFiles();
        this.replaced(`log file ${path.basename(f.path)} in ${where} was deleted or replaced while recording; continuing in a new set`, now);
        return true;
      }
    }
    return true;
  }

  private replaced(line: string, now: Date): void {
    this.counters.replacements++;
    this.options.warn(line);
    this.options.eventLog?.write('warning', `portqry-ts record: ${line}`, EventId.LogDirReplaced);
    this.newSet(now);
  }

  private writeRecord(record: PendingRecord, now: Date): void {
    if (this.options.rotation.daily && now.getTime() >= this.nextDayAt) this.rotate(now);
    switch (record.type) {
      case 'initial':
        this.files.INITIAL.append(record.text);
        return;
      case 'event': {
        const line = `${toAsciiJson(record.record)}\n`;
        if (this.options.rotation.size && this.wouldOverflow(Buffer.byteLength(line), 'EVENTS')) this.rotate(now);
        this.files.EVENTS.append(line);
        this.counters.events++;
        return;
      }
      case 'port': {
        const row = portsRow(record.endpoint, record.process, record.seen);
        const pid = record.endpoint.pid;
        const key = pid === null ? null : processKey(pid, record.process);
        const modules = (record.process?.modules ?? []).join('\n');
        const written = key === null ? undefined : this.pidsWritten.get(key);
        if (key !== null && written === null) this.pidsWritten.set(key, modules);
        // A block the first time a process shows up in the set, and again when its modules changed.
        let block = key && (written === undefined || (written !== null && written !== modules)) ? processBlock(pid!, record.process, record.processEndpoints, record.seen) : null;
        if (this.options.rotation.size && (this.wouldOverflow(Buffer.byteLength(row), 'PORTS') || (block !== null && this.wouldOverflow(Buffer.byteLength(block), 'PIDS')))) {
          this.rotate(now);
          block = key ? processBlock(pid!, record.process, record.processEndpoints, record.seen) : null;
        }
        // The block goes first, so a PORTS row never names a process its PIDS file lacks.
        if (block !== null && key) {
          this.files.PIDS.append(block);
          this.pidsWritten.set(key, modules);
          this.counters.pidsBlocks++;
        }
        this.files.PORTS.append(row);
        this.counters.portsRows++;
        return;
      }
    }
  }

  private writeFailed(err: unknown): void {
    this.counters.writeFailures++;
    if (this.outageSince !== null) return;
    this.outageSince = performance.now();
    const code = (err as NodeJS.ErrnoException)?.code;
    const what = code === 'ENOSPC' ? 'no space left on device' : code === 'EDQUOT' ? 'disk quota exceeded' : err instanceof Error ? err.message : String(err);
    const line = `cannot write to ${this.options.dir}: ${what}; holding records in memory and retrying at every poll`;
    this.options.warn(line);
    this.options.eventLog?.write('error', `portqry-ts record: ${line}`, EventId.WriteFailed);
  }

  /** Makes everything written so far durable (called every few seconds and at the end). */
  sync(): void {
    for (const f of Object.values(this.files)) f.sync();
    const max = this.options.retention?.maxTotalBytes;
    if (max != null && this.olderBytes > 0 && this.olderBytes + this.currentBytes() > max) this.retain();
  }

  private closeFiles(): void {
    if (!this.files) return;
    for (const f of Object.values(this.files)) f.close();
  }

  /** Final flush, fsync and close. */
  close(now: Date): void {
    this.flush(now);
    this.closeFiles();
  }

  /** Closes without writing what is pending (after a refusal: nothing more goes to this place). */
  abandon(): void {
    try {
      this.closeFiles();
    } catch {
      // closing is best effort here; the error that stopped the recorder is the one reported
    }
  }
}

/** Whether something, even a dangling link, has this name. */
function lexists(file: string): boolean {
  return fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
}

// The helpers that lived in this file before it was split, under their old import path.
export { createLogDir, windowsLogDirAcl } from './log-dir';
export { newestSet } from './log-set';
export { processKey } from './pids-written';
export { repairFile } from './repair';
