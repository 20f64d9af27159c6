/**
 * Benchmark of the Winsock query engine under Wine (issue 9: ratio ≤ 2.0, Wine adds a syscall layer).
 *
 * A client and a peer network namespace (test/helpers/netns-lab.ts); the peer has one listener and
 * the rest of ports 1–10000 closed (its kernel answers RST). Timed, whole processes as a user runs
 * them, start-up and output included, stdout to a file:
 *   - `portqry-ts.exe query -n PEER -r 1:10000 -nr --json` under Wine with PORTQRY_ENGINE=winsock,
 *     inside the client namespace (Wine creates sockets in its wineserver, so the wineserver of a
 *     prefix of its own is started inside the namespace first and kept running between runs);
 *   - `portqry-ts query …` (the Linux executable, Node engine) inside the same namespace.
 * Runs alternate; medians and the ratio .exe/Linux are printed. Every run must print 10,000 records,
 * exit 0–2 and nothing on stderr, and both must give the same verdict for every port.
 * Usage: scripts/bench/query-wine [runs]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLab, peerServerScript, waitReady } from '../../test/helpers/netns-lab';
import { ensureWinePrefix, stopWine, winePrefix } from '../../test/helpers/wine';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const RUNS = Number(process.argv[2] ?? 3);
const EXE = path.join(ROOT, 'dist', 'portqry-ts.exe');
const LINUX = path.join(ROOT, 'dist', 'portqry-ts');
const PORTS = '1:10000';
const LISTENING = 7000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function timed(argv: string[], env: NodeJS.ProcessEnv): { seconds: number; states: string[] } {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-bench-')), 'out');
  const fd = fs.openSync(out, 'w');
  const efd = fs.openSync(`${out}.err`, 'w');
  const started = process.hrtime.bigint();
  // stdout and stderr to files: node.exe under Wine fails on pipes.
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', fd, efd], timeout: 600_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.closeSync(fd);
  fs.closeSync(efd);
  const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean);
  const stderr = fs.readFileSync(`${out}.err`, 'utf8');
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  if (r.error) throw r.error;
  if (r.status === null || r.status > 2 || stderr) throw new Error(`${argv.join(' ')}: exit ${r.status}, stderr: ${stderr}`);
  if (lines.length !== 10_000) throw new Error(`${argv.join(' ')}: ${lines.length} records, expected 10000`);
  return { seconds, states: lines.map((l) => (JSON.parse(l) as { State: string }).State) };
}

async function main(): Promise<void> {
  for (const f of [EXE, LINUX]) if (!fs.existsSync(f)) throw new Error(`${f} is missing: npm run build`);
  // The Wine namespace test's prefix (test/wine/query-winsock.test.ts): one 700 MB prefix, not two.
  const prefix = `${winePrefix()}-netns`;
  ensureWinePrefix(prefix);
  stopWine(prefix);
  const lab = createLab();
  try {
    const peer = lab.spawn(lab.peer, [process.execPath, '-e', peerServerScript({ tcp: [LISTENING] }, lab.peerAddress)]);
    await waitReady(peer);
    const args = ['query', '-n', lab.peerAddress, '-r', PORTS, '-nr', '--json'];
    const wineEnv: NodeJS.ProcessEnv = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', PORTQRY_ENGINE: 'winsock' };
    for (const k of ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'DISPLAY']) delete wineEnv[k];
    const exe = ['ip', 'netns', 'exec', lab.client, 'wine', EXE, ...args];
    const linux = ['ip', 'netns', 'exec', lab.client, LINUX, ...args];
    // Start the wineserver inside the namespace (and warm the prefix): not timed.
    timed(exe, wineEnv);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const w = timed(exe, wineEnv);
      const l = timed(linux, process.env);
      const differ = w.states.findIndex((s, j) => s !== l.states[j]);
      if (differ >= 0) throw new Error(`port ${differ + 1}: .exe ${w.states[differ]}, Linux ${l.states[differ]}`);
      a.push(w.seconds);
      b.push(l.seconds);
    }
    console.log(`10,000 TCP ports of ${lab.peerAddress} (namespace host; 1 listening, the rest closed), ${RUNS} runs each, alternating`);
    console.log(`  portqry-ts.exe under Wine, Winsock engine  median ${median(a).toFixed(2)} s  runs ${a.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`  portqry-ts (Linux), Node engine            median ${median(b).toFixed(2)} s  runs ${b.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`  ratio .exe under Wine / Linux: ${(median(a) / median(b)).toFixed(2)} (goal ≤ 2.0)`);
  } finally {
    stopWine(prefix);
    lab.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
