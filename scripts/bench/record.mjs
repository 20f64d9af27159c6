// scripts/bench/record's work: the recorder as a user runs it (dist/portqry-ts record, default 1 s
// interval, modules on, --jsonl) over 1,000 loopback sockets with a busy server's variety
// (scripts/bench/socket-holder.mjs), for SECONDS, RUNS times. CPU (utime+stime) and peak RSS (VmHWM)
// are read from /proc/<pid> just before SIGTERM. Goals: CPU <= 2 % of one core in the steady state,
// peak RSS <= 100 MB in every run. No anchor: these are absolute bounds.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, requireBuilt, save } from './common.mjs';
import { startSocketHolder } from './socket-holder.mjs';

requireBuilt();
const SECONDS = Number(process.argv[2] ?? 60);
const SOCKETS = Number(process.argv[3] ?? 1000);
const RUNS = Number(process.env.RUNS ?? 3);
const WARMUP_S = Math.min(5, SECONDS / 4);
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}
function peakRssMb(pid) {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const holder = await startSocketHolder(SOCKETS);
const runs = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-bench-'));
    const recorder = spawn(BIN, ['record', '-ld', path.join(dir, 'logs'), '--jsonl'], { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      const pid = recorder.pid;
      const started = performance.now();
      await sleep(WARMUP_S * 1000);
      const cpuWarm = cpuSeconds(pid);
      const tWarm = performance.now();
      await sleep(SECONDS * 1000 - (tWarm - started));
      const cpuEnd = cpuSeconds(pid);
      const tEnd = performance.now();
      const rss = peakRssMb(pid);
      // The recorder logs every endpoint of the machine, not only the holder's: say how many there were.
      const machineEndpoints = execFileSync('ss', ['-tuanH'], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').filter(Boolean).length;
      recorder.kill('SIGTERM');
      const [code] = await once(recorder, 'close');
      const whole = (cpuEnd / ((tEnd - started) / 1000)) * 100;
      const steady = ((cpuEnd - cpuWarm) / ((tEnd - tWarm) / 1000)) * 100;
      runs.push({ code, cpuWhole: whole, cpuSteady: steady, rssMb: rss, machineEndpoints });
      console.log(`run ${run}: exit ${code}; CPU ${whole.toFixed(2)} % whole run, ${steady.toFixed(2)} % steady state after ${WARMUP_S} s; peak RSS ${rss.toFixed(1)} MB; ${machineEndpoints} endpoints on the machine at the end`);
    } finally {
      recorder.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  holder.stop();
}
const maxRss = Math.max(...runs.map((r) => r.rssMb));
const maxSteady = Math.max(...runs.map((r) => r.cpuSteady));
console.log(`\nrecord, ${SOCKETS} loopback sockets held by another process, default 1 s interval, modules on, --jsonl, ${SECONDS} s, ${RUNS} runs`);
console.log(`  CPU, steady state, worst run: ${maxSteady.toFixed(2)} % of one core (goal <= 2 %: ${maxSteady <= 2 ? 'met' : 'NOT met'})`);
console.log(`  peak RSS, worst run:          ${maxRss.toFixed(1)} MB (goal <= 100 MB in every run: ${maxRss <= 100 ? 'met' : 'NOT met'})`);
save('record', {
  seconds: SECONDS,
  sockets: SOCKETS,
  runs,
  comparisons: [],
  bounds: [
    { name: 'CPU, steady state (worst run)', value: maxSteady, unit: '% of one core', goal: { op: '<=', value: 2 }, met: maxSteady <= 2 },
    { name: 'peak RSS (worst run)', value: maxRss, unit: 'MB', goal: { op: '<=', value: 100 }, met: maxRss <= 100 },
  ],
});
