import { parentPort, workerData } from 'node:worker_threads';
import { workerFailure } from '../runtime/worker-error';
import { compileFilter } from '../portreporter/filter';
import { workerLogReadOptions } from '../portreporter/correlate';
import { readLogFile, type LogSource } from '../portreporter/read-log';
import { StatsEngine } from './engine';
import { type FromWorker, ROWS_PER_MESSAGE, type StatsWorkerSetup, type ToWorker } from './parallel';
import { STATISTICS } from './registry';
import { processKey } from './statistic';

/**
 * Entry of stats' worker thread (src/stats/parallel.ts): the main thread's log bytes in, counted by
 * this thread's share of the statistics; their rows out when asked for. scripts/bundle.mjs bundles
 * this file on its own and embeds the result in the main bundle (as for parse's workers). It must not
 * import node:net, node:tty or node:v8 (they abort a worker in the Linux executable), which is why it
 * reads with read-log.ts rather than read.ts (DNS).
 */
const setup = workerData as StatsWorkerSetup;
const port = parentPort!;
const send = (m: FromWorker): void => port.postMessage(m);

/** Messages not yet taken, and the reader waiting for the next one. */
const queue: ToWorker[] = [];
let waiting: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  queue.push(m);
  const wake = waiting;
  waiting = undefined;
  wake?.();
});

async function next(): Promise<ToWorker> {
  while (queue.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
  return queue.shift()!;
}

/**
 * The sources as the main thread reads them. A source the reader leaves early (a file that is not a
 * log) is still taken to its end, so the next message is the next source.
 */
async function* sources(): AsyncGenerator<LogSource> {
  for (;;) {
    const m = await next();
    if (m.t === 'end') return;
    if (m.t !== 'source') continue;
    let ended = false;
    async function* chunks(): AsyncGenerator<Buffer | string> {
      for (;;) {
        const c = await next();
        if (c.t === 'source-end') {
          ended = true;
          return;
        }
        if (c.t !== 'chunk') continue;
        send({ t: 'ack' });
        // A clone arrives as a Uint8Array; the reader takes Buffers (a view, no copy).
        yield typeof c.data === 'string' ? c.data : Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
      }
    }
    yield { name: m.name, path: m.path, explicit: m.explicit, open: chunks };
    while (!ended) {
      const c = await next();
      if (c.t === 'source-end') ended = true;
      else if (c.t === 'chunk') send({ t: 'ack' });
    }
  }
}

async function main(): Promise<void> {
  const statistics = setup.statistics.map((name) => STATISTICS.find((s) => s.name === name)!);
  const reported = setup.reportedProcess;
  const engine = new StatsEngine(statistics, {
    top: setup.top,
    perComputer: setup.perComputer,
    isReportedProcess: reported === null ? () => true : (name) => processKey(name) === reported,
  });
  const logOptions = workerLogReadOptions(setup);
  const filter = compileFilter(setup.filter ?? {}, logOptions.clock);
  for await (const source of sources()) {
    for await (const batch of readLogFile(source, logOptions)) {
      // readPortReporterBatches without names, criteria or DNS: both halves of the filter here.
      engine.addBatch(filter.active ? batch.filter((r) => filter.beforeResolve(r) && filter.afterResolve(r)) : batch);
    }
  }
  send({ t: 'counted', approximate: statistics.map((_, i) => engine.isApproximate(i)) });
  for (;;) {
    const m = await next();
    if (m.t !== 'rows') continue;
    let rows = [];
    for (const row of engine.rowsOf(m.statistic, true)) {
      rows.push(row);
      if (rows.length === ROWS_PER_MESSAGE) {
        send({ t: 'rows', rows, done: false });
        rows = [];
      }
    }
    send({ t: 'rows', rows, done: true });
  }
}

main().catch((err: unknown) => send({ t: 'error', message: workerFailure(err) }));
