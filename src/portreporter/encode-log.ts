import { JsonBytes } from '../output/record-kind';
import type { EncodeTarget } from './ports-row-json';
import { type LogReadOptions, type LogSource, readLogFile } from './read-log';

/** JSON of some records, as the output writes them; parse's main-thread batches and its workers' chunks. */
export interface EncodedChunk {
  /** JSON of `records` records: jsonl `{…}\n` each, json `,\n{…}` each. */
  bytes: Buffer;
  records: number;
  /** Of those, records with Flagged true (only the main thread's encoded path has any: parse-chunk.ts never reads an event log). */
  flagged?: number;
  /** Call once the bytes are written: their memory is used again for a later chunk. */
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

/**
 * The logs as `parse`'s JSON, batch by batch, on the main thread: readLogFile with an encode target,
 * so each record is encoded as the output writes it (jsonl `{…}\n`, json `,\n{…}`), PR-PORTS data rows
 * straight from their bytes without a record (ports-row-json.ts). parse takes this path when nothing
 * is done to the records between reading and writing (parse-parallel.ts, encodedApplies); the bytes
 * are those of the record path (test/unit/portreporter-row-bytes.test.ts).
 */
export async function* encodeLogFiles(sources: Iterable<LogSource>, options: LogReadOptions, json: boolean): AsyncGenerator<EncodedChunk> {
  const pool = new BufferPool();
  for (const source of sources) {
    const target: EncodeTarget = { out: pool.take(), json, records: 0, flagged: 0 };
    // Each batch readLogFile yields has left its records in the target.
    for await (const _ of readLogFile(source, options, target)) {
      const out = target.out;
      yield { bytes: out.buf.subarray(0, out.pos), records: target.records, flagged: target.flagged, release: () => pool.give(out.buf) };
      target.out = pool.take();
      target.records = 0;
      target.flagged = 0;
    }
    pool.give(target.out.buf);
  }
}
