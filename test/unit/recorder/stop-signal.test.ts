import { EventEmitter } from 'node:events';
import t from 'tap';
import { sleep, stopSignals, untilStopped } from '../../../src/recorder/stop-signal';

t.test('stop signals per platform: SIGINT/SIGTERM/SIGHUP on POSIX, SIGINT/SIGBREAK/SIGHUP (console closed) and SIGTERM on Windows', async (t) => {
  t.same(stopSignals('linux'), ['SIGINT', 'SIGTERM', 'SIGHUP']);
  t.same(stopSignals('win32'), ['SIGINT', 'SIGBREAK', 'SIGHUP', 'SIGTERM']);
});

for (const [platform, signal] of [['linux', 'SIGTERM'], ['linux', 'SIGINT'], ['linux', 'SIGHUP'], ['win32', 'SIGBREAK'], ['win32', 'SIGINT']] as const) {
  t.test(`${platform}: ${signal} aborts the loop, which returns normally; listeners removed afterwards`, async (t) => {
    const source = new EventEmitter();
    let seen: AbortSignal | undefined;
    const result = await untilStopped(
      async (s) => {
        seen = s;
        t.equal(source.listenerCount(signal), 1, 'listening while the loop runs');
        setImmediate(() => source.emit(signal));
        await sleep(60_000, s);
        return 'finished';
      },
      source,
      platform,
    );
    t.equal(result, 'finished');
    t.equal(seen?.aborted, true);
    for (const s of stopSignals(platform)) t.equal(source.listenerCount(s), 0, `no ${s} listener left`);
  });
}

t.test('listeners are removed when the loop throws', async (t) => {
  const source = new EventEmitter();
  await t.rejects(untilStopped(async () => Promise.reject(new Error('boom')), source, 'linux'), /boom/);
  t.equal(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM') + source.listenerCount('SIGHUP'), 0);
});

t.test('sleep resolves at once on abort and leaves no abort listener behind', async (t) => {
  const c = new AbortController();
  const p = sleep(60_000, c.signal);
  c.abort();
  await p;
  const c2 = new AbortController();
  await sleep(1, c2.signal);
  t.equal(c2.signal.aborted, false);
  t.pass('both returned');
});
