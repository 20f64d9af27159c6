/**
 * `scripts/bench/query --dropped`: 1,000 TCP ports on a network-namespace host that DROPs them all, the
 * same per-attempt timeout and attempt count for both tools (portqry-ts --timeout T --retries R; nmap
 * --max-retries R-1 with its RTT timeouts pinned to T, -Pn -n so that it does not ping or resolve
 * first). Whole processes, one run each (nmap takes minutes there; both are waiting, not computing).
 * Prints the ratio portqry-ts / nmap (goal <= 1.0). Needs root for the namespaces, and nmap.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createLab } from '../../test/helpers/netns-lab';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const RUNS = Number(process.argv[2] ?? 3);
const TIMEOUT_MS = 1000;
const ATTEMPTS = 3;
const DROP_PORTS = [20000, 20999];

const cli = process.env.PORTQRY_BIN ? [process.env.PORTQRY_BIN] : [process.execPath, path.join(ROOT, 'dist', 'main.cjs')];

/** Wall-clock seconds of one run; stdout discarded. Returns the exit code and line count too. */
function timed(argv: string[]): { seconds: number; code: number | null; lines: number; stderr: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.error) throw r.error;
  return { seconds, code: r.status, lines: r.stdout ? r.stdout.split('\n').length - 1 : 0, stderr: r.stderr };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function compare(title: string, ours: string[], nmap: string[], check: (r: ReturnType<typeof timed>) => void, runs = RUNS): number {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = timed(ours);
    check(r);
    a.push(r.seconds);
    const n = timed(nmap);
    if (n.code !== 0) throw new Error(`nmap failed: ${n.stderr}`);
    b.push(n.seconds);
  }
  const ratio = median(a) / median(b);
  console.log(`\n${title}`);
  console.log(`  portqry-ts  median ${median(a).toFixed(2)} s  runs ${a.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`  nmap        median ${median(b).toFixed(2)} s  runs ${b.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`  ratio portqry-ts/nmap: ${ratio.toFixed(2)}`);
  return ratio;
}

function main(): void {
  if (spawnSync('sh', ['-c', 'command -v nmap'], { stdio: 'ignore' }).status !== 0) {
    console.error('bench: nmap is not installed (Debian package nmap)');
    process.exit(69);
  }
  console.log(`portqry-ts: ${cli.join(' ')} (node ${process.version}); nmap: ${spawnSync('nmap', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}; ${RUNS} runs each, alternating`);

  const lab = createLab({ peerRules: [`tcp dport ${DROP_PORTS[0]}-${DROP_PORTS[1]} drop`] });
  let dropRatio: number;
  try {
    const inClient = (argv: string[]) => ['ip', 'netns', 'exec', lab.client, ...argv];
    const range = `${DROP_PORTS[0]}-${DROP_PORTS[1]}`;
    dropRatio = compare(
      `TCP ${lab.peerAddress} ports ${range}, all dropped; ${TIMEOUT_MS} ms per attempt, ${ATTEMPTS} attempts`,
      inClient([...cli, 'query', '-n', lab.peerAddress, '-r', range.replace('-', ':'), '-nr', '--timeout', String(TIMEOUT_MS), '--retries', String(ATTEMPTS), '--json']),
      inClient(['nmap', '-sT', '-Pn', '-n', '-T4', '-p', range, '--max-retries', String(ATTEMPTS - 1), '--initial-rtt-timeout', `${TIMEOUT_MS}ms`, '--max-rtt-timeout', `${TIMEOUT_MS}ms`, '--min-rtt-timeout', `${TIMEOUT_MS}ms`, lab.peerAddress, '-oN', '/dev/null']),
      (r) => {
        if (r.lines !== 1000 || r.code !== 2) throw new Error(`portqry-ts: ${r.lines} records, exit ${r.code}: ${r.stderr}`);
      },
      1, // nmap needs minutes here (about 200 s measured), and both are waiting, not computing: one run.
    );
  } finally {
    lab.destroy();
  }
  console.log(`\nratio (goal ≤ 1.0): 1,000 dropped ports ${dropRatio.toFixed(2)}`);
}

main();
