/**
 * scripts/bench/record's work: see that script. CPU and memory are read from /proc/<pid> of the
 * recorder (utime+stime, VmHWM) just before it is stopped with SIGTERM; the sockets live in a helper
 * process, killed at the end, also on error.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { socketHolderSource } from './socket-holder';

const SECONDS = Number(process.argv[2] ?? 60);
const SOCKETS = Number(process.argv[3] ?? 1000);
const WARMUP_S = Math.min(5, SECONDS / 4);
const TICKS = 100; // USER_HZ on Linux

const HOLDER = socketHolderSource(SOCKETS);

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-bench-'));
const holder = spawn(process.execPath, ['-e', HOLDER], { stdio: ['ignore', 'pipe', 'inherit'] });
let recorder: ReturnType<typeof spawn> | undefined;
try {
  await once(holder.stdout!, 'data');
  recorder = spawn(process.execPath, ['dist/main.cjs', 'record', '-ld', path.join(dir, 'logs'), '--jsonl'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = recorder.pid!;
  const started = performance.now();
  await sleep(WARMUP_S * 1000);
  const cpuWarm = cpuSeconds(pid);
  const tWarm = performance.now();
  await sleep(SECONDS * 1000 - (tWarm - started));
  const cpuEnd = cpuSeconds(pid);
  const tEnd = performance.now();
  const rss = peakRssMb(pid);
  recorder.kill('SIGTERM');
  const [code] = await once(recorder, 'close');
  const events = fs
    .readdirSync(path.join(dir, 'logs'))
    .filter((f) => f.startsWith('PR-EVENTS-'))
    .reduce((n, f) => n + fs.readFileSync(path.join(dir, 'logs', f), 'utf8').split('\n').filter(Boolean).length, 0);
  const whole = (cpuEnd / ((tEnd - started) / 1000)) * 100;
  const steady = ((cpuEnd - cpuWarm) / ((tEnd - tWarm) / 1000)) * 100;
  console.log(`record, ${SOCKETS} loopback sockets held by another process, default 1 s interval, modules on, --jsonl, ${SECONDS} s (exit ${code}, ${events} events logged)`);
  console.log(`  CPU, whole run (startup and first snapshot included): ${whole.toFixed(2)} % of one core`);
  console.log(`  CPU, steady state after ${WARMUP_S} s:                  ${steady.toFixed(2)} % of one core   (goal <= 2 %: ${steady <= 2 ? 'met' : 'NOT met'}, ratio ${(steady / 2).toFixed(2)})`);
  console.log(`  peak RSS:                                          ${rss.toFixed(1)} MB            (goal <= 100 MB: ${rss <= 100 ? 'met' : 'NOT met'}, ratio ${(rss / 100).toFixed(2)})`);
} finally {
  recorder?.kill('SIGKILL');
  holder.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
