// scripts/bench/query's work: a full loopback TCP connect scan, whole processes as a user runs them,
// output included (JSON Lines to /dev/null):
//   ours:   dist/portqry-ts query -n 127.0.0.1 -r 1:65535 --format jsonl > /dev/null
//   anchor: nmap -sT -p- -T4 -n -Pn 127.0.0.1 > /dev/null
// interleaved runs, medians, ratio (goal <= 1.0x). Extra lines: the same scan with -q (no output:
// the scan alone) and with --format csv. One verification run first checks 65,535 records.
import { execFileSync, spawnSync } from 'node:child_process';
import { BIN, compare, hyperfine, q, requireBuilt, requireTool, save } from './common.mjs';

requireBuilt();
requireTool('nmap', 'nmap');
const RUNS = Number(process.env.RUNS ?? 5);
const OURS = 'portqry-ts query -r 1:65535 --format jsonl';
const ANCHOR = 'nmap -sT -p- -T4 -n -Pn';
const scan = `${q(BIN)} query -n 127.0.0.1 -r 1:65535`;

const check = spawnSync(BIN, ['query', '-n', '127.0.0.1', '-r', '1:65535', '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 1 << 28 });
const lines = check.stdout.split('\n').length - 1;
if (lines !== 65535) throw new Error(`portqry-ts printed ${lines} records (exit ${check.status}), expected 65535: ${check.stderr}`);
console.log(`verification run: 65535 records, ${check.stdout.length} bytes, exit ${check.status}; nmap ${execFileSync('nmap', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`);

const t = hyperfine(
  [
    { name: OURS, cmd: `${scan} --format jsonl` },
    { name: ANCHOR, cmd: 'nmap -sT -p- -T4 -n -Pn 127.0.0.1' },
    { name: 'portqry-ts query -r 1:65535 -q (no output)', cmd: `${scan} -q` },
  ],
  { runs: RUNS, warmup: 1, ignoreFailure: true },
);
const main = compare('TCP connect scan of 127.0.0.1 ports 1-65535, output to /dev/null', t, OURS, ANCHOR, { op: '<=', value: 1.0, of: 'ratio' });
const quiet = t['portqry-ts query -r 1:65535 -q (no output)'];
console.log(`  extra: -q (no output) median ${quiet.median.toFixed(2)} s, ${(quiet.median / t[ANCHOR].median).toFixed(2)}x nmap`);
save('query', { comparisons: [main], extra: [{ name: 'query -r 1:65535 -q (no output)', median: quiet.median, cpu: quiet.cpu, ratio: quiet.median / t[ANCHOR].median }], bytes: check.stdout.length });
