// scripts/bench/stats's work: `stats` over a PR-PORTS log with a busy server's variety
// (generate-pr-ports.mjs), whole processes as a user runs them, output to /dev/null:
//   - every statistic:            dist/portqry-ts stats FILE --utc-offset +00:00 --format jsonl
//   - one, remote-address:        ... --statistic remote-address (the one whose memory grows with variety)
//   - extra: two threads:         PORTQRY_STATS_WORKERS=1 ... (opt-in: a worker thread counts half of the
//     statistics; printed and saved as an extra line, not held against the goals, which are the default's)
//   - the anchor: Miller counting rows per process (`mlr count-distinct -f 9`), the nearest
//     general-purpose tool doing the simplest of those statistics;
// interleaved, medians; then peak RSS of each stats run under GNU time. Goals: 1 GB in <= 15 s (the
// time is scaled to seconds per GB when the log is smaller), peak RSS < 200 MB.
import * as fs from 'node:fs';
import { BIN, benchInput, benchLog, compare, hyperfine, peakRss, q, requireBuilt, requireTool, save } from './common.mjs';

requireBuilt();
requireTool('mlr', 'miller');
const { MB, RUNS, log, bytes, gb } = benchInput(1024);
const ALL = `portqry-ts stats (${MB} MB), all statistics`;
const ONE = `portqry-ts stats (${MB} MB) --statistic remote-address`;
const ANCHOR = 'mlr count-distinct -f 9';
const TWO = `PORTQRY_STATS_WORKERS=1 portqry-ts stats (${MB} MB), all statistics`;
const stats = `${q(BIN)} stats ${q(log)} --utc-offset +00:00 --format jsonl`;
const t = hyperfine(
  [
    { name: ALL, cmd: stats },
    { name: ANCHOR, cmd: `tail -n +8 ${q(log)} | mlr --icsv --implicit-csv-header --ojson count-distinct -f 9` },
    { name: ONE, cmd: `${stats} --statistic remote-address` },
    { name: TWO, cmd: `PORTQRY_STATS_WORKERS=1 ${stats}` },
  ],
  { runs: RUNS, warmup: 0 },
);
const vsMiller = compare(`stats over ${MB} MB (busy-server variety), output to /dev/null`, t, ALL, ANCHOR, { op: '>=', value: 0, of: 'speedup', informative: true });
const perGb = t[ALL].median / gb;
const onePerGb = t[ONE].median / gb;
const rssAll = peakRss(`${stats} > /dev/null`);
const rssOne = peakRss(`${stats} --statistic remote-address > /dev/null`);
const twoPerGb = t[TWO].median / gb;
const rssTwo = peakRss(`${stats} > /dev/null`, { PORTQRY_STATS_WORKERS: '1' });
console.log(`  all statistics: ${perGb.toFixed(1)} s per GB (goal <= 15 s), peak RSS ${rssAll.rssMb.toFixed(0)} MB (goal < 200 MB)`);
console.log(`  --statistic remote-address: ${onePerGb.toFixed(1)} s per GB, peak RSS ${rssOne.rssMb.toFixed(0)} MB`);
console.log(`  extra: two threads (PORTQRY_STATS_WORKERS=1, not the default): ${twoPerGb.toFixed(1)} s per GB, CPU ${(t[TWO].cpu / gb).toFixed(1)} s per GB, peak RSS ${rssTwo.rssMb.toFixed(0)} MB`);
const big = Number(process.env.STATS_RSS_MB ?? 0);
const twoThreads = { name: 'PORTQRY_STATS_WORKERS=1 stats, all statistics (two threads, opt-in)', median: t[TWO].median, cpu: t[TWO].cpu, secondsPerGb: twoPerGb, cpuPerGb: t[TWO].cpu / gb, rssMb: rssTwo.rssMb };
const extra = [];
if (big > 0) {
  const bigLog = benchLog(big);
  const r = peakRss(`${q(BIN)} stats ${q(bigLog)} --utc-offset +00:00 --format jsonl > /dev/null`);
  const bigGb = fs.statSync(bigLog).size / 1073741824;
  const perGbBig = r.seconds / bigGb;
  console.log(`  all statistics on ${big} MB: peak RSS ${r.rssMb.toFixed(0)} MB (goal < 200 MB), ${r.seconds.toFixed(1)} s (${perGbBig.toFixed(1)} s per GB), exit ${r.code}`);
  extra.push({ name: `stats, all statistics, peak RSS, ${big} MB`, value: r.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: r.rssMb < 200, seconds: r.seconds });
  const r2 = peakRss(`${q(BIN)} stats ${q(bigLog)} --utc-offset +00:00 --format jsonl > /dev/null`, { PORTQRY_STATS_WORKERS: '1' });
  console.log(`  extra: two threads on ${big} MB: peak RSS ${r2.rssMb.toFixed(0)} MB, ${r2.seconds.toFixed(1)} s (${(r2.seconds / bigGb).toFixed(1)} s per GB), exit ${r2.code}`);
  Object.assign(twoThreads, { bigRssMb: r2.rssMb, bigMegabytes: big, bigSecondsPerGb: r2.seconds / bigGb });
}
save('stats', {
  megabytes: MB,
  bytes,
  comparisons: [vsMiller],
  extra: [twoThreads],
  bounds: [
    ...extra,
    { name: 'stats, all statistics, seconds per GB', value: perGb, unit: 's/GB', goal: { op: '<=', value: 15 }, met: perGb <= 15 },
    { name: 'stats, all statistics, peak RSS', value: rssAll.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: rssAll.rssMb < 200 },
    { name: 'stats --statistic remote-address, seconds per GB', value: onePerGb, unit: 's/GB', goal: { op: '<=', value: 15 }, met: onePerGb <= 15 },
    { name: 'stats --statistic remote-address, peak RSS', value: rssOne.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: rssOne.rssMb < 200 },
  ],
});
