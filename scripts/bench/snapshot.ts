/**
 * scripts/bench/snapshot's work: see that script. The sockets live in a child process so that the
 * timed process is an ordinary one, and are closed (the child killed) at the end, also on error.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { LinuxBackend } from '../../src/platform/linux';
import type { ProcessInfo } from '../../src/platform/types';
import { socketHolderSource } from './socket-holder';

const SOCKETS = Math.min(Number(process.argv[2] ?? 10_000), 30_000);
const RUNS = Number(process.argv[3] ?? 7);

const HOLDER = socketHolderSource(SOCKETS);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const holder = spawn(process.execPath, ['-e', HOLDER], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  await once(holder.stdout!, 'data');
  const ours: number[] = [];
  const warm: number[] = [];
  const ss: number[] = [];
  let endpoints = 0;
  let ssLines = 0;
  const backend = new LinuxBackend();
  const cache = new Map<string, ProcessInfo>();
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    const snap = await new LinuxBackend().snapshot();
    ours.push(performance.now() - t0);
    endpoints = snap.endpoints.length;
    if (![...snap.processes.keys()].includes(holder.pid!)) throw new Error('the helper process was not found as an owner');

    t0 = performance.now();
    await backend.snapshot({ processCache: cache });
    warm.push(performance.now() - t0);

    t0 = performance.now();
    const out = execFileSync('ss', ['-tuanp'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    ss.push(performance.now() - t0);
    ssLines = out.split('\n').length - 2;
  }
  const [o, w, s] = [median(ours), median(warm), median(ss)];
  console.log(`sockets opened: ${SOCKETS}; endpoints seen: ours ${endpoints}, ss ${ssLines}; runs: ${RUNS} (medians)`);
  console.log(`snapshot (new backend, endpoints + owners + process details + modules): ${o.toFixed(1)} ms`);
  console.log(`snapshot (recorder steady state: same backend, process cache):        ${w.toFixed(1)} ms`);
  console.log(`ss -tuanp (process run, incl. its start-up):                            ${s.toFixed(1)} ms`);
  console.log(`ratio ours/ss: ${(o / s).toFixed(2)} (cold), ${(w / s).toFixed(2)} (steady); goal <= 1.5`);
} finally {
  holder.kill();
}
