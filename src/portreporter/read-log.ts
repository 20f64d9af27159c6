import * as path from 'node:path';
import { DataError } from '../errors';
import { type LineBatch, lineOf, readLineBatches } from './read-lines';
import { eventToRecord } from './read-events';
import { parsePortsRow, type RowContext } from './read-ports';
import { createByteRowState, parsePortsBytes } from './read-ports-bytes';
import { isBlockSeparator, parseSystemDate, ProcessBlockParser, type ProcessDetail, utcOfLocal } from './read-process';
import type { PortReporterRecord } from './record';
import { type EncodeTarget, encodeRecords, PortsRowJson } from './ports-row-json';
import type { LocalClock } from './time';

/**
 * What the reader needs of a PR-PIDS index (correlate.ts's ProcessIndex): fill a PR-PORTS record's
 * process detail. Declared here so that the reader does not import the correlator that imports it.
 */
export interface ProcessIndex {
  /** The computer name of the PR-PIDS header. */
  readonly computerName: string | null;
  enrich(record: PortReporterRecord): void;
  /** The block a row of this PID at this local time matches (what enrich fills in from). */
  lookup(pid: number, timeLocal: string | null): ProcessDetail | undefined;
}

/**
 * One log file, whatever its kind: the kind is read from its header (never its name), and a header
 * that comes again (files concatenated after rotation) starts over. PR-PORTS rows and PR-INITIAL
 * endpoints become records; PR-PIDS blocks are process detail for correlation; our JSONL event log
 * maps line by line.
 */
export type LogKind = 'ports' | 'pids' | 'initial' | 'events';

export interface LogSource {
  /** SourceFile of its records: the path as given or found, `-` for stdin. */
  name: string;
  /** The file's path, when it is one: correlation looks for PR-PIDS beside it; its folder names the computer. */
  path?: string;
  /** Named by the user (not being a log is an error) rather than found in a directory or by a glob (skipped). */
  explicit: boolean;
  open(): AsyncIterable<Buffer | string>;
}

/** A file whose first lines are no Port Reporter (or event log) header: exit 65 when named, passed over when found. */
export class NotALogError extends DataError {
  constructor(name: string) {
    super(`not a Port Reporter log: ${name}`);
  }
}

/** Whether err is a file found in a folder or by a wildcard turning out not to be a log: passed over, not an error. */
export function passedOver(err: unknown, source: LogSource): boolean {
  return err instanceof NotALogError && !source.explicit;
}

export interface SkippedLine {
  file: string;
  line: number;
  reason: string;
  /** The file's last line, cut short (a recorder stopped mid-write): skipped, but not an error under --strict. */
  truncated: boolean;
}

export interface LogReadOptions {
  clock: LocalClock;
  /** --computer: the computer name when the logs do not say. */
  computer?: string;
  maxLineBytes?: number;
  /** Called for each unreadable line; throwing from it (--strict) stops the read. */
  onSkip(skip: SkippedLine): void;
  /** Process detail for a PR-PORTS file: the PR-PIDS file its header names, beside it. */
  processIndex?(dir: string, pidsFileName: string): Promise<ProcessIndex | undefined>;
  /** Called once per file, when its kind is known. */
  onKind?(source: LogSource, kind: LogKind): void;
}

const VERSION_LINE = /^Port Reporter Version \S+ Log File(?: - (.*))?$/;
const CHECK_LINE = /^Check (.+?) for corresponding process data$/;
export const PORTS_COLUMNS = 'date,time,protocol,local port,local IP address,remote port,remote IP address,PID,module,user context';

type Mode = 'start' | 'title' | 'ports-header' | 'ports-rows' | 'proc-header' | 'proc-body' | 'events';

/** The line-by-line state machine; the async driver below feeds it and loads process indexes it asks for. */
export class LogParser {
  kind: LogKind | undefined;
  mode: Mode = 'start';
  /** The computer name of a PR-PIDS/PR-INITIAL header. */
  headerComputer: string | null = null;
  systemDateLocal: string | null = null;
  /** Set when a PR-PORTS header names its PR-PIDS file: the driver loads it and calls setIndex. */
  wantsIndex: string | undefined;
  readonly details: ProcessDetail[] = [];
  /** The PR-PIDS index of the current PR-PORTS rows (parse-parallel.ts hands its name to the workers). */
  index: ProcessIndex | undefined;
  private awaitingComputer = false;
  private readonly foreignBody = { count: 0, line: 0 };
  private readonly block = new ProcessBlockParser();
  private readonly rowCtx: RowContext;
  private readonly byteRows = createByteRowState();
  private readonly fallbackComputer: string | null;
  /**
   * Set by parse's encoded path (encode-log.ts): PR-PORTS rows are written there as JSON without a
   * record (ports-row-json.ts); the records of other lines still come out in `out`.
   */
  encodeTarget: EncodeTarget | undefined;
  private rowJson: PortsRowJson | undefined;

  constructor(
    private readonly source: LogSource,
    private readonly options: LogReadOptions,
    /** Keep PR-PIDS/PR-INITIAL blocks in `details` (for building a process index). */
    private readonly keepDetails = false,
  ) {
    this.fallbackComputer = options.computer ?? (source.path ? path.basename(path.dirname(path.resolve(source.path))) || null : null);
    this.rowCtx = { clock: options.clock, computerName: this.fallbackComputer, sourceFile: source.name };
  }

  setIndex(index: ProcessIndex | undefined): void {
    this.wantsIndex = undefined;
    this.index = index;
    this.rowCtx.computerName = index?.computerName ?? this.fallbackComputer;
  }

  /**
   * Feeds one line; appends records to out. raw[rawStart, rawEnd), when given, are the bytes the line
   * was decoded from (without its LF): a PR-PORTS row is read from them when it can be (read-ports-bytes.ts).
   */
  feed(line: string | null, lineNo: number, last: boolean, out: PortReporterRecord[], raw?: Buffer, rawStart = 0, rawEnd = 0): void {
    if (line === null) {
      if (this.mode === 'start') throw this.notALog();
      this.skip(lineNo, 'line too long', last);
      return;
    }
    if (this.mode === 'ports-rows') {
      // The hot path: a data row.
      if (line.length > 0 && line.charCodeAt(0) !== 80 /* P */) {
        // A last line without its line end was cut mid-write: it may still split into ten fields with a
        // shortened address or name, so it is kept only when it visibly ends (the user's `>`, or empty).
        if (last && !line.endsWith('>') && !line.endsWith(',')) {
          this.skip(lineNo, 'cut short', true);
          return;
        }
        if (raw !== undefined && this.rowBytes(raw, rawStart, rawEnd > rawStart && raw[rawEnd - 1] === 13 /* CR */ ? rawEnd - 1 : rawEnd, lineNo, out)) return;
        const r = parsePortsRow(line, lineNo, this.rowCtx);
        if (typeof r === 'string') this.skip(lineNo, r, last);
        else {
          if (this.index && r.OwningProcess !== null) this.index.enrich(r);
          out.push(r);
        }
        return;
      }
    }
    if (line.trim() === '') {
      if (this.block.inBlock) this.endBlock(out);
      return;
    }
    if (this.mode !== 'events') {
      const version = VERSION_LINE.exec(line);
      if (version) {
        if (this.block.inBlock) this.endBlock(out);
        if (version[1] === 'Port usage log') this.begin('ports', 'ports-header');
        else this.mode = 'title';
        return;
      }
    }
    switch (this.mode) {
      case 'start':
        if (line.charCodeAt(0) === 123 /* { */ && this.isEvent(line)) {
          this.begin('events', 'events');
          this.feed(line, lineNo, last, out);
          return;
        }
        throw this.notALog();
      case 'title':
        if (line === 'Process detail log') this.begin('pids', 'proc-header');
        else if (line === 'Service initialization log') this.begin('initial', 'proc-header');
        else if (this.kind === undefined) throw this.notALog();
        else this.skip(lineNo, 'unknown Port Reporter log title', last);
        return;
      case 'ports-header': {
        const check = CHECK_LINE.exec(line);
        if (check) {
          this.wantsIndex = check[1];
          return;
        }
        if (line === 'Log format:') return;
        if (line.startsWith('date,time,')) {
          this.mode = 'ports-rows';
          return;
        }
        // A header cut short: carry on with the rows.
        this.mode = 'ports-rows';
        this.feed(line, lineNo, last, out);
        return;
      }
      case 'ports-rows':
        this.skip(lineNo, 'not a PR-PORTS row', last);
        return;
      case 'proc-header':
        if (this.awaitingComputer) {
          this.awaitingComputer = false;
          this.headerComputer = line.trim() || null;
          return;
        }
        if (line.startsWith('System Date:')) {
          this.systemDateLocal = parseSystemDate(line.slice('System Date:'.length));
          return;
        }
        if (line === 'Local computer name:') {
          this.awaitingComputer = true;
          return;
        }
        if (line.startsWith('Operating System:') || line.startsWith('Generated by:')) return;
        this.mode = 'proc-body';
        this.feed(line, lineNo, last, out);
        return;
      case 'proc-body':
        if (isBlockSeparator(line)) {
          if (this.block.inBlock) this.endBlock(out);
          this.block.start(lineNo);
          return;
        }
        if (!this.block.inBlock) {
          // Not our block layout: Microsoft's own PR-PIDS/PR-INITIAL body is undocumented. One warning
          // per file (at its first such line, with the count) instead of one per line.
          if (this.foreignBody.count++ === 0) this.foreignBody.line = lineNo;
          return;
        }
        {
          const error = this.block.feed(line);
          if (error) this.skip(lineNo, error, last);
        }
        return;
      case 'events': {
        const r = eventToRecord(line, lineNo, this.source.name, this.options.computer ?? null, this.options.clock);
        if (typeof r === 'string') this.skip(lineNo, r, last);
        else if (r) out.push(r);
        return;
      }
    }
  }

  /**
   * feed for a line known only by its bytes raw[start, rawEnd) (no LF): true when it was a PR-PORTS
   * data row read from them; false when feed must have its text (anything else: a header, a row the
   * byte reader declines, a last line to check). The conditions are feed's, on bytes: not empty (a CR
   * alone is), not starting with P or a non-ASCII byte (a BOM, which the text loses), not over
   * maxLine bytes (its text could be null), a last line ending in `>` or `,`.
   */
  feedRow(raw: Buffer, start: number, rawEnd: number, lineNo: number, last: boolean, maxLine: number, out: PortReporterRecord[]): boolean {
    if (this.mode !== 'ports-rows' || rawEnd - start > maxLine) return false;
    const end = rawEnd > start && raw[rawEnd - 1] === 13 /* CR */ ? rawEnd - 1 : rawEnd;
    if (end === start) return false;
    const first = raw[start]!;
    if (first === 80 /* P */ || first > 127) return false;
    if (last && raw[end - 1] !== 62 /* > */ && raw[end - 1] !== 44 /* , */) return false;
    return this.rowBytes(raw, start, end, lineNo, out);
  }

  /** A data row at raw[start, end) (CR removed) read from its bytes, into out or the encoded output; false when its text must be read. */
  private rowBytes(raw: Buffer, start: number, end: number, lineNo: number, out: PortReporterRecord[]): boolean {
    const target = this.encodeTarget;
    // A row the JSON writer declines is one parsePortsBytes declines too (the same scan).
    if (target !== undefined) return (this.rowJson ??= new PortsRowJson(this.source.name)).write(raw, start, end, lineNo, this.rowCtx, this.byteRows, this.index, target);
    const r = parsePortsBytes(raw, start, end, lineNo, this.rowCtx, this.byteRows);
    if (r === undefined) return false;
    if (this.index && r.OwningProcess !== null) this.index.enrich(r);
    out.push(r);
    return true;
  }

  /** End of input: a block without its closing blank line still counts. */
  end(out: PortReporterRecord[]): void {
    if (this.block.inBlock) this.endBlock(out);
    if (this.foreignBody.count > 0) {
      const n = this.foreignBody.count;
      this.skip(this.foreignBody.line, `${n} line${n === 1 ? '' : 's'} of process detail in an unknown layout (not portqry-ts's blocks; Microsoft's PR-PIDS body is undocumented)`, false);
    }
    if (this.mode === 'start' || this.mode === 'title') {
      if (this.kind === undefined) throw this.notALog();
    }
  }

  private begin(kind: LogKind, mode: Mode): void {
    if (this.kind === undefined) this.options.onKind?.(this.source, kind);
    this.kind = kind;
    this.mode = mode;
    this.awaitingComputer = false;
    this.wantsIndex = undefined;
    if (kind === 'ports') this.setIndex(undefined);
  }

  private isEvent(line: string): boolean {
    try {
      const v = JSON.parse(line);
      return typeof v === 'object' && v !== null && 'Event' in v && 'Protocol' in v;
    } catch {
      return false;
    }
  }

  private readonly pool = new StringPool();

  /**
   * A block kept for an index holds only what a record is enriched with, in strings of its own: a line
   * is a slice of a decoded read chunk and would keep the whole chunk alive, so an index of a 59 MB
   * PR-PIDS pinned the file several times over (273 MB). Repeated strings (module paths, users,
   * services, image paths) are stored once.
   */
  private compact(d: ProcessDetail): ProcessDetail {
    const p = this.pool;
    return {
      pid: d.pid,
      recordedLocal: p.get(d.recordedLocal),
      recordedUtc: null,
      startUtc: p.get(d.startUtc),
      imageName: p.get(d.imageName),
      imagePath: p.get(d.imagePath),
      commandLine: p.get(d.commandLine),
      user: p.get(d.user),
      services: p.list(d.services),
      ports: [],
      modules: p.list(d.modules),
      line: d.line,
    };
  }

  private endBlock(out: PortReporterRecord[]): void {
    const { detail, error, line } = this.block.finish(this.options.clock);
    if (!detail) {
      this.skip(line, error!, false);
      return;
    }
    if (this.keepDetails) this.details.push(this.compact(detail));
    if (this.kind === 'initial') {
      const local = detail.recordedLocal ?? this.systemDateLocal;
      const utc = detail.recordedUtc ?? (local ? utcOfLocal(local, this.options.clock) : null);
      for (const p of detail.ports) {
        out.push({
          ComputerName: this.headerComputer ?? this.fallbackComputer,
          TimeUtc: utc,
          TimeLocal: local,
          Event: 'Initial',
          Protocol: p.protocol,
          LocalAddress: p.localAddress,
          LocalPort: p.localPort,
          RemoteAddress: p.remoteAddress,
          RemotePort: p.remotePort,
          State: p.state,
          OwningProcess: detail.pid,
          ProcessName: detail.imageName,
          ProcessPath: detail.imagePath,
          CommandLine: detail.commandLine,
          UserName: detail.user,
          Services: detail.services,
          Modules: detail.modules,
          ProcessStartTime: detail.startUtc,
          LifetimeSeconds: null,
          RemoteHostName: null,
          Flagged: false,
          FlagReasons: [],
          SourceFile: this.source.name,
          SourceLine: line,
        });
      }
    }
  }

  private skip(line: number, reason: string, last: boolean): void {
    this.options.onSkip({ file: this.source.name, line, reason: last ? `truncated last line (${reason})` : reason, truncated: last });
  }

  notALog(): NotALogError {
    return new NotALogError(this.source.name);
  }
}

/** Strings stored once each, as copies of their own (never slices of a larger string). */
class StringPool {
  private readonly strings = new Map<string, string>();

  get<T extends string | null>(s: T): T {
    if (s === null) return s;
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit as T;
    const copy = Buffer.from(s, 'utf8').toString('utf8');
    if (this.strings.size < 500_000) this.strings.set(copy, copy);
    return copy as T;
  }

  list(items: readonly string[]): string[] {
    // Frozen, as the block parser leaves them: shared by every record of the process, never changed,
    // and the JSON encoder writes a frozen array's bytes once (record-json.ts, writeFrozenArray).
    return Object.freeze(items.length === 0 ? [] : items.map((i) => this.get(i))) as string[];
  }
}

/**
 * How far into a file its header must have been recognized. A Port Reporter header is a few hundred
 * bytes; without this, `parse /dev/zero` or a file with no line feed was read for ever (issue 14).
 */
export const HEADER_WINDOW_BYTES = 1 << 20;

/** The file's bytes, until HEADER_WINDOW_BYTES have gone by without the parser knowing what the file is. */
async function* withinHeaderWindow(chunks: AsyncIterable<Buffer | string>, parser: LogParser): AsyncGenerator<Buffer | string> {
  let bytes = 0;
  for await (const chunk of chunks) {
    // The lines of the chunks already passed on have been parsed when the next one is asked for.
    if (parser.kind === undefined && bytes > HEADER_WINDOW_BYTES) throw parser.notALog();
    bytes += chunk.length;
    yield chunk;
  }
}

/** Feeds line i of a batch to parser, with its bytes when the batch has them. */
export function feedLine(parser: LogParser, batch: LineBatch, i: number, out: PortReporterRecord[]): void {
  const last = batch.unterminated && i === batch.lines.length - 1;
  const starts = batch.rawStarts;
  const k = i - (batch.rawFirst ?? 0);
  const lineNo = batch.firstLine + i;
  if (starts !== undefined && k >= 0 && k < starts.length - 1) {
    const raw = batch.raw!;
    const start = starts[k]!;
    const end = starts[k + 1]! - 1;
    // A data row is read from its bytes; its text is made only when something else needs it.
    if (batch.lines[i] === undefined && parser.feedRow(raw, start, end, lineNo, last, batch.rawMaxLine!, out)) return;
    parser.feed(lineOf(batch, i), lineNo, last, out, raw, start, end);
  } else parser.feed(batch.lines[i]!, lineNo, last, out);
}

/**
 * Feeds each batch's lines to parser and yields each batch's records; a PR-PIDS index the header asks
 * for is looked up with lookup(name) (none without one). readLogFile and parse's main-thread chunks
 * share it. With the parser's encodeTarget set, every record is in the target, in line order, and
 * the array yielded after a batch that added any is empty.
 */
export async function* parseBatches(parser: LogParser, batches: AsyncIterable<LineBatch>, lookup: ((pidsFileName: string) => Promise<ProcessIndex | undefined>) | undefined): AsyncGenerator<PortReporterRecord[]> {
  const target = parser.encodeTarget;
  for await (const batch of batches) {
    const out: PortReporterRecord[] = [];
    const n = batch.lines.length;
    for (let i = 0; i < n; i++) {
      feedLine(parser, batch, i, out);
      if (target !== undefined && out.length > 0) encodeRecords(out, target);
      if (parser.wantsIndex !== undefined) parser.setIndex(lookup ? await lookup(parser.wantsIndex) : undefined);
    }
    if (out.length > 0 || (target !== undefined && target.records > 0)) yield out;
  }
}

/**
 * Reads one log; yields its records in batches, or, with an encode target (parse's JSON,
 * encode-log.ts), writes them there and yields after each batch that wrote any. Throws DataError for
 * an explicit input that is not a log.
 */
export async function* readLogFile(source: LogSource, options: LogReadOptions, encode?: EncodeTarget): AsyncGenerator<PortReporterRecord[]> {
  const parser = new LogParser(source, options);
  parser.encodeTarget = encode;
  try {
    const lookup = source.path && options.processIndex ? options.processIndex.bind(options, path.dirname(source.path)) : undefined;
    yield* parseBatches(parser, readLineBatches(withinHeaderWindow(source.open(), parser), { maxLineBytes: options.maxLineBytes, raw: true }), lookup);
    const out: PortReporterRecord[] = [];
    parser.end(out);
    if (encode !== undefined && out.length > 0) encodeRecords(out, encode);
    if (out.length > 0 || (encode !== undefined && encode.records > 0)) yield out;
  } catch (err) {
    if (passedOver(err, source)) return;
    throw err;
  }
}

/** All process blocks of a PR-PIDS or PR-INITIAL file, and its header's computer name. */
export async function readProcessDetails(source: LogSource, options: LogReadOptions): Promise<{ kind: LogKind | undefined; computerName: string | null; details: ProcessDetail[] }> {
  const parser = new LogParser(source, options, true);
  const sink: PortReporterRecord[] = [];
  for await (const batch of readLineBatches(withinHeaderWindow(source.open(), parser), { maxLineBytes: options.maxLineBytes })) {
    const n = batch.lines.length;
    for (let i = 0; i < n; i++) {
      parser.feed(batch.lines[i]!, batch.firstLine + i, batch.unterminated && i === n - 1, sink);
      sink.length = 0;
      // Only process detail is wanted here; a PR-PORTS file has none.
      if (parser.kind === 'ports' || parser.kind === 'events') return { kind: parser.kind, computerName: null, details: [] };
    }
  }
  parser.end(sink);
  return { kind: parser.kind, computerName: parser.headerComputer, details: parser.details };
}
