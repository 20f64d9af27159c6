// What each statistic of `stats` costs, IN-PROCESS (not a whole-process benchmark: no start-up, no
// reading, no output; the figures say where counting time goes, scripts/bench/stats times what a user
// waits for). The first ROWS records of the busy-server bench log (scripts/bench/common.mjs benchLog)
// are read once and kept in memory; then each statistic alone, and all of them together, count them
// ROUNDS times, interleaved; medians.
//   node --import=tsx scripts/bench/stats-parts.ts [megabytes of log, default 200]
// Environment: ROWS (default 200000), ROUNDS (default 7), ONLY (comma-separated statistic names).
import { readPortReporterBatches } from '../../src/portreporter/read';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { StatsEngine } from '../../src/stats/engine';
import { STATISTICS } from '../../src/stats/registry';
import { processKey } from '../../src/stats/statistic';
import { DEFAULT_REPORTED_PROCESS } from '../../src/stats/statistics/process-by-user';
import * as path from 'node:path';
import { benchLog, median } from './common.mjs';

const megabytes = Number(process.argv[2] ?? 200);
const ROWS = Number(process.env.ROWS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const only = process.env.ONLY?.split(',').map((s) => s.trim());

const dir = path.dirname(benchLog(megabytes));
// Kept in the reader's batches: stats counts a batch statistic by statistic (StatsEngine.addBatch).
const batches: PortReporterRecord[][] = [];
let count = 0;
for await (const batch of readPortReporterBatches([dir], {})) {
  const part = batch.slice(0, ROWS - count);
  batches.push(part);
  count += part.length;
  if (count >= ROWS) break;
}
// As `stats` runs by default: process-by-user reports DEFAULT_REPORTED_PROCESS.
const options = { top: undefined, perComputer: false, isReportedProcess: (name: string | null) => processKey(name) === DEFAULT_REPORTED_PROCESS };
const chosen = STATISTICS.filter((s) => !only || only.includes(s.name));
const runs = [...chosen.map((s) => ({ name: s.name, statistics: [s] })), ...(only ? [] : [{ name: 'all together', statistics: [...STATISTICS] }])];
const times = new Map<string, number[]>(runs.map((r) => [r.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const run of runs) {
    const engine = new StatsEngine(run.statistics, options);
    const start = process.hrtime.bigint();
    for (const batch of batches) engine.addBatch(batch);
    times.get(run.name)!.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}
console.log(`stats counting, in-process: ${count} records of ${dir}, ${ROUNDS} rounds, medians (ms per 100,000 records)`);
const sum = chosen.reduce((s, st) => s + median(times.get(st.name)!), 0);
for (const run of runs) {
  const ms = median(times.get(run.name)!);
  const share = run.statistics.length === 1 ? `  ${((100 * ms) / sum).toFixed(0).padStart(3)} % of the sum` : '';
  console.log(`  ${run.name.padEnd(18)} ${((ms * 100_000) / count).toFixed(0).padStart(6)} ms${share}`);
}
