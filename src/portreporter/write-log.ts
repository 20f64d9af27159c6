/**
 * The files of `record`: sets of PR-INITIAL / PR-PORTS / PR-PIDS (+ PR-EVENTS with --jsonl) that share
 * a suffix, appended to, rotated, and kept whole through crashes and full disks.
 *
 * Crash safety rests on three rules. Every record (a PORTS row, a PIDS block, a JSON line) is one
 * write() of whole lines to a file opened O_APPEND, so a kill -9 between two writes leaves whole
 * records. A write the OS takes only in part (a full disk) is cut back to the previous size at once.
 * And at start the newest set is repaired: anything after its last whole record (power loss) is cut.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Endpoint, ProcessInfo } from '../platform/types';
import { toAsciiJson } from '../output/json';
import { eventsFileName, fileSuffix, logFileName, logHeader, portsRow, processBlock, type HeaderInfo, type LogKind } from './write-format';

export interface RotationPolicy {
  /** A new set at every start (otherwise the newest set in the directory is continued). */
  start: boolean;
  /** A new set when the local date changes. */
  daily: boolean;
  /** A new set when a file would grow past maxBytes. */
  size: boolean;
  maxBytes: number;
}

/** A file we only ever append whole records to. */
class AppendFile {
  private fd: number | null = null;
  size = 0;
  dirty = false;

  constructor(readonly path: string, private readonly header: string) {}

  /** True once the file holds more than its header. */
  get hasRecords(): boolean {
    return this.size > Buffer.byteLength(this.header);
  }

  open(): void {
    if (this.fd !== null) return;
    this.fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Writes one record in one write(); the file is unchanged if it fails (header written first if new). */
  append(text: string): void {
    this.create();
    this.writeWhole(Buffer.from(text, 'utf8'));
  }

  /** Opens the file and writes its header if it is new. */
  create(): void {
    this.open();
    if (this.size === 0 && this.header) this.writeWhole(Buffer.from(this.header, 'utf8'));
  }

  private writeWhole(buf: Buffer): void {
    const before = this.size;
    let written = 0;
    try {
      written = fs.writeSync(this.fd!, buf);
    } catch (err) {
      this.cutBack(before);
      throw err;
    }
    if (written !== buf.length) {
      this.cutBack(before);
      throw Object.assign(new Error(`short write to ${this.path}: ${written} of ${buf.length} bytes`), { code: 'ENOSPC' });
    }
    this.size = before + written;
    this.dirty = true;
  }

  private cutBack(size: number): void {
    try {
      fs.ftruncateSync(this.fd!, size);
    } catch {
      // the repair at the next start cuts whatever is left after the last whole record
    }
  }

  sync(): void {
    if (this.fd !== null && this.dirty) {
      try {
        fs.fsyncSync(this.fd);
      } catch {
        // fsync can fail on a full disk; the data stays in the page cache and the next sync retries
        return;
      }
      this.dirty = false;
    }
  }

  close(): void {
    if (this.fd === null) return;
    this.sync();
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Cuts a file back to its last whole record: after the last line end for line files, after the last
 * blank line for block files (PIDS, INITIAL: a block ends with one). Returns the bytes removed.
 */
export function repairFile(file: string, blocks: boolean): number {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return 0;
  }
  if (data.length === 0) return 0;
  let keep: number;
  if (blocks) {
    if (data.subarray(-4).toString('latin1') === '\r\n\r\n' || data.subarray(-2).toString('latin1') === '\n\n') return 0;
    const crlf = data.lastIndexOf('\r\n\r\n');
    const lf = data.lastIndexOf('\n\n');
    keep = Math.max(crlf >= 0 ? crlf + 4 : 0, lf >= 0 ? lf + 2 : 0);
  } else {
    if (data[data.length - 1] === 0x0a) return 0;
    keep = data.lastIndexOf(0x0a) + 1;
  }
  fs.truncateSync(file, keep);
  return data.length - keep;
}

const SET_FILE = /^PR-(PORTS|PIDS|INITIAL)-(\d{2}-\d{2}-\d{1,2}-\d{1,2}-\d{1,2}-\d{1,2}(?:-\d+)?)\.log$|^PR-EVENTS-(\d{2}-\d{2}-\d{1,2}-\d{1,2}-\d{1,2}-\d{1,2}(?:-\d+)?)\.jsonl$/;

/** The suffix of the newest set in dir (by the modification time of its files), or null. */
export function newestSet(dir: string): string | null {
  let best: { suffix: string; mtime: number } | null = null;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const m = SET_FILE.exec(name);
    if (!m) continue;
    const mtime = fs.statSync(path.join(dir, name)).mtimeMs;
    if (!best || mtime > best.mtime) best = { suffix: (m[2] ?? m[3])!, mtime };
  }
  return best?.suffix ?? null;
}

function setFiles(dir: string, suffix: string) {
  return {
    INITIAL: path.join(dir, logFileName('INITIAL', suffix)),
    PORTS: path.join(dir, logFileName('PORTS', suffix)),
    PIDS: path.join(dir, logFileName('PIDS', suffix)),
    EVENTS: path.join(dir, eventsFileName(suffix)),
  };
}

/** The local calendar day a suffix was started (yy-MM-d-…), for daily rotation of a continued set. */
function suffixDay(suffix: string): string {
  const [yy, mm, d] = suffix.split('-');
  return `${yy}-${Number(mm)}-${Number(d)}`;
}

function localDay(date: Date): string {
  return `${String(date.getFullYear() % 100).padStart(2, '0')}-${date.getMonth() + 1}-${date.getDate()}`;
}

/** Key under which a process's PIDS block is written once per set. */
export function processKey(pid: number, process: ProcessInfo | null): string {
  return `${pid}|${process?.startTime ? process.startTime.getTime() : ''}`;
}

const PIDS_BLOCK = /^Process ID: (\d+)\r?\n(?:.*\r?\n)*?Process start UTC: (.*?)\r?$/gm;

function writtenProcesses(file: string): Set<string> {
  const written = new Set<string>();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return written;
  }
  for (const m of text.matchAll(PIDS_BLOCK)) {
    const start = m[2] ? Date.parse(m[2]) : NaN;
    written.add(`${m[1]}|${Number.isNaN(start) ? '' : start}`);
  }
  return written;
}

export interface LogWriterOptions {
  dir: string;
  rotation: RotationPolicy;
  jsonl: boolean;
  /** Everything a header needs but the start time. */
  header: Omit<HeaderInfo, 'started' | 'pidsFile'>;
  /** One warning line for stderr (repairs, disk full, recovery). */
  warn: (line: string) => void;
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
}

type PendingRecord =
  | { type: 'port'; endpoint: Endpoint; process: ProcessInfo | null; seen: Date; processEndpoints: readonly Endpoint[] }
  | { type: 'event'; record: Record<string, unknown>; time: Date }
  | { type: 'initial'; text: string };

/** Records held in memory while the disk is full, at most; beyond this the oldest are dropped (counted). */
const MAX_PENDING = 100_000;

/** Writes records to the current set, rotating as the policy says; see the module comment for safety. */
export class LogWriter {
  readonly counters: WriterCounters = { portsRows: 0, pidsBlocks: 0, events: 0, rotations: 0, writeFailures: 0, dropped: 0, repairedBytes: 0 };
  private suffix = '';
  private setDay = '';
  private files!: Record<LogKind | 'EVENTS', AppendFile>;
  /**
   * Processes with a block in this set's PR-PIDS, with the modules of their last block ('\n'-joined;
   * null: written by an earlier run of a continued set, modules not compared).
   */
  private pidsWritten = new Map<string, string | null>();
  private pending: PendingRecord[] = [];
  private outageSince: Date | null = null;
  /** Every set file this writer has written to, oldest first (for the summary and tests). */
  readonly setsWritten: string[] = [];

  private constructor(private readonly options: LogWriterOptions) {}

  /** Creates the directory (owner only), repairs the newest set, and opens or continues a set. */
  static open(options: LogWriterOptions, now: Date): LogWriter {
    const writer = new LogWriter(options);
    createLogDir(options.dir);
    const newest = newestSet(options.dir);
    if (newest) {
      const files = setFiles(options.dir, newest);
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
      !(options.rotation.daily && suffixDay(newest) !== localDay(now)) &&
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
    for (let n = 1; Object.values(setFiles(this.options.dir, suffix)).some((f) => fs.existsSync(f)); n++) suffix = `${base}-${n}`;
    this.useSet(suffix, now, false);
  }

  private useSet(suffix: string, now: Date, continued: boolean): void {
    this.closeFiles();
    const paths = setFiles(this.options.dir, suffix);
    const info: HeaderInfo = { ...this.options.header, started: now, pidsFile: path.basename(paths.PIDS) };
    this.files = {
      INITIAL: new AppendFile(paths.INITIAL, logHeader('INITIAL', info)),
      PORTS: new AppendFile(paths.PORTS, logHeader('PORTS', info)),
      PIDS: new AppendFile(paths.PIDS, logHeader('PIDS', info)),
      EVENTS: new AppendFile(paths.EVENTS, ''),
    };
    this.suffix = suffix;
    this.setDay = continued ? suffixDay(suffix) : localDay(now);
    this.pidsWritten = new Map(continued ? [...writtenProcesses(paths.PIDS)].map((k) => [k, null] as const) : []);
    if (continued) {
      for (const f of Object.values(this.files)) if (fs.existsSync(f.path)) f.open();
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
      this.writeFailed(err);
    }
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
    while (this.pending.length > 0) {
      const record = this.pending[0]!;
      try {
        this.writeRecord(record, now);
      } catch (err) {
        this.writeFailed(err);
        return;
      }
      this.pending.shift();
    }
    if (this.outageSince) {
      const seconds = Math.round((now.getTime() - this.outageSince.getTime()) / 1000);
      this.options.warn(`writing again to ${this.options.dir} after ${seconds} s; ${this.counters.writeFailures} write(s) had failed, ${this.counters.dropped} record(s) dropped`);
      this.outageSince = null;
    }
  }

  private writeRecord(record: PendingRecord, now: Date): void {
    if (this.options.rotation.daily && localDay(now) !== this.setDay) this.rotate(now);
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
    if (this.outageSince) return;
    this.outageSince = new Date();
    const code = (err as NodeJS.ErrnoException)?.code;
    const what = code === 'ENOSPC' ? 'no space left on device' : code === 'EDQUOT' ? 'disk quota exceeded' : err instanceof Error ? err.message : String(err);
    this.options.warn(`cannot write to ${this.options.dir}: ${what}; holding records in memory and retrying at every poll`);
  }

  /** Makes everything written so far durable (called every few seconds and at the end). */
  sync(): void {
    for (const f of Object.values(this.files)) f.sync();
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
}

/**
 * The log directory, readable by administrators only: mode 0700 on POSIX (root runs the recorder);
 * on Windows inheritance is cut and only Administrators and SYSTEM get access (icacls, by SID so it
 * works in every language). An existing directory is left as the administrator set it up.
 */
export function createLogDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') {
    execFileSync('icacls', windowsLogDirAcl(dir), { stdio: 'ignore', windowsHide: true });
  } else {
    fs.chmodSync(dir, 0o700);
  }
}

/** icacls arguments that restrict a directory to Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18). */
export function windowsLogDirAcl(dir: string): string[] {
  return [dir, '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '/grant:r', '*S-1-5-18:(OI)(CI)F'];
}
