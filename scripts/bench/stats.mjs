// scripts/bench/stats's work: `stats` over a PR-PORTS log with a busy server's variety
// (generate-pr-ports.mjs), whole processes as a user runs them, output to /dev/null:
//   - every statistic:            dist/portqry-ts stats FILE --utc-offset +00:00 --format jsonl
//   - one, remote-address:        ... --statistic remote-address (the one whose memory grows with variety)
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
const stats = `${q(BIN)} stats ${q(log)} --utc-offset +00:00 --format jsonl`;
const t = hyperfine(
  [
    { name: ALL, cmd: stats },
    { name: ANCHOR, cmd: `tail -n +8 ${q(log)} | mlr --icsv --implicit-csv-header --ojson count-distinct -f 9` },
    { name: ONE, cmd: `${stats} --statistic remote-address` },
  ],
  { runs: RUNS, warmup: 0 },
);
const vsMiller = compare(`stats over ${MB} MB (busy-server variety), output to /dev/null`, t, ALL, ANCHOR, { op: '>=', value: 0, of: 'speedup', informative: true });
const perGb = t[ALL].median / gb;
const onePerGb = t[ONE].median / gb;
const rssAll = peakRss(`${stats} > /dev/null`);
const rssOne = peakRss(`${stats} --statistic remote-address > /dev/null`);
console.log(`  all statistics: ${perGb.toFixed(1)} s per GB (goal <= 15 s), peak RSS ${rssAll.rssMb.toFixed(0)} MB (goal < 200 MB)`);
console.log(`  --statistic remote-address: ${onePerGb.toFixed(1)} s per GB, peak RSS ${rssOne.rssMb.toFixed(0)} MB`);
const big = Number(process.env.STATS_RSS_MB ?? 0);
const extra = [];
if (big > 0) {
  const bigLog = benchLog(big);
  const r = peakRss(`${q(BIN)} stats ${q(bigLog)} --utc-offset +00:00 --format jsonl > /dev/null`);
  const perGbBig = r.seconds / (fs.statSync(bigLog).size / 1073741824);
  console.log(`  all statistics on ${big} MB: peak RSS ${r.rssMb.toFixed(0)} MB (goal < 200 MB), ${r.seconds.toFixed(1)} s (${perGbBig.toFixed(1)} s per GB), exit ${r.code}`);
  extra.push({ name: `stats, all statistics, peak RSS, ${big} MB`, value: r.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: r.rssMb < 200, seconds: r.seconds });
}
save('stats', {
  megabytes: MB,
  bytes,
  comparisons: [vsMiller],
  bounds: [
    ...extra,
    { name: 'stats, all statistics, seconds per GB', value: perGb, unit: 's/GB', goal: { op: '<=', value: 15 }, met: perGb <= 15 },
    { name: 'stats, all statistics, peak RSS', value: rssAll.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: rssAll.rssMb < 200 },
    { name: 'stats --statistic remote-address, seconds per GB', value: onePerGb, unit: 's/GB', goal: { op: '<=', value: 15 }, met: onePerGb <= 15 },
    { name: 'stats --statistic remote-address, peak RSS', value: rssOne.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: rssOne.rssMb < 200 },
  ],
});
