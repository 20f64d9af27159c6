import type { Readable } from 'node:stream';
import { ExitCode } from '../exit-codes';
import { type Output, writeWholeFile } from '../output/emitter';
import type { PortReporterRecord } from '../portreporter/record';
import { useHeapProfile, youngGenerationCap } from '../runtime/heap';
import { VERSION } from '../version';
import { SavedStateError, StatsEngine, type StatisticResult } from './engine';
import { DataError } from '../errors';
import { renderHtmlReport } from './html';
import { checkMergeable, makePartial, readPartials, statsPartialKind } from './partial';
import { STATISTICS } from './registry';
import { processKey, type StatisticDefinition } from './statistic';
import { splitStatistics, StatsThread, statsThreadsWanted, workerReadOptions } from './parallel';
import type { ReadOptions } from '../portreporter/read';
import type { LogSource } from '../portreporter/read-log';

export interface StatsRunOptions {
  /** --statistic as chosen (registry order); undefined: all (with --merge: all the partials hold). */
  statistics: StatisticDefinition[] | undefined;
  top: number | undefined;
  perComputer: boolean;
  /** The process-by-user report's process (iexplore.exe without --process); null: every process kept. */
  reportedProcess: string | null;
  /** stats: count and write the statistics; partial: write one mergeable summary; merge: combine summaries. */
  mode: 'stats' | 'partial' | 'merge';
  /** --html FILE */
  html: string | undefined;
  /** -y/--force: an existing --html file may be replaced. */
  force: boolean;
  /** Records go to the output (false with --html alone). */
  writeRecords: boolean;
  inputs: string[];
  /** The filter options as typed (report header; a partial's Filters). */
  filters: string[];
  /**
   * The records to count (stats, partial): the reader over the inputs with the filters applied. With
   * `prepare`, the reader hands it its options and the sources it found before reading them, and
   * reads what it returns (stats' second thread, src/stats/parallel.ts).
   */
  readBatches: (prepare?: (options: ReadOptions, sources: LogSource[]) => Promise<LogSource[]>) => AsyncIterable<PortReporterRecord[]>;
  /** After reading: report skipped lines (stats, partial). */
  afterRead: () => void;
  stdin: Readable;
  failOnFlag: boolean;
}

/**
 * Both semi-spaces of stats' young generation, at most (V8's own cap on 64-bit is 32 MB). On a busy
 * server's 200 MB log: 16 MB gave peak RSS 182 -> 160 MB for 7 % more CPU, 8 MB cost 50 % more CPU
 * and no memory (objects promoted too early).
 */
const YOUNG_GENERATION_CAP = 16 << 20;
/**
 * The same cap when a worker counts half the statistics (PORTQRY_STATS_WORKERS=1): peak RSS on 1 GB of
 * that log 231 -> 213 MB, the same time (the main thread counts less).
 */
const YOUNG_GENERATION_CAP_BESIDE_WORKER = 8 << 20;

/** `portqry-ts stats`: count (or merge), then write records, a partial, and/or the HTML report. */
export async function runStats(o: StatsRunOptions, output: Output): Promise<number> {
  // Counting keeps bounded tables for the whole run: hold V8's headroom over them (src/runtime/heap.ts).
  if (o.mode !== 'merge') useHeapProfile('bounded-tables');
  const engineOptions = {
    top: o.top,
    // With --partial every computer is counted on its own, so that a merge can give either view.
    perComputer: o.perComputer || o.mode === 'partial',
    // With --process the reader has already kept only that process; without it, the original's report.
    isReportedProcess: o.reportedProcess === null ? () => true : (name: string | null) => processKey(name) === o.reportedProcess,
  };
  let engine: StatsEngine;
  let thread: StatsThread | undefined;
  let flagged = false;
  if (o.mode === 'merge') {
    const parts = await readPartials(o.inputs, o.stdin);
    const statistics = checkMergeable(parts, o.statistics, STATISTICS);
    const reported = parts[0]!.partial.ReportedProcess;
    engine = new StatsEngine(statistics, { ...engineOptions, isReportedProcess: reported === null ? () => true : (name) => processKey(name) === reported });
    for (const { source, partial } of parts) {
      try {
        engine.merge(partial.Scopes, partial.Records);
      } catch (err) {
        if (err instanceof SavedStateError) throw new DataError(`${source}: stats partial is damaged (${err.part})`);
        throw err;
      }
      flagged ||= partial.Flagged;
    }
  } else {
    const statistics = o.statistics ?? [...STATISTICS];
    // Written statistic by statistic (not --partial, not --html): with PORTQRY_STATS_WORKERS=1 half of
    // them are counted by a second thread (src/stats/parallel.ts), started once the sources are known.
    const split = o.mode === 'stats' && !o.html && statsThreadsWanted() ? splitStatistics(statistics) : undefined;
    let local = statistics;
    const prepare = async (options: ReadOptions, sources: LogSource[]): Promise<LogSource[]> => {
      const read = workerReadOptions(options);
      if (!read || !split) return sources;
      thread = new StatsThread({ statistics: split.worker.map((s) => s.name), top: o.top, perComputer: o.perComputer, reportedProcess: o.reportedProcess, ...read });
      local = split.main;
      return sources.map((s) => thread!.mirror(s));
    };
    let counting: StatsEngine | undefined;
    let checkYoung: (() => void) | undefined;
    try {
      for await (const batch of o.readBatches(split ? prepare : undefined)) {
        // The young generation stops at 16 MB instead of V8's 32, at 8 MB beside a worker (src/runtime/heap.ts).
        (checkYoung ??= youngGenerationCap(thread ? YOUNG_GENERATION_CAP_BESIDE_WORKER : YOUNG_GENERATION_CAP))();
        for (const record of batch) if (record.Flagged) flagged = true;
        (counting ??= new StatsEngine(local, engineOptions)).addBatch(batch);
      }
      engine = counting ?? new StatsEngine(local, engineOptions);
      o.afterRead();
      if (o.mode === 'partial') {
        output.write(statsPartialKind, { ...makePartial(engine, { statistics, filters: o.filters, reportedProcess: o.reportedProcess, flagged, inputs: o.inputs }) });
        return flagged && o.failOnFlag ? ExitCode.Flagged : ExitCode.Ok;
      }
      if (thread) {
        await writeSplit(output, statistics, engine, thread, split!.worker);
        return flagged && o.failOnFlag ? ExitCode.Flagged : ExitCode.Ok;
      }
    } finally {
      await thread?.close();
    }
  }

  // With --html every statistic's rows are needed at once; otherwise each statistic is written and
  // its tables dropped before the next one's rows are made (engine.rowsOf).
  const results = o.html ? engine.results() : undefined;
  if (o.html) await writeHtml(o, engine, results!);
  if (o.writeRecords) {
    engine.selected.forEach((statistic, i) => {
      if (i > 0) output.note(['']);
      if (engine.isApproximate(i)) noteApproximate(output, statistic);
      const rows = results ? results[i]!.rows : engine.rowsOf(i, true);
      for (const row of rows) output.write(statistic.kind, row);
    });
  } else {
    output.note([`HTML report written to ${o.html}`]);
  }
  return flagged && o.failOnFlag ? ExitCode.Flagged : ExitCode.Ok;
}

function noteApproximate(output: Output, statistic: StatisticDefinition): void {
  output.note([`(${statistic.name}: more distinct keys than are counted exactly; the top rows are right, the tail is approximate)`]);
}

/**
 * The rows of a run counted on two threads, in the order of one thread's: each statistic's from the
 * engine that counted it.
 */
async function writeSplit(output: Output, statistics: readonly StatisticDefinition[], engine: StatsEngine, thread: StatsThread, remote: readonly StatisticDefinition[]): Promise<void> {
  const approximate = await thread.counted();
  for (const [n, statistic] of statistics.entries()) {
    if (n > 0) output.note(['']);
    const r = remote.indexOf(statistic);
    const i = engine.selected.indexOf(statistic);
    if (r >= 0 ? approximate[r] : engine.isApproximate(i)) noteApproximate(output, statistic);
    if (r >= 0) for await (const row of thread.rows(r)) output.write(statistic.kind, row);
    else for (const row of engine.rowsOf(i, true)) output.write(statistic.kind, row);
  }
}

async function writeHtml(o: StatsRunOptions, engine: StatsEngine, results: StatisticResult[]): Promise<void> {
  const page = renderHtmlReport(results, {
    generatedUtc: new Date().toISOString(),
    version: VERSION,
    inputs: o.inputs,
    filters: o.filters,
    records: engine.records,
  });
  await writeWholeFile(o.html!, page, o.force);
}
