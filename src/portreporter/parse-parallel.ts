import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileError } from '../errors';
import { READ_BYTES } from './inputs';
import type { ChunkSetup, ChunkTask } from './parse-chunk';
import { compileFilter } from './filter';
import { createLogReadOptions, logSources, readPortReporterBatches, type ReadOptions } from './read';
import { LogParser, type LogReadOptions, type LogSource, parseBatches, passedOver, readLogFile, type SkippedLine } from './read-log';
import { DEFAULT_MAX_LINE_BYTES, readLineBatches, sniffEncoding } from './read-lines';
import type { PortReporterRecord } from './record';
import { type EncodedChunk, encodeLogFiles } from './encode-log';
import { createLocalClock } from './time';

/**
 * `parse --format jsonl|json` on worker threads (workerPlan: two on two cores or more, for files of 64 MB
 * or more; PORTQRY_PARSE_WORKERS=N sets the number, 0 for none):
 * each large PR-PORTS file is read in chunks of whole lines;
 * chunks of data rows are parsed and encoded as JSON by worker threads (parse-chunk.ts, the same parser
 * and encoder), and their bytes are written in order by the main thread. Everything else (headers, a
 * header repeated inside a concatenated file, PR-INITIAL, the event log, UTF-16 files, stdin, small
 * files, filters, criteria, --resolve, --strict) takes the single-threaded path, so the output, the
 * warnings about skipped lines and the exit code are those of that path, byte for byte
 * (test/cli/parse-parallel.test.ts).
 */
export type ParseItem = PortReporterRecord[] | EncodedChunk;

// The worker's code: scripts/bundle.mjs bundles src/portreporter/parse-worker.ts and defines this as its
// text. Undefined when running from the TypeScript sources (tests in-process): then no workers.
declare const __PORTQRY_PARSE_WORKER__: string | undefined;

function workerSource(): string | undefined {
  return typeof __PORTQRY_PARSE_WORKER__ === 'string' ? __PORTQRY_PARSE_WORKER__ : undefined;
}

/** Bytes per chunk; PORTQRY_PARSE_CHUNK_BYTES (tests: many chunks from little data). */
function chunkBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.PORTQRY_PARSE_CHUNK_BYTES);
  return Number.isInteger(v) && v >= 256 ? v : CHUNK_BYTES;
}

// 256 KiB: half the messages of 128 KiB (1.72 -> 1.61 s on 200 MB with two workers), 168-174 MB peak
// RSS on 1 GB with the young generation below; 512 KiB went over 200 MB.
const CHUNK_BYTES = 1 << 18;

/**
 * Worker threads by default (PORTQRY_PARSE_WORKERS unset), where at least two cores are available.
 * Two, whatever the cores: each worker is a V8 heap of its own (~35 MB of peak RSS), and with two the
 * peak stays under 200 MB on a 1 GB log (168-174 MB measured); the main thread only reads and writes.
 */
const DEFAULT_WORKERS = 2;

/**
 * A file smaller than this is parsed on the main thread by default. Workers cost their start-up
 * (~120 ms for two: a Node environment each, the parser's code compiled and warmed up in each) before
 * they gain: on 2 cores, 40 MB took 622 ms with them against 543 ms without, 64 MB 768 against 784 ms,
 * 100 MB 0.97 s against 1.14 s, 200 MB about 1.55 s against 2.2 s (docs/benchmarks.md).
 */
const DEFAULT_MIN_FILE_BYTES = 64 << 20;

/** How parse uses worker threads: how many, and the smallest file it gives them. */
export interface WorkerPlan {
  workers: number;
  minFileBytes: number;
}

/**
 * PORTQRY_PARSE_WORKERS=N: N workers (0 = none; at most the cores there are, at most 8), for any file of
 * two chunks or more (tests). Unset: DEFAULT_WORKERS on two cores or more, for files of
 * DEFAULT_MIN_FILE_BYTES or more.
 */
export function workerPlan(env: NodeJS.ProcessEnv = process.env, cores: number = os.availableParallelism()): WorkerPlan {
  const v = env.PORTQRY_PARSE_WORKERS;
  if (v === undefined || v === '') return { workers: cores >= 2 ? DEFAULT_WORKERS : 0, minFileBytes: DEFAULT_MIN_FILE_BYTES };
  const n = Number(v);
  return { workers: Number.isInteger(n) && n >= 0 ? Math.min(n, cores, 8) : 0, minFileBytes: 2 * chunkBytes(env) };
}

/**
 * True when nothing is done to the records between reading and writing (no filter, criteria, DNS):
 * then the records can be written as JSON where they are read (encode-log.ts), and the output is the
 * same bytes as readPortReporterBatches' records written one by one.
 */
export function encodedApplies(options: ReadOptions): boolean {
  if (options.criteria || options.flaggedOnly || options.resolve) return false;
  const filter = compileFilter(options.filter ?? {}, createLocalClock(options.utcOffsetMinutes));
  return !filter.active && !filter.needsNames;
}

/** True when the parallel path gives exactly what readPortReporterBatches gives. */
export function parallelApplies(options: ReadOptions): boolean {
  if (workerSource() === undefined || workerPlan().workers === 0) return false;
  return !options.strict && encodedApplies(options);
}

/**
 * readPortReporterBatches, as JSON encoded where the records are read (encode-log.ts) when nothing is
 * done to them in between, with the data rows of large PR-PORTS files encoded by workers when they are on.
 */
export async function* readParseItems(inputs: readonly string[], options: ReadOptions, format: 'jsonl' | 'json'): AsyncGenerator<ParseItem> {
  if (!parallelApplies(options)) {
    if (!encodedApplies(options)) yield* readPortReporterBatches(inputs, options);
    else yield* encodeLogFiles(await logSources(inputs, options), createLogReadOptions(options, createLocalClock(options.utcOffsetMinutes)), format === 'json');
    return;
  }
  const logOptions = createLogReadOptions(options, createLocalClock(options.utcOffsetMinutes));
  const setup: ChunkSetup = { utcOffsetMinutes: options.utcOffsetMinutes, computer: options.computer, maxLineBytes: options.maxLineBytes, format };
  const plan = workerPlan();
  let pool: WorkerPool | undefined;
  try {
    for (const source of await logSources(inputs, options)) {
      const size = source.path === undefined ? 0 : await fs.promises.stat(source.path).then((s) => (s.isFile() ? s.size : 0), () => 0);
      if (size < plan.minFileBytes) {
        for await (const batch of readLogFile(source, logOptions)) yield batch;
        continue;
      }
      pool ??= new WorkerPool(plan.workers, setup);
      yield* readFileParallel(source, logOptions, pool);
    }
  } finally {
    // PORTQRY_PARSE_TRACE: how many chunks the workers parsed (tests prove the path was taken).
    if (process.env.PORTQRY_PARSE_TRACE) process.stderr.write(`portqry-ts: trace: ${pool?.chunks ?? 0} chunks parsed by ${pool?.size ?? 0} worker threads\n`);
    await pool?.close();
  }
}

const LF = 0x0a;
const P = 0x50;
/** The first chunk of a file, parsed on the main thread (the header): kept small. */
const FIRST_CHUNK = 1 << 16;
const VERSION_PREFIX = Buffer.from('Port Reporter Version ', 'latin1');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NL_P = Buffer.from('\nP', 'latin1');

async function* readFileParallel(source: LogSource, logOptions: LogReadOptions, pool: WorkerPool): AsyncGenerator<ParseItem> {
  const file = source.path!;
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (err) {
    throw fileError(err, file);
  }
  try {
    // Only a file that starts as a PR-PORTS log (UTF-8 or ANSI) takes this path.
    const head = Buffer.alloc(256);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const start = head.subarray(0, bytesRead);
    const text = start[0] === 0xef && start[1] === 0xbb && start[2] === 0xbf ? start.subarray(3) : start;
    if (bytesRead < 4 || sniffEncoding(start) !== 'bytes' || !text.subarray(0, VERSION_PREFIX.length).equals(VERSION_PREFIX)) {
      await fh.close();
      for await (const batch of readLogFile(source, logOptions)) yield batch;
      return;
    }
    const maxLine = logOptions.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const parser = new LogParser(source, logOptions);
    const indexNames = new WeakMap<object, string>();
    const pending: Promise<WorkerChunk>[] = [];
    // Two chunks per worker in flight: one being parsed, one waiting. The main thread waits for the
    // oldest chunk only, and a worker whose queue runs dry idles: with one chunk per worker plus one,
    // the workers were idle 12 % and 33 % of a 200 MB run (2.14 s, 128 KiB chunks). Each chunk in
    // flight holds its input and output (~7 times the input) buffers (docs/benchmarks.md).
    const inFlight = 2 * pool.size;
    let offset = 0; // file offset of the next chunk's first byte
    let firstLine = 1;
    let tail = Buffer.alloc(0);
    let first = true;
    const chunkSize = chunkBytes();

    /** Lines of some bytes through the main thread's parser, as readLogFile does. */
    async function* onMain(bytes: AsyncIterable<Buffer>, lineNo: number, sniff: boolean): AsyncGenerator<PortReporterRecord[]> {
      const lookup = async (name: string) => {
        const index = logOptions.processIndex ? await logOptions.processIndex(path.dirname(file), name) : undefined;
        if (index) indexNames.set(index, name);
        return index;
      };
      yield* parseBatches(parser, readLineBatches(bytes, { maxLineBytes: logOptions.maxLineBytes, firstLine: lineNo, encoding: sniff ? undefined : 'bytes', raw: true }), lookup);
    }

    for (;;) {
      // The first chunk (the header) is parsed here: kept small, as this thread's heap then stays small.
      const buf = pool.inputBuffer(tail.length + (first ? Math.min(chunkSize, FIRST_CHUNK) : chunkSize));
      tail.copy(buf, 0);
      let filled = tail.length;
      let eof = false;
      while (filled < buf.length) {
        const r = await fh.read(buf, filled, buf.length - filled, offset + filled);
        if (r.bytesRead === 0) {
          eof = true;
          break;
        }
        filled += r.bytesRead;
      }
      const data = buf.subarray(0, filled);
      if (data.length === 0) break;
      const cut = eof ? data.length : data.lastIndexOf(LF) + 1;
      // Lines and the longest line of the chunk.
      let lines = 0;
      let longest = 0;
      let from = 0;
      for (;;) {
        const nl = data.indexOf(LF, from);
        if (nl < 0 || nl >= cut) break;
        if (nl - from > longest) longest = nl - from;
        lines++;
        from = nl + 1;
      }
      if (cut - from > longest) longest = cut - from;
      if (cut === 0 || longest > maxLine) {
        // A line longer than a chunk, or than the longest line kept: the rest of the file is read as
        // readLogFile reads it (the same pieces, READ_BYTES aligned to the file's start).
        while (pending.length > 0) yield* emit(await pending.shift()!);
        yield* onMain(piecesFrom(fh, offset), firstLine, first);
        break;
      }
      const chunk = data.subarray(0, cut);
      tail = Buffer.from(data.subarray(cut));
      const rowsOnly = !first && parser.kind === 'ports' && parser.mode === 'ports-rows' && parser.wantsIndex === undefined && chunk[0] !== P && chunk.indexOf(NL_P) < 0 && chunk.indexOf(BOM) < 0;
      if (rowsOnly) {
        const task: ChunkTask = { bytes: chunk, firstLine, source: { name: source.name, path: file }, pids: parser.index ? indexNames.get(parser.index) : undefined };
        if (parser.index && task.pids === undefined) throw new Error('parse: a PR-PIDS index without its name');
        const result = pool.run(task);
        result.catch(() => {});
        pending.push(result);
        while (pending.length >= inFlight) yield* emit(await pending.shift()!);
      } else {
        while (pending.length > 0) yield* emit(await pending.shift()!);
        yield* onMain(once(chunk), firstLine, first);
      }
      first = false;
      offset += cut;
      firstLine += lines;
      if (eof && tail.length === 0) break;
    }
    while (pending.length > 0) yield* emit(await pending.shift()!);
    const out: PortReporterRecord[] = [];
    parser.end(out);
    if (out.length > 0) yield out;
  } catch (err) {
    if (passedOver(err, source)) return;
    throw err;
  } finally {
    await fh.close().catch(() => {});
  }

  /** A chunk's result, in order: its skipped lines reported (as the single-threaded path reports them), then its records. */
  function* emit(item: WorkerChunk): Generator<ParseItem> {
    for (const s of item.skips) logOptions.onSkip(s);
    if (item.records > 0) yield { bytes: item.bytes, records: item.records, release: item.release };
    else item.release();
  }
}

interface WorkerChunk extends EncodedChunk {
  skips: SkippedLine[];
}

// Buffers kept for reuse: every chunk in flight has one of each, so a few are enough.
const FREE_BUFFERS = 8;

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** The file from offset on, in the pieces readLogFile's stream reads (READ_BYTES, aligned to the file's start). */
async function* piecesFrom(fh: fs.promises.FileHandle, offset: number): AsyncGenerator<Buffer> {
  let pos = offset;
  for (;;) {
    const want = READ_BYTES - (pos % READ_BYTES);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

interface WorkerReply {
  id: number;
  error?: string;
  bytes?: Uint8Array;
  length?: number;
  records?: number;
  skips?: SkippedLine[];
  input?: ArrayBuffer;
}

/** Worker threads that parse chunks; each result comes back as a promise, reported skips replayed in order. */
class WorkerPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, { resolve(r: WorkerReply): void; reject(e: unknown): void }>();
  private nextId = 0;
  /** Chunks handed out so far. */
  chunks = 0;
  private readonly freeInput: ArrayBuffer[] = [];
  private readonly freeOutput: ArrayBuffer[] = [];

  /** Memory for the next chunk's bytes (a chunk's memory comes back with its result). */
  inputBuffer(size: number): Buffer {
    const ab = this.freeInput.pop();
    if (ab && ab.byteLength >= size) return Buffer.from(ab, 0, size);
    return Buffer.allocUnsafeSlow(size);
  }

  constructor(
    readonly size: number,
    setup: ChunkSetup,
  ) {
    for (let i = 0; i < size; i++) {
      // A young generation of 4 MB instead of V8's default (up to 48 MB): peak RSS stays under 200 MB
      // with two workers (8 MB: 177-191 MB on 1 GB; 4 MB: 168-174 MB, and no slower: the chunks'
      // garbage is short-lived).
      const worker = new Worker(workerSource()!, { eval: true, workerData: setup, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const slot = { worker, busy: 0 };
      worker.on('message', (reply: WorkerReply) => {
        slot.busy--;
        const w = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        w?.resolve(reply);
      });
      worker.on('error', (err) => this.failAll(err));
      worker.on('exit', (code) => {
        if (this.waiting.size > 0) this.failAll(new Error(`parse worker exited with code ${code}`));
      });
      this.workers.push(slot);
    }
  }

  run(task: ChunkTask): Promise<WorkerChunk> {
    const id = this.nextId++;
    this.chunks++;
    let slot = this.workers[0]!;
    for (const s of this.workers) if (s.busy < slot.busy) slot = s;
    slot.busy++;
    const reply = new Promise<WorkerReply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    const bytes = task.bytes;
    // The chunk's memory moves to the worker (no copy); its tail was copied out before.
    const out = this.freeOutput.pop();
    const transfer = [bytes.buffer as ArrayBuffer];
    if (out) transfer.push(out);
    slot.worker.postMessage({ ...task, out, id }, transfer);
    return reply.then((r) => {
      if (r.error !== undefined) throw new Error(`parse worker: ${r.error}`);
      if (r.input && this.freeInput.length < FREE_BUFFERS) this.freeInput.push(r.input);
      const ab = r.bytes!.buffer as ArrayBuffer;
      return {
        bytes: Buffer.from(ab, r.bytes!.byteOffset, r.length!),
        records: r.records!,
        skips: r.skips!,
        release: () => {
          if (this.freeOutput.length < FREE_BUFFERS) this.freeOutput.push(ab);
        },
      };
    });
  }

  private failAll(err: unknown): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.failAll(new Error('parse stopped'));
    await Promise.all(this.workers.map((s) => s.worker.terminate()));
  }
}
