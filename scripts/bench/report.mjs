// scripts/bench/report: regenerates, from the benchmark results the scripts saved in docs/bench/*.json
// (never from hand-copied figures), the table in README.md between `<!-- bench-table:start … -->` and
// `<!-- bench-table:end -->` and the generated part of docs/benchmarks.md between
// `<!-- bench-results:start -->` and `<!-- bench-results:end -->`. Nothing else in either file changes.
//   scripts/bench/report            rewrite both files
//   scripts/bench/report --check    exit 1 if either file is not what the results give (for CI)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS, ROOT } from './common.mjs';

const ORDER = ['startup', 'query', 'snapshot', 'record', 'parse', 'stats', 'floor'];
const results = Object.fromEntries(
  ORDER.filter((n) => fs.existsSync(path.join(RESULTS, `${n}.json`))).map((n) => [n, JSON.parse(fs.readFileSync(path.join(RESULTS, `${n}.json`), 'utf8'))]),
);

const x = (v) => `${v.toFixed(2)}×`;
const ms = (s) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);
const verdict = (met) => (met ? 'met' : '**not met**');
const cpu = (r) => (r.machine.cpu ? `${r.machine.cpu.replace(/\((R|TM)\)/g, '').replace(/ Processor$/, '')}, ` : '');
// Results saved before 2026-12-06 have only the load at the end of the run (the benchmark's own included).
const busy = (r) =>
  r.machine.loadBefore
    ? `${cpu(r)}${r.machine.busy ? 'busy machine, ' : ''}load ${r.machine.loadBefore[0].toFixed(1)} before the run on ${r.machine.cores} cores`
    : `${cpu(r)}${r.machine.busy ? 'busy machine, ' : ''}load ${r.machine.load[0].toFixed(1)} on ${r.machine.cores} cores`;
const cmp = (c) => `${x(c.ratio)} wall (${ms(c.ours.median)} vs ${ms(c.anchor.median)}), ${x(c.cpuRatio)} CPU`;
const bound = (b) => `${b.value.toFixed(b.unit === 'MB' ? 0 : 1)} ${b.unit}`;

/** README rows: [benchmark, anchor, goal, measured]. */
function rows() {
  const out = [];
  const r = results;
  if (r.startup) {
    const c = r.startup.comparisons[0];
    out.push(['`startup`: `--version`', '`node -e 0`, Node 22.23.3', '≤ 1.5×', `${cmp(c)}: ${verdict(c.met)}`, r.startup]);
  }
  if (r.query) {
    const c = r.query.comparisons[0];
    const quiet = r.query.extra?.[0];
    // nmap's own time is bimodal on this machine (scripts/bench/query): say how its runs split.
    const m = r.query.anchorModes;
    const modes = m ? `; nmap's runs: ${m.slow.runs} near ${m.slow.mean.toFixed(2)} s, ${m.fast.runs} near ${m.fast.mean.toFixed(2)} s; against its faster runs ${x(c.ours.median / m.fast.mean)}` : '';
    out.push(['`query`: 127.0.0.1 ports 1–65535, `--format jsonl`', '`nmap -sT -p- -T4 -n -Pn`', '≤ 1.0×', `${cmp(c)}: ${verdict(c.met)}${quiet ? `; with -q ${x(quiet.ratio)}` : ''}${modes}`, r.query]);
  }
  if (r.snapshot) {
    const c = r.snapshot.comparisons[0];
    // The floor (scripts/bench/floors/snapshot.mjs) ran in the same hyperfine run.
    const f = r.snapshot.comparisons[1];
    const su = r.snapshot.startUp;
    const withStartUp = su ? `, with the executable's start-up instead of Node's (+${ms(su.version - su.node)}) ${x(su.floorWithStartUp)}` : '';
    const floor = f ? `; the floor program (the same system calls and bytes, least work, same Node) ${x(f.ratio)} in that run${withStartUp}${r.snapshot.floorOutput?.sameBytes ? '' : ' (its output NOT the same bytes)'}` : '';
    out.push([`\`snapshot\`: \`record --once --format jsonl\`, ${r.snapshot.sockets.toLocaleString('en')} sockets`, '`ss -tuanp`', '≤ 1.5×', `${cmp(c)}: ${verdict(c.met)}; ${(r.snapshot.bytes.ours / 1e6).toFixed(1)} MB of JSON${floor}`, r.snapshot]);
  }
  if (r.record) {
    const [cpu, rss] = r.record.bounds;
    out.push([`\`record\`: ${r.record.seconds} s, ${r.record.sockets.toLocaleString('en')} sockets, ${r.record.runs.length} runs`, '—', '≤ 2 % CPU, ≤ 100 MB every run', `worst run ${bound(cpu)} CPU (${verdict(cpu.met)}), ${bound(rss)} peak RSS (${verdict(rss.met)})`, r.record]);
  }
  if (r.parse) {
    const c = r.parse.comparisons[0];
    const rss = r.parse.bounds.map((b) => `${bound(b)} RSS${b.name.match(/, (\d+ MB)$/) ? ` on ${b.name.match(/, (\d+ MB)$/)[1]}` : ''} (${verdict(b.met)})`).join(', ');
    // The other threading ran in the same hyperfine run: one thread since worker threads are the
    // default for large files (results saved before that hold the opt-in workers' line).
    const w = r.parse.extra?.find((e) => e.speedup !== undefined);
    const oneThread = w?.name.startsWith('PORTQRY_PARSE_WORKERS=0');
    const workers = !w ? '' : oneThread ? `; two worker threads (the default for files of 64 MB or more; one thread, \`PORTQRY_PARSE_WORKERS=0\`: ${x(w.speedup)} faster, ${ms(w.cpu)} CPU, ${w.rssMb.toFixed(0)} MB RSS)` : `; with worker threads (\`PORTQRY_PARSE_WORKERS=2\`, off by default) ${x(w.speedup)} faster, ${ms(w.cpu)} CPU, ${w.rssMb.toFixed(0)} MB RSS`;
    out.push([`\`parse\` → JSONL, ${r.parse.megabytes} MB busy-server log`, '`mlr --icsv --ojsonl cat`', '≥ 4× faster, < 200 MB', `${x(c.ratio)} faster wall (${ms(c.ours.median)} vs ${ms(c.anchor.median)}), ${x(c.cpuRatio)} CPU: ${verdict(c.met)}; ${rss}${workers}`, r.parse]);
  }
  if (r.stats) {
    // An extra peak-RSS run on a larger log (STATS_RSS_MB) comes first, named with its size.
    const big = r.stats.bounds.filter((b) => / \d+ MB$/.test(b.name));
    const [all, rss, one, oneRss] = r.stats.bounds.filter((b) => !big.includes(b));
    const onBig = big.map((b) => `; ${bound(b)} RSS on ${b.name.match(/(\d+ MB)$/)[1]} (${verdict(b.met)}, ${b.seconds.toFixed(0)} s)`).join('');
    // Two threads (PORTQRY_STATS_WORKERS=1) are opt-in: an extra line, not the goal's figure.
    const two = r.stats.extra?.find((e) => e.secondsPerGb !== undefined);
    const twoText = !two ? '' : `; two threads (\`PORTQRY_STATS_WORKERS=1\`, opt-in) ${two.secondsPerGb.toFixed(1)} s/GB, ${two.rssMb.toFixed(0)} MB RSS${two.bigRssMb === undefined ? '' : `, ${two.bigRssMb.toFixed(0)} MB RSS on ${two.bigMegabytes} MB`}`;
    out.push([`\`stats\`, all statistics, ${r.stats.megabytes} MB busy-server log`, '— (Miller count-distinct shown in docs)', '1 GB ≤ 15 s, < 200 MB', `${bound(all)} (${verdict(all.met)}), ${bound(rss)} RSS (${verdict(rss.met)})${onBig}; remote-address alone ${bound(one)}, ${bound(oneRss)}${twoText}`, r.stats]);
  }
  return out;
}

function readmeTable() {
  const lines = ['| benchmark | anchor | goal | measured (whole processes, medians) |', '|---|---|---|---|'];
  for (const [a, b, c, d, r] of rows()) lines.push(`| ${a} | ${b} | ${c} | ${d} (${r.machine.date.slice(0, 10)}, ${busy(r)}) |`);
  const f = results.floor;
  if (f) {
    const [ours, floor] = f.comparisons;
    const [all, keys, one, fields, awk, keys2Tables, keys2Rows, columns, columns2, reader] = f.bounds;
    const s = (b) => `${b.value.toFixed(1)} s/GB`;
    lines.push(
      '',
      `Floors (\`scripts/bench/floor\`: least-work programs in the same Node 22.23.3, one thread unless said, timed in the same run as the executable and the anchor, ${f.megabytes} MB busy-server log; ${f.machine.date.slice(0, 10)}, ${busy(f)}): ` +
        `a program that writes parse's JSON Lines (${f.parseOutput.sameBytes ? 'the same bytes, SHA-256 checked' : 'NOT the same bytes'}) and checks nothing is ${x(floor.ratio)} faster than Miller (the executable${f.parseWorkers ? `, with its default ${f.parseWorkers} worker threads,` : ''} ${x(ours.ratio)} in that run; goal ≥ 4×); ` +
        `counting the table keys of stats' ten statistics and nothing else (process-endpoint's table bounded, as stats bounds it) takes ${s(keys)} (the executable, all statistics, ${s(all)}${reader ? `, its reader alone (\`--statistic hour-of-day\`) ${s(reader)}` : ''}; goal ≤ 15 s/GB)` +
        (keys2Tables ? `, on two threads (the machine's two cores) ${s(keys2Tables)} (each thread half of the tables over the whole log) or ${s(keys2Rows)} (each thread half of the log, tables merged)` : '') +
        (columns ? `; keeping what the statistics keep per key (usage, hours, first and last seen, top-value lists; typed arrays, no field checked, local time taken as UTC) ${s(columns)}, on two threads ${s(columns2)}` : '') +
        `; one table (rows per remote address) ${s(one)}, mawk the same ${s(awk)}, finding the fields alone ${s(fields)}.`,
    );
  }
  lines.push('', 'Generated by `scripts/bench/report` from `docs/bench/*.json`; details, profiles and the remaining costs in [docs/benchmarks.md](docs/benchmarks.md).');
  return lines.join('\n');
}

function detail() {
  const out = [];
  for (const name of ORDER) {
    const r = results[name];
    if (!r) continue;
    out.push(`### ${name}`, '', `\`scripts/bench/${name}\`, ${r.machine.date.replace('T', ' ').slice(0, 16)} UTC, commit ${r.version ?? '?'}, ${r.executable}; ${busy(r)}${r.machine.busy ? ' (wall-clock times wait for a core: compare the CPU column and the ratios)' : ''}.`, '');
    if (r.comparisons.length > 0) {
      out.push('| command | runs | median wall | min–max | median CPU |', '|---|---|---|---|---|');
      for (const c of r.comparisons) {
        for (const s of [c.ours, c.anchor]) out.push(`| \`${s.name}\` | ${s.runs} | ${ms(s.median)} | ${ms(s.min)}–${ms(s.max)} | ${ms(s.cpu)} |`);
      }
      for (const e of r.extra ?? []) out.push(`| \`${e.name}\` (extra) | | ${ms(e.median)} | | ${ms(e.cpu)} |`);
      out.push('');
      for (const c of r.comparisons) {
        if (c.goal.informative) out.push(`- ${c.title}: speed-up over the anchor ${x(c.ratio)} wall, ${x(c.cpuRatio)} CPU (for orientation; no goal).`);
        else out.push(`- ${c.title}: ${c.goal.of === 'speedup' ? 'speed-up (anchor / ours)' : 'ratio (ours / anchor)'} ${x(c.ratio)} wall-clock, ${x(c.cpuRatio)} CPU; goal ${c.goal.op} ${c.goal.value}×: ${verdict(c.met)}.`);
      }
    }
    for (const b of r.bounds ?? []) out.push(`- ${b.name}: ${bound(b)}; goal ${b.goal.op} ${b.goal.value} ${b.unit}: ${verdict(b.met)}.`);
    for (const e of r.extra ?? []) {
      if (e.secondsPerGb !== undefined) out.push(`- ${e.name} (extra, no goal): ${e.secondsPerGb.toFixed(1)} s/GB, CPU ${e.cpuPerGb.toFixed(1)} s/GB, peak RSS ${e.rssMb.toFixed(0)} MB${e.bigRssMb === undefined ? '' : `; on ${e.bigMegabytes} MB ${e.bigSecondsPerGb.toFixed(1)} s/GB, peak RSS ${e.bigRssMb.toFixed(0)} MB`}.`);
    }
    if (r.runs) for (const [i, run] of r.runs.entries()) out.push(`- run ${i + 1}: CPU ${run.cpuSteady.toFixed(2)} % steady (${run.cpuWhole.toFixed(2)} % whole run), peak RSS ${run.rssMb.toFixed(1)} MB, exit ${run.code}${run.machineEndpoints ? `; ${run.machineEndpoints} endpoints on the machine (the recorder logs all of them, other processes' too)` : ''}.`);
    if (r.bytes && typeof r.bytes === 'object') out.push(`- output bytes: ${Object.entries(r.bytes).map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)} MB`).join(', ')}; ${r.endpoints} endpoints on the machine.`);
    if (r.outputBytes) out.push(`- input ${(r.bytes / 1048576).toFixed(0)} MiB, ${r.rows} rows; output ${(r.outputBytes.ours / 1048576).toFixed(0)} MiB of JSON Lines (24 fields per record; Miller's carry the 10 log columns); Miller's peak RSS ${r.millerRssMb.toFixed(0)} MB.`);
    if (r.startUp) out.push(`- start-up in the same run: \`portqry-ts --version\` ${ms(r.startUp.version)}, \`node -e 0\` ${ms(r.startUp.node)}; the floor with the executable's start-up instead of Node's ${x(r.startUp.floorWithStartUp)} the anchor.`);
    if (r.floorOutput) out.push(`- the floor program's output ${r.floorOutput.bytes} bytes: ${r.floorOutput.sameBytes ? "the same bytes as the executable's (SHA-256)" : "NOT the same bytes as the executable's"}.`);
    if (r.parseOutput) out.push(`- parse's output ${r.parseOutput.ours} bytes, the floor program's ${r.parseOutput.floor} bytes: ${r.parseOutput.sameBytes ? 'the same bytes (SHA-256)' : 'NOT the same bytes'}.`);
    if (r.sizes) for (const s of r.sizes) out.push(`- ${s.file}: ${(s.bytes / 1048576).toFixed(1)} MiB.`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function replaceBetween(file, start, end, body) {
  const text = fs.readFileSync(file, 'utf8');
  const a = text.search(start);
  const b = text.indexOf(end);
  if (a < 0 || b < 0 || b < a) throw new Error(`${path.relative(ROOT, file)}: markers not found`);
  const startLineEnd = text.indexOf('\n', a) + 1;
  return [text, text.slice(0, startLineEnd) + body + '\n' + text.slice(b)];
}

const check = process.argv.includes('--check');
let stale = false;
for (const [file, start, end, body] of [
  [path.join(ROOT, 'README.md'), /<!-- bench-table:start[^\n]*-->/, '<!-- bench-table:end -->', readmeTable()],
  [path.join(ROOT, 'docs', 'benchmarks.md'), /<!-- bench-results:start[^\n]*-->/, '<!-- bench-results:end -->', detail()],
]) {
  const [before, after] = replaceBetween(file, start, end, body);
  if (before === after) continue;
  if (check) {
    console.error(`${path.relative(ROOT, file)} is not what docs/bench/*.json give: run scripts/bench/report`);
    stale = true;
  } else {
    fs.writeFileSync(file, after);
    console.log(`updated ${path.relative(ROOT, file)}`);
  }
}
process.exit(stale ? 1 : 0);
