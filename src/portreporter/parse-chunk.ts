import * as path from 'node:path';
import { JsonBytes } from '../output/record-kind';
import { workerLogReadOptions } from './correlate';
import { type EncodeTarget, encodeRecords } from './ports-row-json';
import { feedLine, LogParser, type LogReadOptions, type ProcessIndex, type SkippedLine } from './read-log';
import { readLineBatches } from './read-lines';
import type { PortReporterRecord } from './record';

/**
 * One piece of `parse`'s parallel path (parse-parallel.ts): a run of PR-PORTS data rows, cut at line
 * boundaries, parsed and encoded as JSON in a worker thread. The worker runs the very LogParser and
 * JSON encoder of the single-threaded path, started in the state the main thread's parser is in
 * (inside the rows of a PR-PORTS file, with the same PR-PIDS index), so the bytes are the same.
 */
export interface ChunkSetup {
  utcOffsetMinutes: number | undefined;
  computer: string | undefined;
  maxLineBytes: number | undefined;
  format: 'jsonl' | 'json';
}

export interface ChunkTask {
  /** The file's bytes: whole lines (the last one unterminated only at the end of the file). */
  bytes: Uint8Array;
  /** Number of the chunk's first line in its file. */
  firstLine: number;
  source: { name: string; path: string };
  /** The PR-PIDS file the PR-PORTS header names (looked up beside source.path), if any. */
  pids: string | undefined;
  /** Memory to write the JSON into (a buffer of an earlier chunk, given back once written): no allocation per chunk. */
  out?: ArrayBuffer;
}

export interface ChunkResult {
  /** The records as JSON: jsonl `{…}\n` each; json `,\n{…}` each. */
  bytes: Uint8Array;
  records: number;
  skips: SkippedLine[];
}

export function createChunkParser(setup: ChunkSetup): (task: ChunkTask) => Promise<ChunkResult> {
  // PR-PIDS lines that cannot be read were reported by the main thread when it loaded the same index.
  const baseOptions = workerLogReadOptions(setup);
  const loadIndex = baseOptions.processIndex!;

  // One parser per file (and PR-PIDS index) for all its chunks this worker gets: its caches (the last
  // time converted, per-PID names, interned strings) are kept by value, so they carry over between
  // chunks that are not adjacent without changing a byte, and are not rebuilt for every chunk.
  let cached: { key: string; parser: LogParser; sink: { skips: SkippedLine[] } } | undefined;

  return async (task) => {
    const key = `${task.source.path}\0${task.source.name}\0${task.pids ?? ''}`;
    if (cached?.key !== key) {
      const sink = { skips: [] as SkippedLine[] };
      const options: LogReadOptions = { ...baseOptions, onSkip: (s) => sink.skips.push(s) };
      const source = { name: task.source.name, path: task.source.path, explicit: true, open: async function* () {} };
      const parser = new LogParser(source, options);
      parser.kind = 'ports';
      parser.mode = 'ports-rows';
      parser.setIndex(task.pids === undefined ? undefined : ((await loadIndex(path.dirname(task.source.path), task.pids)) as ProcessIndex | undefined));
      cached = { key, parser, sink };
    }
    const { parser, sink } = cached;
    const skips: SkippedLine[] = [];
    sink.skips = skips;

    const want = Math.max(1 << 16, task.bytes.length * 10);
    const out = new JsonBytes(task.out && task.out.byteLength >= want ? 0 : want);
    if (task.out && task.out.byteLength >= want) out.buf = Buffer.from(task.out);
    const records: PortReporterRecord[] = [];
    const json = setup.format === 'json';
    // Data rows are written as JSON by the parser itself (ports-row-json.ts); records of rows it
    // declines come out in `records`, in their place.
    const target: EncodeTarget = { out, json, records: 0, flagged: 0 };
    parser.encodeTarget = target;
    const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
    for await (const batch of readLineBatches(once(bytes), { maxLineBytes: setup.maxLineBytes, firstLine: task.firstLine, encoding: 'bytes', raw: true })) {
      const n = batch.lines.length;
      for (let i = 0; i < n; i++) {
        feedLine(parser, batch, i, records);
        if (records.length > 0) encodeRecords(records, target);
      }
    }
    // The main thread sends only chunks without a header line; anything else is a programming error.
    if (parser.mode !== 'ports-rows' || parser.kind !== 'ports' || parser.wantsIndex !== undefined) throw new Error('parse chunk left the PR-PORTS rows');
    return { bytes: out.buf.subarray(0, out.pos), records: target.records, skips };
  };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}
