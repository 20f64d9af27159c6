import { parentPort, workerData } from 'node:worker_threads';
import { workerFailure } from '../runtime/worker-error';
import { type ChunkSetup, type ChunkTask, createChunkParser } from './parse-chunk';

/**
 * Entry of `parse`'s worker threads (parse-parallel.ts): chunks in, JSON bytes out, one at a time and
 * in the order they came. scripts/bundle.mjs bundles this file on its own and embeds the result in the
 * main bundle as the code the workers evaluate (a standalone executable has no file to point them to).
 */
const parse = createChunkParser(workerData as ChunkSetup);
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (task: ChunkTask & { id: number }) => {
  queue = queue.then(async () => {
    try {
      const r = await parse(task);
      let bytes = r.bytes;
      if (bytes.byteOffset !== 0) bytes = new Uint8Array(bytes);
      // The output and the chunk's memory go back to the main thread, which hands them out again.
      const input = task.bytes.buffer as ArrayBuffer;
      parentPort!.postMessage({ id: task.id, bytes, length: bytes.byteLength, records: r.records, skips: r.skips, input }, [bytes.buffer as ArrayBuffer, input]);
    } catch (err) {
      parentPort!.postMessage({ id: task.id, error: workerFailure(err) });
    }
  });
});
