import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT } from '../../helpers/cli';
import { type ExitingProcess, exitWhenWritten } from '../../../src/runtime/exit';

function fakeProcess(stdoutPending: number, stderrPending: number): ExitingProcess & { exits: number[] } {
  const exits: number[] = [];
  return {
    stdout: { writableLength: stdoutPending },
    stderr: { writableLength: stderrPending },
    exitCode: undefined,
    exit: (code: number) => void exits.push(code),
    exits,
  };
}

t.test('exits at once when stdout and stderr hold nothing unwritten', async (t) => {
  const p = fakeProcess(0, 0);
  exitWhenWritten(3, p);
  t.same(p.exits, [3]);
  t.equal(p.exitCode, 3);
});

t.test('a write still pending (an asynchronous pipe): only the exit code is set, the loop ends by itself', async (t) => {
  for (const [out, err] of [
    [65_536, 0],
    [0, 120],
  ]) {
    const p = fakeProcess(out, err);
    exitWhenWritten(1, p);
    t.same(p.exits, [], `stdout ${out}, stderr ${err} bytes pending`);
    t.equal(p.exitCode, 1);
  }
});

// The real thing: a command whose output is many times a pipe's buffer, read by a reader that stops
// for a while after the first chunk. Every record arrives and the exit code is the command's.
t.test('a slow reader still gets every record and the exit code', async (t) => {
  t.ok(fs.existsSync(BUNDLE), 'dist/main.cjs is built');
  const ports = 3000;
  const args = [BUNDLE, 'query', '-n', '127.0.0.1', '-r', `1:${ports}`, '--format', 'jsonl'];
  const read = (pauseMs: number) =>
    new Promise<{ stdout: string; code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      let paused = false;
      child.stdout.on('data', (b: Buffer) => {
        out.push(b);
        if (!paused && pauseMs > 0) {
          paused = true;
          child.stdout.pause();
          setTimeout(() => child.stdout.resume(), pauseMs);
        }
      });
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ stdout: Buffer.concat(out).toString('utf8'), code, stderr: err }));
    });
  const slow = await read(500);
  const quick = await read(0);
  t.equal(slow.stderr, '', 'stderr silent');
  const records = parseJsonl(slow.stdout);
  t.equal(records.length, ports, `${ports} records, ${slow.stdout.length} bytes through a 64 KB pipe`);
  t.same(
    records.map((r) => r.RemotePort),
    Array.from({ length: ports }, (_, i) => i + 1),
    'every port once, in order',
  );
  t.equal(slow.code, quick.code, `exit code ${quick.code} either way`);
});
