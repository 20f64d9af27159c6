import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { type CsvFormatterStream, format as csvFormat } from '@fast-csv/format';
import { getBorderCharacters, table } from 'table';
import { ExitCode } from '../exit-codes';
import { fileError, PortqryError, UsageError, writeError } from '../errors';
import type { IOStreams } from './iostreams';
import { JsonBytes, normalizeRecord, type OutputRecord, type RecordKind, writeRecordJson } from './record-kind';
import { neutralizeCsvCell, sanitizeLine } from './sanitize';
import { createStyle, type Style } from './style';

export const FORMATS = ['text', 'table', 'json', 'jsonl', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface OutputOptions {
  /** Explicit --format; otherwise --json, otherwise text on a TTY and jsonl when redirected. */
  format?: Format;
  json?: boolean;
  /** --out-file: write here instead of stdout (CSV gets a UTF-8 BOM and CRLF for Excel). */
  outFile?: string;
  /** CSV field delimiter (`,` by default; `;` for locales whose list separator is a semicolon). */
  delimiter?: string;
  /** --color / --no-color; undefined lets IOStreams decide. */
  color?: boolean;
  /** -y / --force: an existing --out-file may be replaced. */
  force?: boolean;
}

/** Where records go. Commands only ever call write() and end(). */
export interface Output {
  readonly format: Format;
  readonly style: Style;
  /** True when nobody reads any more (closed pipe): stop producing. */
  readonly closed: boolean;
  write(kind: RecordKind, record: OutputRecord): void;
  /**
   * Records already encoded as JSON by writeRecordJson (parse's worker threads): jsonl `{…}\n` each,
   * json `,\n{…}` each. Only jsonl and json outputs have it.
   */
  readonly writeEncoded?: (bytes: Buffer, records: number, written: () => void) => void;
  /** Free-form human lines in text format only (e.g. PortQry's "querying..." lines); ignored otherwise. */
  note(lines: string[]): void;
  /**
   * Resolves when the destination can take more (backpressure). write() never blocks, so a command that
   * produces a lot (parse over gigabytes) awaits this between batches to keep memory flat.
   */
  ready(): Promise<void>;
  /** Finishes the output: flushes, and puts an --out-file in place. Throws a PortqryError when writing failed. */
  end(): Promise<void>;
  /** The run failed: an --out-file's temporary file is removed and an existing file stays as it was. */
  abort(): void;
}

/**
 * Where --out-file writes: a new temporary file beside the target (same folder, so the final rename is
 * atomic and on the same volume), renamed over the target by commit(). A failed run calls discard() and
 * the target is untouched. A symbolic link is never followed, an existing file is replaced only with
 * -y/--force, and a device or FIFO (/dev/null, a named pipe) is written directly.
 */
export interface OutFile {
  readonly path: string;
  /** The file written until commit(); equal to path for a device or FIFO. */
  readonly tempPath: string;
  readonly stream: fs.WriteStream;
  commit(): Promise<void>;
  discard(): void;
}

/** The temporary name of an --out-file, so that input expansion can pass over it (a folder both read and written). */
export const OUT_FILE_TEMP_SUFFIX = '.portqry-tmp';

/** Checks an --out-file path before anything runs (a usage error or 73 without side effects). */
export function checkOutFile(file: string, force: boolean): 'new' | 'replace' | 'device' {
  if (file.trim() === '') throw new UsageError("invalid --out-file '': expected a file path");
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw fileError(err, file, true);
  }
  if (stat.isSymbolicLink()) throw new PortqryError(`--out-file ${file} is a symbolic link; not followed`, ExitCode.CantCreate);
  if (stat.isDirectory()) throw new PortqryError(`--out-file ${file} is a directory`, ExitCode.CantCreate);
  if (!stat.isFile()) return 'device';
  if (!force) throw new PortqryError(`--out-file ${file} exists; add -y or --force to replace it`, ExitCode.CantCreate);
  return 'replace';
}

/** Writes a whole file (an HTML report) with --out-file's rules: temporary file, rename, no symlink, -y to replace. */
export async function writeWholeFile(file: string, data: string | Buffer, force: boolean): Promise<void> {
  const out = openOutFile(file, force);
  out.stream.on('error', () => {});
  out.stream.write(data);
  const failed = await finishStream(out.stream);
  if (failed !== undefined) {
    out.discard();
    throw writeError(failed, file);
  }
  await out.commit();
}

/**
 * Ends a file stream and waits until its descriptor is closed (Windows cannot rename an open file).
 * Resolves with the write error, if any: end()'s callback gets it before the 'error' event fires.
 */
function finishStream(stream: fs.WriteStream): Promise<unknown> {
  return new Promise((resolve) => {
    let failure: unknown;
    stream.once('close', () => resolve(failure));
    stream.end((err?: unknown) => {
      if (err) failure = err;
    });
  });
}

/** A new temporary name beside file (same folder: the final rename is atomic, on the same volume). Open it with 'wx'. */
export function tempPathBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}${OUT_FILE_TEMP_SUFFIX}`);
}

export function openOutFile(file: string, force: boolean): OutFile {
  const mode = checkOutFile(file, force);
  if (mode === 'device') {
    let fd: number;
    try {
      fd = fs.openSync(file, 'w');
    } catch (err) {
      throw fileError(err, file, true);
    }
    const stream = fs.createWriteStream(file, { fd });
    return { path: file, tempPath: file, stream, commit: async () => {}, discard: () => stream.destroy() };
  }
  const tempPath = tempPathBeside(file);
  let fd: number;
  try {
    // 'wx': O_CREAT|O_EXCL, so a file (or link) planted under the temporary name is never written through.
    fd = fs.openSync(tempPath, 'wx', 0o666);
  } catch (err) {
    throw fileError(err, file, true);
  }
  const stream = fs.createWriteStream(tempPath, { fd });
  return {
    path: file,
    tempPath,
    stream,
    async commit() {
      try {
        fs.renameSync(tempPath, file);
      } catch (err) {
        fs.rmSync(tempPath, { force: true });
        throw fileError(err, file, true);
      }
    },
    discard() {
      stream.destroy();
      fs.rmSync(tempPath, { force: true });
    },
  };
}

export function resolveFormat(io: IOStreams, options: OutputOptions): Format {
  if (options.format) return options.format;
  if (options.json) return 'jsonl';
  return io.stdoutIsTTY && !options.outFile ? 'text' : 'jsonl';
}

export function parseDelimiter(value: string | undefined): string {
  if (value === undefined) return ',';
  const named: Record<string, string> = { comma: ',', semicolon: ';', tab: '\t', pipe: '|' };
  const d = named[value.toLowerCase()] ?? value;
  if (d.length !== 1 || d === '"' || d === '\r' || d === '\n') {
    throw new UsageError(`invalid --delimiter '${value}': use one character such as , or ; (or comma, semicolon, tab, pipe)`);
  }
  return d;
}

/**
 * CSV holds one kind of record (one header row). The one check, made before a command writes anything
 * (BaseCommand calls it with the kinds the command will write); the CSV writer's own check stays as an
 * assertion against a command that writes what it did not declare.
 */
export function checkCsvKinds(format: Format, kinds: readonly RecordKind[], hint = 'use --format jsonl, or narrow the command'): void {
  if (format !== 'csv' || kinds.length <= 1) return;
  throw new UsageError(`--format csv holds one kind of record, but this command writes ${kinds.map((k) => k.name).join(', ')}: ${hint}`);
}

export function openOutput(io: IOStreams, options: OutputOptions): Output {
  const format = resolveFormat(io, options);
  const delimiter = parseDelimiter(options.delimiter);
  let sink: Writable = io.stdout;
  let outFile: OutFile | undefined;
  let fileFailed: unknown;
  if (options.outFile !== undefined) {
    outFile = openOutFile(options.outFile, options.force ?? false);
    outFile.stream.on('error', (err) => {
      fileFailed ??= err;
    });
    sink = outFile.stream;
  }
  const toTerminal = !options.outFile && io.stdoutIsTTY;
  // io.colorStdout already weighs the terminal, NO_COLOR and FORCE_COLOR; a file gets colour only with --color.
  const color = options.color ?? (options.outFile ? false : io.colorStdout);
  const style = createStyle(color);
  const isClosed = () => (outFile ? fileFailed !== undefined : io.stdoutClosed);
  const writer = makeWriter(format, { sink, style, delimiter, toFile: Boolean(options.outFile), asciiBorders: !toTerminal, columns: toTerminal ? io.columns : 0 });
  let ending: Promise<void> | undefined;
  return {
    format,
    style,
    get closed() {
      return isClosed();
    },
    write(kind, record) {
      if (isClosed()) return;
      writer.write(kind, record);
    },
    writeEncoded: writer.encoded
      ? (bytes, records, written) => {
          if (!isClosed()) writer.encoded!(bytes, records, written);
        }
      : undefined,
    note(lines) {
      if (format === 'text' && !isClosed()) writer.raw(lines.map((l) => `${l}\n`).join(''));
    },
    async ready() {
      if (isClosed()) return;
      await writer.ready?.();
      await waitForDrain(sink);
    },
    // Idempotent: a run may finish its output itself before its own last step (query commits its -l
    // log only once the records are safely written), and the command ends it again.
    end() {
      ending ??= finish();
      return ending;
    },
    abort() {
      outFile?.discard();
    },
  };

  async function finish(): Promise<void> {
    await writer.end();
    if (!outFile) {
      await drain(io.stdout);
      return;
    }
    const file = outFile;
    if (fileFailed === undefined) {
      const err = await finishStream(file.stream);
      fileFailed ??= err;
    }
    if (fileFailed !== undefined) {
      file.discard();
      throw writeError(fileFailed, file.path);
    }
    await file.commit();
  }
}

/** Resolves once everything written so far has been handed to the OS (pipes on POSIX are async). */
function drain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as Writable & { destroyed?: boolean }).destroyed) return resolve();
    stream.write('', () => resolve());
  });
}

// ready() lets a producer run ahead of the destination by this much, so that reading, formatting and
// writing overlap instead of taking turns; memory stays bounded by it.
const READY_LIMIT = 4 << 20;

/** Resolves at once unless the stream holds more than READY_LIMIT unwritten, then on 'drain' (or when it closes). */
function waitForDrain(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.writableLength < READY_LIMIT || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

interface WriterContext {
  sink: Writable;
  style: Style;
  delimiter: string;
  toFile: boolean;
  asciiBorders: boolean;
  columns: number;
}

interface Writer {
  write(kind: RecordKind, record: OutputRecord): void;
  raw(text: string): void;
  /** Records encoded elsewhere (Output.writeEncoded). */
  encoded?(bytes: Buffer, records: number, written: () => void): void;
  /** Backpressure of a writer with its own buffer (the CSV formatter). */
  ready?(): Promise<void>;
  end(): Promise<void>;
}

function makeWriter(format: Format, ctx: WriterContext): Writer {
  // Encoded bytes handed to the process's stdout or a file stream are done with once their write
  // callback ran; any other stream (a PassThrough in a test) may still hold them, so they are not reused.
  const reusable = ctx.sink === process.stdout || ctx.sink instanceof fs.WriteStream;
  const writeEncoded = (bytes: Buffer, written: () => void) => ctx.sink.write(bytes, reusable ? () => written() : undefined);
  switch (format) {
    case 'jsonl': {
      const out = batchedSink(ctx.sink);
      return {
        write: (kind, record) => {
          writeRecordJson(kind, record, out.bytes);
          out.bytes.ascii('\n');
          out.written();
        },
        raw: () => {},
        encoded: (bytes, _records, written) => {
          out.flush();
          writeEncoded(bytes, written);
        },
        end: async () => out.flush(),
      };
    }
    case 'json': {
      const out = batchedSink(ctx.sink);
      let count = 0;
      return {
        write: (kind, record) => {
          out.bytes.ascii(count++ === 0 ? '[\n' : ',\n');
          writeRecordJson(kind, record, out.bytes);
          out.written();
        },
        raw: () => {},
        encoded: (bytes, records, written) => {
          if (records === 0) return;
          // Each record comes as `,\n{…}`: the first of the output opens the array instead.
          if (count === 0) bytes[0] = 0x5b;
          count += records;
          out.flush();
          writeEncoded(bytes, written);
        },
        end: async () => {
          out.bytes.ascii(count === 0 ? '[]\n' : '\n]\n');
          out.flush();
        },
      };
    }
    case 'csv':
      return normalizing(csvWriter(ctx));
    case 'table':
      return normalizing(tableWriter(ctx));
    case 'text':
      return normalizing(textWriter(ctx));
  }
}

/** csv, table and text work on normalized records (schema order, nulls, ISO dates); JSON does it inline. */
function normalizing(writer: Writer): Writer {
  return { ...writer, write: (kind, record) => writer.write(kind, normalizeRecord(kind, record)) };
}

/**
 * JSON written in one turn of the event loop reaches the stream as one write, at the end of that turn
 * (setImmediate: after every I/O callback of the turn), or sooner when a megabyte has piled up. A scan
 * whose connects complete by the hundred per turn then makes one write per turn, not one per result
 * (a microtask ran after each callback: 65,535 writes for a full port scan); a command that writes
 * thousands of records synchronously still makes one write per megabyte.
 */
function batchedSink(sink: Writable): { bytes: JsonBytes; written(): void; flush(): void } {
  const bytes = new JsonBytes();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (bytes.pos > 0) sink.write(bytes.take());
  };
  return {
    bytes,
    written() {
      // Flushed before the next record can overflow the buffer: waiting until 1 MB was passed made
      // every batch grow the buffer (a new 2 MB one and a 1 MB copy per megabyte written).
      if (bytes.pos >= bytes.buf.length - (bytes.buf.length >>> 4)) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** A value as one CSV cell: Excel-friendly dates, lists joined with "; ", objects as JSON, formulas defused. */
export function csvCell(kind: RecordKind, key: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    // Excel parses "2025-01-15 10:04:05.123" as a date-time; the ISO "T…Z" form stays text.
    const text = kind.dateTimeKeys.has(key) ? value.replace('T', ' ').replace(/Z$/, '') : value;
    return neutralizeCsvCell(text);
  }
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return neutralizeCsvCell(value.map((v) => (v === null ? '' : String(v))).join('; '));
  }
  return neutralizeCsvCell(JSON.stringify(value));
}

function csvWriter(ctx: WriterContext): Writer {
  let csv: CsvFormatterStream<string[], string[]> | undefined;
  let currentKind: RecordKind | undefined;
  return {
    write(kind, record) {
      if (currentKind && currentKind !== kind) {
        throw new UsageError(`--format csv holds one kind of record, but this command produced ${currentKind.name} and ${kind.name}; use --format jsonl or narrow the command`);
      }
      if (!csv) {
        currentKind = kind;
        csv = csvFormat<string[], string[]>({
          headers: [...kind.keys],
          writeHeaders: true,
          // A file is for Excel: BOM so it reads UTF-8, CRLF as Windows expects. On stdout the BOM would
          // end up inside the first header name of ConvertFrom-Csv.
          writeBOM: ctx.toFile,
          rowDelimiter: '\r\n',
          includeEndRowDelimiter: true,
          delimiter: ctx.delimiter,
        });
        csv.on('data', (chunk: Buffer | string) => ctx.sink.write(chunk));
      }
      csv.write(kind.keys.map((key) => csvCell(kind, key, record[key])));
    },
    raw: () => {},
    ready: () => (csv ? waitForDrain(csv) : Promise.resolve()),
    end: () =>
      new Promise<void>((resolve, reject) => {
        if (!csv) return resolve();
        csv.once('end', () => resolve());
        csv.once('error', reject);
        csv.end();
      }),
  };
}

/** A value as it appears in text and table output: sanitized, lists joined, objects summarized. */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return sanitizeLine(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((v) => displayValue(v)).join(', ');
  return sanitizeLine(JSON.stringify(value));
}

function tableWriter(ctx: WriterContext): Writer {
  // A table needs every row to size its columns, so rows are kept per kind and drawn at the end.
  const groups = new Map<RecordKind, OutputRecord[]>();
  return {
    write(kind, record) {
      let rows = groups.get(kind);
      if (!rows) groups.set(kind, (rows = []));
      rows.push(record);
    },
    raw: () => {},
    async end() {
      let first = true;
      for (const [kind, rows] of groups) {
        if (!first) ctx.sink.write('\n');
        first = false;
        const columns = kind.tableColumns;
        const body = rows.map((r) => columns.map((c) => truncate(displayValue(r[c]), 80)));
        const flaggedIndex = kind.highlight ? rows.map((r) => kind.highlight!(r)) : [];
        const data = [columns.map((c) => ctx.style.bold(c)), ...body.map((cells, i) => (flaggedIndex[i] ? cells.map((c) => ctx.style.flagged(c)) : cells))];
        ctx.sink.write(
          table(data, {
            border: getBorderCharacters(ctx.asciiBorders ? 'ramac' : 'norc'),
            drawHorizontalLine: (index, size) => index === 0 || index === 1 || index === size,
          }),
        );
      }
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function textWriter(ctx: WriterContext): Writer {
  const headerShown = new Set<RecordKind>();
  return {
    write(kind, record) {
      const lines: string[] = [];
      if (kind.textHeader && !headerShown.has(kind)) {
        headerShown.add(kind);
        lines.push(...kind.textHeader(ctx.style));
      }
      if (kind.text) {
        lines.push(...kind.text(record, ctx.style));
      } else {
        const width = Math.max(...kind.keys.map((k) => k.length));
        for (const key of kind.keys) lines.push(`${key.padEnd(width)} : ${displayValue(record[key])}`);
        lines.push('');
      }
      // Styled without the final line end: chalk re-opens its colour after a trailing newline, which
      // would leak onto the next record's first line.
      const body = lines.join('\n');
      ctx.sink.write(`${kind.highlight?.(record) ? ctx.style.flagged(body) : body}\n`);
    },
    raw: (text) => ctx.sink.write(text),
    end: async () => {},
  };
}
