// scripts/bench/parse's work: `parse` of a PR-PORTS log with a busy server's variety
// (generate-pr-ports.mjs) to JSON Lines, whole processes as a user runs them, against Miller over the
// same file, interleaved, medians; speed-up = Miller / ours (goal >= 4x). Every timed run is wrapped in
// GNU time for peak RSS (goal: parse < 200 MB; PARSE_RSS_MB=1024 adds one run on 1 GB).
//   ours:   dist/portqry-ts parse FILE --format jsonl > /dev/null
//   anchor: { sed -n 6p FILE; tail -n +8 FILE; } | mlr --icsv --ojsonl cat > /dev/null
//   extra:  PORTQRY_PARSE_WORKERS=0 dist/portqry-ts parse FILE --format jsonl > /dev/null (one thread:
//           the default runs two worker threads on a file this large; docs/benchmarks.md, parse), in the
//           same run
// Miller cannot skip PR-PORTS' preamble (title, "Check PR-PIDS…", "Log format:") nor the blank line
// after the column line, so it is fed the column line as its CSV header and the rows after it (sed
// and tail copy at GB/s; their share is negligible). Miller's rows carry the 10 log columns; ours carry
// the 24 PortReporterRecord fields (process detail from PR-PIDS, UTC times): about 2.7x the bytes.
import * as fs from 'node:fs';
import { BIN, benchInput, benchLog, compare, hyperfine, peakRss, q, requireBuilt, requireTool, RESULTS, save, versionOf, WORK } from './common.mjs';

requireBuilt();
// PARSE_RSS_ONLY=1024: only the peak-RSS run on a 1024 MB log, added to the saved docs/bench/parse.json.
if (process.env.PARSE_RSS_ONLY) {
  const big = Number(process.env.PARSE_RSS_ONLY);
  const r = peakRss(`${q(BIN)} parse ${q(benchLog(big))} --format jsonl > /dev/null`);
  console.log(`parse, ${big} MB busy-server log -> JSON Lines: peak RSS ${r.rssMb.toFixed(0)} MB (goal < 200 MB: ${r.rssMb < 200 ? 'met' : 'NOT met'}), ${r.seconds.toFixed(1)} s, exit ${r.code}`);
  const file = `${RESULTS}/parse.json`;
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  doc.bounds = doc.bounds.filter((b) => b.name !== `parse peak RSS, ${big} MB`);
  doc.bounds.push({ name: `parse peak RSS, ${big} MB`, value: r.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: r.rssMb < 200, seconds: r.seconds, date: new Date().toISOString(), version: versionOf() });
  if (!process.env.BENCH_NO_SAVE) fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  process.exit(0);
}
requireTool('mlr', 'miller');
const { MB, RUNS, log, bytes } = benchInput(200);
const OURS = `portqry-ts parse (${MB} MB) --format jsonl`;
const ANCHOR = 'mlr --icsv --ojsonl cat';
const ONE_THREAD = `PORTQRY_PARSE_WORKERS=0 portqry-ts parse (${MB} MB) --format jsonl`;
const ours = `${q(BIN)} parse ${q(log)} --format jsonl`;
const oneThread = `PORTQRY_PARSE_WORKERS=0 ${ours}`;
const mlr = `{ sed -n 6p ${q(log)}; tail -n +8 ${q(log)}; } | mlr --icsv --ojsonl cat`;

// One checked run first: every row becomes one record.
const rows = Number(execSh(`tail -n +8 ${q(log)} | wc -l`));
const [records, oursBytes] = execSh(`${ours} | wc -lc`).split(/\s+/).map(Number);
if (records !== rows) throw new Error(`parse wrote ${records} records for ${rows} rows`);
console.log(`input: ${(bytes / 1048576).toFixed(1)} MiB, ${rows} rows; output: ${(oursBytes / 1048576).toFixed(0)} MiB of JSON Lines (24 fields per record; Miller's rows carry the 10 log columns)`);

// Peak RSS of every timed run, through GNU time around both commands alike.
requireTool('/usr/bin/time', 'time');
const rssFile = (name) => `${WORK}/rss-${name}-${process.pid}.txt`;
const timed = (name, cmd) => `/usr/bin/time -f %M -a -o ${q(rssFile(name))} sh -c ${q(cmd)}`;
const t = hyperfine(
  [
    { name: OURS, cmd: timed('ours', ours) },
    { name: ANCHOR, cmd: timed('mlr', mlr) },
    { name: ONE_THREAD, cmd: timed('one-thread', oneThread) },
  ],
  { runs: RUNS, warmup: 0 },
);
const maxRss = (name) => {
  const kb = fs.readFileSync(rssFile(name), 'utf8').trim().split('\n').map(Number);
  fs.rmSync(rssFile(name), { force: true });
  return Math.max(...kb) / 1024;
};
const rss = { rssMb: maxRss('ours') };
const mlrRss = { rssMb: maxRss('mlr') };
const oneThreadRss = maxRss('one-thread');
const main = compare(`parse ${MB} MB PR-PORTS (busy-server variety) -> JSON Lines, output to /dev/null`, t, OURS, ANCHOR, { op: '>=', value: 4, of: 'speedup' });
const mbps = (s) => bytes / 1048576 / s;
console.log(`  throughput: ours ${mbps(t[OURS].median).toFixed(1)} MB/s, Miller ${mbps(t[ANCHOR].median).toFixed(1)} MB/s`);
console.log(`  peak RSS on ${MB} MB (worst timed run): ours ${rss.rssMb.toFixed(0)} MB, Miller ${mlrRss.rssMb.toFixed(0)} MB`);
const w = t[ONE_THREAD];
console.log(`  extra: one thread (PORTQRY_PARSE_WORKERS=0) median ${w.median.toFixed(2)} s, CPU ${w.cpu.toFixed(2)} s, ${(t[ANCHOR].median / w.median).toFixed(2)}x faster than Miller, peak RSS ${oneThreadRss.toFixed(0)} MB`);
const bounds = [{ name: `parse peak RSS, ${MB} MB`, value: rss.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: rss.rssMb < 200 }];
const big = Number(process.env.PARSE_RSS_MB ?? 0);
if (big > 0) {
  const bigLog = benchLog(big);
  const r = peakRss(`${q(BIN)} parse ${q(bigLog)} --format jsonl > /dev/null`);
  console.log(`  peak RSS on ${big} MB: ours ${r.rssMb.toFixed(0)} MB (${r.seconds.toFixed(1)} s)`);
  bounds.push({ name: `parse peak RSS, ${big} MB`, value: r.rssMb, unit: 'MB', goal: { op: '<', value: 200 }, met: r.rssMb < 200, seconds: r.seconds });
}
save('parse', {
  megabytes: MB,
  bytes,
  rows,
  outputBytes: { ours: oursBytes },
  comparisons: [main],
  extra: [{ name: 'PORTQRY_PARSE_WORKERS=0 parse --format jsonl (one thread)', median: w.median, cpu: w.cpu, speedup: t[ANCHOR].median / w.median, rssMb: oneThreadRss }],
  bounds,
  millerRssMb: mlrRss.rssMb,
});

function execSh(cmd) {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim();
}
import { execFileSync } from 'node:child_process';
