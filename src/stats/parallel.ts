import { Worker } from 'node:worker_threads';
import type { OutputRecord } from '../output/record-kind';
import type { FilterOptions } from '../portreporter/filter';
import type { ReadOptions } from '../portreporter/read';
import type { LogSource } from '../portreporter/read-log';
import type { StatisticDefinition } from './statistic';

/**
 * `stats` on two threads: the statistics are split into two groups of about equal cost; the main thread
 * counts one, a worker thread the other. Both read the same bytes: the main thread reads each log as
 * before and sends a copy of every chunk to the worker, which parses and filters them with the same
 * reader (so both see the same records, also from a log that grows while it is read, or from stdin).
 * Each statistic is counted whole by one thread, so nothing is merged and the rows are those of one
 * thread, byte for byte; the worker's rows are sent back statistic by statistic when the output
 * reaches them. The PR-PIDS files rows are joined with are read by each thread, as parse's workers do:
 * of a log set a recorder is still writing, a process recorded between the two reads (at the start of
 * a run, moments apart) can be named in one thread's statistics and not yet in the other's. Counting is
 * memory-bound (docs/benchmarks.md, stats): a second thread has its own caches' worth of tables to work on.
 *
 * A worker that fails is reported only once the main thread has read everything (counted, rows): an
 * error in the logs is the main thread's to report (its message and exit code), and the worker, which
 * reads the same bytes, may meet the same error first.
 */

// The worker's code: scripts/bundle.mjs bundles src/stats/stats-worker.ts and defines this as its text.
// Undefined when running from the TypeScript sources (tests in-process): then one thread.
declare const __PORTQRY_STATS_WORKER__: string | undefined;

function workerSource(): string | undefined {
  return typeof __PORTQRY_STATS_WORKER__ === 'string' ? __PORTQRY_STATS_WORKER__ : undefined;
}

/** What the worker needs to read and count as the main thread does (plain data, cloned to it). */
export interface StatsWorkerSetup {
  /** Names of the statistics the worker counts, in output order. */
  statistics: string[];
  top: number | undefined;
  perComputer: boolean;
  reportedProcess: string | null;
  utcOffsetMinutes: number | undefined;
  computer: string | undefined;
  filter: FilterOptions | undefined;
  maxLineBytes: number | undefined;
}

export type ToWorker =
  | { t: 'source'; name: string; path: string | undefined; explicit: boolean }
  | { t: 'chunk'; data: Uint8Array | string }
  | { t: 'source-end' }
  | { t: 'end' }
  | { t: 'rows'; statistic: number };

export type FromWorker =
  | { t: 'ack' }
  | { t: 'counted'; approximate: boolean[] }
  | { t: 'rows'; rows: OutputRecord[]; done: boolean }
  | { t: 'error'; message: string };

/**
 * Relative cost of counting each statistic (ms per 100,000 records of the busy-server bench log,
 * in-process, scripts/bench/stats-parts.ts, less the engine's own ~12 ms that every statistic's figure
 * there includes): what splitStatistics balances. Measured 2026-12-06, after process-endpoint,
 * local-tcp-port and computer moved to columns.
 */
export const COST: Readonly<Record<string, number>> = {
  'remote-address': 62,
  'process-endpoint': 28,
  'local-tcp-port': 10,
  svchost: 10,
  'process-usage': 9,
  'user-context': 9,
  computer: 9,
  'new-listener': 2,
  'process-by-user': 1,
  'hour-of-day': 1,
};

/**
 * The selected statistics in two groups of about equal cost (greedy, costliest first; the main thread,
 * which also writes the output, takes the costliest). Undefined when one statistic is selected.
 */
export function splitStatistics(selected: readonly StatisticDefinition[]): { main: StatisticDefinition[]; worker: StatisticDefinition[] } | undefined {
  if (selected.length < 2) return undefined;
  const cost = (s: StatisticDefinition) => COST[s.name] ?? 10;
  const order = [...selected].sort((a, b) => cost(b) - cost(a));
  const main = new Set<StatisticDefinition>();
  let mainCost = 0;
  let workerCost = 0;
  for (const s of order) {
    if (mainCost <= workerCost) {
      main.add(s);
      mainCost += cost(s);
    } else workerCost += cost(s);
  }
  return { main: selected.filter((s) => main.has(s)), worker: selected.filter((s) => !main.has(s)) };
}

/**
 * Whether stats counts on two threads: only when PORTQRY_STATS_WORKERS=1. Not by default: the worker is a
 * second V8 heap and reader (about 20 MB before it counts, 30 MB more at the peak in the executable),
 * which takes the peak on 1 GB of a busy server's log from 167-172 MB to 198-205 MB, at or over the
 * 200 MB bound; on two cores it takes 17-29 % off the wall-clock time (docs/benchmarks.md, "stats: a
 * second thread, opt-in" and "stats: every large table as columns").
 */
export function statsThreadsWanted(env: NodeJS.ProcessEnv = process.env, bundled: boolean = workerSource() !== undefined): boolean {
  return bundled && env.PORTQRY_STATS_WORKERS === '1';
}

/**
 * What the worker reads with: the options that shape the records. Undefined when the records need what
 * only the main thread does (names resolved by DNS, criteria flags).
 */
export function workerReadOptions(options: ReadOptions): Pick<StatsWorkerSetup, 'utcOffsetMinutes' | 'computer' | 'filter' | 'maxLineBytes'> | undefined {
  if (options.resolve || options.criteria || options.flaggedOnly) return undefined;
  return { utcOffsetMinutes: options.utcOffsetMinutes, computer: options.computer, filter: options.filter, maxLineBytes: options.maxLineBytes };
}

/**
 * Chunks sent and not yet taken by the worker's reader, at most: the main thread waits for the worker
 * beyond this (64 KiB reads, src/portreporter/inputs.ts: 1 MiB in flight), so a slower worker never
 * makes a queue of the log.
 */
const IN_FLIGHT = 16;

/**
 * Young generation of the worker's heap (both semi-spaces). Counting keeps bounded tables; a smaller
 * young generation promotes short-lived objects and costs CPU (src/stats/run.ts, the main thread's cap).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/** Rows per message when the worker sends a statistic's rows back. */
export const ROWS_PER_MESSAGE = 512;

/** The worker thread of one stats run and the main thread's side of its messages. */
export class StatsThread {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private inFlight = 0;
  private wake: (() => void) | undefined;
  private readonly inbox: FromWorker[] = [];

  /** `code`: the worker's script (tests give a stand-in); default the embedded stats-worker.ts bundle. */
  constructor(
    private readonly setup: StatsWorkerSetup,
    code: string = workerSource()!,
  ) {
    this.worker = new Worker(code, {
      eval: true,
      workerData: setup,
      stdout: false,
      stderr: false,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ack') this.inFlight--;
      else if (m.t === 'error') this.fail(new Error(`stats worker thread: ${m.message}`));
      else this.inbox.push(m);
      this.notify();
    });
    this.worker.on('error', (err) => this.fail(err instanceof Error ? err : new Error(String(err))));
    this.worker.on('exit', (code) => this.fail(new Error(`stats worker thread exited (${code})`)));
  }

  /** The source, read as before, each chunk also sent to the worker. */
  mirror(source: LogSource): LogSource {
    return { ...source, open: () => this.mirrored(source) };
  }

  private async *mirrored(source: LogSource): AsyncGenerator<Buffer | string> {
    this.post({ t: 'source', name: source.name, path: source.path, explicit: source.explicit });
    try {
      for await (const chunk of source.open()) {
        // A copy: the reader keeps using the chunk (and its pooled memory) on this thread.
        this.post({ t: 'chunk', data: typeof chunk === 'string' ? chunk : new Uint8Array(chunk) });
        this.inFlight++;
        while (this.inFlight > IN_FLIGHT && !this.failure) await this.next();
        yield chunk;
      }
    } finally {
      this.post({ t: 'source-end' });
    }
  }

  /** Every source was read: waits for the worker's counts; which of its statistics are approximate. */
  async counted(): Promise<boolean[]> {
    this.post({ t: 'end' });
    for (;;) {
      const m = this.inbox.shift();
      if (m?.t === 'counted') return m.approximate;
      if (m === undefined) await this.next();
    }
  }

  /** The rows of the worker's statistic i (its index in the setup's statistics), as its engine makes them. */
  async *rows(i: number): AsyncGenerator<OutputRecord> {
    this.post({ t: 'rows', statistic: i });
    for (;;) {
      const m = this.inbox.shift();
      if (m === undefined) {
        await this.next();
        continue;
      }
      if (m.t !== 'rows') continue;
      yield* m.rows;
      if (m.done) return;
    }
  }

  async close(): Promise<void> {
    // PORTQRY_STATS_TRACE: which statistics the worker counted (tests prove the path was taken).
    if (process.env.PORTQRY_STATS_TRACE) process.stderr.write(`portqry-ts: trace: ${this.setup.statistics.join(',')} counted by a worker thread\n`);
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  /** To the worker; nothing once it failed (reading goes on: see the class's comment). */
  private post(m: ToWorker): void {
    if (!this.failure) this.worker.postMessage(m);
  }

  /** Resolves at the worker's next message; throws its failure (once nothing of it is left to read). */
  private next(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }
}
