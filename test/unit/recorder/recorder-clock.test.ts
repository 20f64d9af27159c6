import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { runRecorder } from '../../../src/recorder/recorder';
import { FakeBackend, proc, tcp } from '../../helpers/fake-backend';

t.test('a backward wall-clock step (one hour) does not stop the polls: they are timed by a monotonic clock', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-clock-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = proc(9);
  const backend = new FakeBackend(Array.from({ length: 6 }, (_, i) => () => ({ endpoints: Array.from({ length: i + 1 }, (_, k) => tcp(100 + k, 9)), processes: [p] })));
  const realNow = Date.now;
  t.teardown(() => (Date.now = realNow));
  const controller = new AbortController();
  const run = runRecorder({
    backend,
    intervalMs: 100,
    durationMs: 60_000,
    logDir: path.join(dir, 'logs'),
    rotation: { start: true, daily: false, size: false, maxBytes: 5_000_000 },
    jsonl: false,
    generatedBy: 'portqry-ts test',
    signal: controller.signal,
    warn: () => {},
    onPoll: ({ polls }) => {
      // After the second poll the wall clock is set back one hour (an NTP step, an admin's date -s).
      if (polls === 2) Date.now = () => realNow() - 3_600_000;
      if (polls >= 6) controller.abort();
    },
  });
  const guard = new Promise<'stalled'>((resolve) => setTimeout(() => resolve('stalled'), 10_000).unref());
  const outcome = await Promise.race([run.then(() => 'done' as const), guard]);
  controller.abort();
  t.equal(outcome, 'done', 'six polls happened');
  t.equal(backend.calls, 6);
});
