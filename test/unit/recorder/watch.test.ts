import t from 'tap';
import { runWatch } from '../../../src/recorder/watch';
import { FakeBackend, proc, tcp } from '../../helpers/fake-backend';

t.test('runWatch: Initial for what matches, then Closed, Opened, StateChanged per check; other ports ignored', async (t) => {
  const p = proc(10);
  const conn = (state: 'Established' | 'CloseWait') => tcp(443, 10, { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', remotePort: 5000, state });
  const backend = new FakeBackend([
    () => ({ endpoints: [tcp(443, 10), tcp(80, 10)], processes: [p] }),
    () => ({ endpoints: [tcp(443, 10), tcp(80, 10), conn('Established'), tcp(81, 10)], processes: [p] }),
    () => ({ endpoints: [conn('CloseWait')], processes: [p] }),
  ]);
  const controller = new AbortController();
  const events: Record<string, unknown>[] = [];
  let started = 0;
  await runWatch({
    snapshot: () => backend.snapshot(),
    intervalMs: 1,
    durationMs: null,
    matches: (o) => o.endpoint.localPort === 443,
    signal: controller.signal,
    onStart: () => started++,
    emit: (r) => {
      events.push(r);
      if (backend.calls >= 3) controller.abort();
    },
  });
  t.equal(started, 1);
  t.same(
    events.map((e) => `${e.Event} ${e.LocalPort} ${e.RemotePort ?? '-'}`),
    ['Initial 443 -', 'Opened 443 5000', 'Closed 443 -', 'StateChanged 443 5000'],
  );
  t.equal(events[3]!.PreviousState, 'Established');
});

t.test('runWatch stops at --duration and when the output is closed', async (t) => {
  const backend = new FakeBackend([() => ({ endpoints: [tcp(1, 10)], processes: [proc(10)] })]);
  await runWatch({ snapshot: () => backend.snapshot(), intervalMs: 5, durationMs: 30, matches: () => true, signal: new AbortController().signal, emit: () => {} });
  t.ok(backend.calls >= 1, `returned by itself at the end of --duration after ${backend.calls} check(s)`);
  const quiet = new FakeBackend([() => ({ endpoints: [], processes: [] })]);
  await runWatch({ snapshot: () => quiet.snapshot(), intervalMs: 1, durationMs: null, matches: () => true, signal: new AbortController().signal, emit: () => {}, closed: () => true });
  t.equal(quiet.calls, 1, 'a closed output ends the watch after the first snapshot');
});
