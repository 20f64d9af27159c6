import * as path from 'node:path';
import { DataError } from '../errors';
import { JsonBytes, writeRecordJson } from '../output/record-kind';
import type { EncodeTarget } from './ports-row-json';
import { feedLine, LogParser, type LogReadOptions, type LogSource, withinHeaderWindow } from './read-log';
import { readLineBatches } from './read-lines';
import type { PortReporterRecord } from './record';
import { PortReporterRecordKind } from './record-kind';

/**
 * One log as `parse`'s JSON, batch by batch, on the main thread: what readLogFile reads, encoded as
 * the output writes it (jsonl `{…}\n`, json `,\n{…}` per record), with PR-PORTS rows written without
 * a record (ports-row-json.ts). parse takes this path when nothing is done to the records between
 * reading and writing (parse-parallel.ts, encodedApplies), and the bytes are those of the record path
 * (test/cli/parse-encoded.test.ts).
 */
export interface EncodedBatch {
  /** JSON of `records` records. */
  bytes: Buffer;
  records: number;
  /** Of those, records with Flagged true (from our event log; --fail-on-flag counts them). */
  flagged: number;
  /** Call once the bytes are written: their memory is used again for a later batch. */
  release(): void;
}

/** Output buffers given back by the writer (a batch of a 64 KiB read is about 450 KB of JSON). */
class BufferPool {
  private readonly free: Buffer[] = [];

  take(): JsonBytes {
    const out = new JsonBytes(0);
    out.buf = this.free.pop() ?? Buffer.allocUnsafe(1 << 20);
    return out;
  }

  give(buf: Buffer): void {
    if (this.free.length < 4) this.free.push(buf);
  }
}

/** Appends records (of lines other than PR-PORTS rows) as the output writes them; returns how many are flagged. */
function encodeRecords(records: PortReporterRecord[], target: EncodeTarget): number {
  let flagged = 0;
  const out = target.out;
  for (const r of records) {
    if (r.Flagged) flagged++;
    if (target.json) out.ascii(',\n');
    writeRecordJson(PortReporterRecordKind, r as unknown as Record<string, unknown>, out);
    if (!target.json) out.ascii('\n');
  }
  target.records += records.length;
  records.length = 0;
  return flagged;
}

/** encodeLogFile for each source, sharing the output buffers. */
export async function* encodeLogFiles(sources: Iterable<LogSource>, options: LogReadOptions, json: boolean): AsyncGenerator<EncodedBatch> {
  const pool = new BufferPool();
  for (const source of sources) yield* encodeLogFile(source, options, json, pool);
}

async function* encodeLogFile(source: LogSource, options: LogReadOptions, json: boolean, pool: BufferPool): AsyncGenerator<EncodedBatch> {
  const parser = new LogParser(source, options);
  const target: EncodeTarget = { out: pool.take(), json, records: 0 };
  parser.encodeTarget = target;
  let flagged = 0;
  const records: PortReporterRecord[] = [];
  const batchOf = (): EncodedBatch | undefined => {
    if (target.records === 0) return undefined;
    const out = target.out;
    const batch: EncodedBatch = { bytes: out.buf.subarray(0, out.pos), records: target.records, flagged, release: () => pool.give(out.buf) };
    target.out = pool.take();
    target.records = 0;
    flagged = 0;
    return batch;
  };
  try {
    const lookup = source.path && options.processIndex ? options.processIndex.bind(options, path.dirname(source.path)) : undefined;
    for await (const batch of readLineBatches(withinHeaderWindow(source.open(), parser), { maxLineBytes: options.maxLineBytes, raw: true })) {
      const n = batch.lines.length;
      for (let i = 0; i < n; i++) {
        feedLine(parser, batch, i, records);
        if (records.length > 0) flagged += encodeRecords(records, target);
        if (parser.wantsIndex !== undefined) parser.setIndex(lookup ? await lookup(parser.wantsIndex) : undefined);
      }
      const done = batchOf();
      if (done) yield done;
    }
    parser.end(records);
    if (records.length > 0) flagged += encodeRecords(records, target);
    const done = batchOf();
    if (done) yield done;
  } catch (err) {
    if (err instanceof DataError && err.message.startsWith('not a Port Reporter log') && !source.explicit) return;
    throw err;
  }
}
