import t from 'tap';
import { ServiceControl, ServiceState, ServiceStateMachine, type ServiceStatus } from '../../../src/service/scm-state';
import { STOP_LIMITS, StopWait } from '../../../src/service/stop-wait';
import { decodeServiceStatus, encodeServiceStatus, stopService, Win32CallError, type StopApi } from '../../../src/service/windows-scm';

// `record --uninstall` stops the service through stopService with the Windows SCM's answers injected:
// the service side is our own ServiceStateMachine (what the recorder reports), the SCM side follows
// ControlService's documented errors (1061 while a state is pending, 1062 when stopped), and time is a
// fake clock, so a 45-second stop runs in no time. Under Wine, test/wine/service.test.ts runs the real calls.

interface Scenario {
  /** ms after the start of the wait at which the recorder reports RUNNING (service just started at boot). */
  runningAt?: number;
  /** ms from the accepted stop to STOPPED; Infinity = never. */
  stopTakes?: number;
  /** The recorder raises its checkpoint every second while pending (false: hung). */
  progress?: boolean;
  /** Accepts the stop but never reports STOP_PENDING. */
  ignoresStop?: boolean;
  /** ControlService fails with this code regardless of state. */
  controlError?: number;
  installed?: boolean;
  initiallyStopped?: boolean;
}

function fakeScm(s: Scenario) {
  let now = 0;
  let lastError = 0;
  const m = new ServiceStateMachine();
  let reported: ServiceStatus = m.serviceMain();
  let stopAt: number | null = null;
  let nextTick = 1000;
  const calls: string[] = [];
  if (s.initiallyStopped) reported = m.recorderStopped(0);
  else if (s.runningAt === undefined) reported = m.recorderStarted()!;

  const advance = (to: number) => {
    while (nextTick <= to) {
      if (s.runningAt !== undefined && nextTick >= s.runningAt) reported = m.recorderStarted() ?? reported;
      if (stopAt !== null && nextTick >= stopAt + (s.stopTakes ?? 2000)) reported = m.recorderStopped(0);
      if (s.progress !== false) reported = m.progress() ?? reported;
      nextTick += 1000;
    }
    now = to;
  };
  const api: StopApi = {
    OpenSCManagerW: () => ({ scm: true }),
    OpenServiceW: () => {
      if (s.installed === false) {
        lastError = 1060;
        return null;
      }
      return { svc: true };
    },
    QueryServiceStatus: (_svc: unknown, buf: unknown) => {
      calls.push(`query ${reported.currentState}`);
      encodeServiceStatus(reported).copy(buf as Buffer);
      return 1;
    },
    ControlService: () => {
      calls.push('control');
      if (s.controlError !== undefined) {
        lastError = s.controlError;
        return 0;
      }
      // ControlService: ERROR_SERVICE_CANNOT_ACCEPT_CTRL while START_PENDING/STOP_PENDING, NOT_ACTIVE when stopped.
      if (reported.currentState === ServiceState.Stopped) {
        lastError = 1062;
        return 0;
      }
      if (reported.controlsAccepted === 0) {
        lastError = 1061;
        return 0;
      }
      if (s.ignoresStop) return 1;
      reported = m.control(ServiceControl.Stop).report ?? reported;
      stopAt = now;
      return 1;
    },
    CloseServiceHandle: () => {
      calls.push('close');
      return 1;
    },
    GetLastError: () => lastError,
  };
  const clock = {
    now: () => now,
    sleep: async (ms: number) => advance(now + ms),
  };
  return { api, clock, calls, now: () => now };
}

t.test('a service still starting (START_PENDING, as after a boot or a restart): the stop waits for RUNNING, then is sent', async (t) => {
  const f = fakeScm({ runningAt: 6000 });
  t.equal(await stopService('portqry-ts', f.api, f.clock), 'stopped');
  t.notOk(f.calls.includes('control') && f.calls.indexOf('control') < f.calls.indexOf(`query ${ServiceState.Running}`), 'no control sent while START_PENDING');
  t.ok(f.now() >= 6000 && f.now() < 12_000, `returned soon after the stop (${f.now()} ms)`);
  t.equal(f.calls.filter((c) => c === 'close').length, 2, 'service and manager handles closed');
});

t.test('ControlService refused with 1061 (the service entered a pending state between query and control): queried again, sent later', async (t) => {
  let refusals = 1;
  const f = fakeScm({});
  const control = f.api.ControlService;
  let lastError = 0;
  const api: StopApi = {
    ...f.api,
    ControlService: (...args: unknown[]) => {
      if (refusals-- > 0) {
        lastError = 1061;
        return 0;
      }
      return control(...args);
    },
    GetLastError: () => lastError || f.api.GetLastError(),
  };
  t.equal(await stopService('portqry-ts', api, f.clock), 'stopped');
});

t.test('a slow stop that shows progress (checkpoint up every second) is waited for past 30 s', async (t) => {
  const f = fakeScm({ stopTakes: 45_000 });
  t.equal(await stopService('portqry-ts', f.api, f.clock), 'stopped');
  t.ok(f.now() >= 45_000, `${f.now()} ms`);
});

t.test('a hung stop (checkpoint stands still past its wait hint) fails with what was seen', async (t) => {
  const f = fakeScm({ stopTakes: Infinity, progress: false });
  await t.rejects(stopService('portqry-ts', f.api, f.clock), /^the service is hung: it has reported STOP_PENDING with checkpoint 1 for 2\d(\.\d)? s \(its wait hint: 15 s\)$/);
  t.ok(f.now() <= 15_000 + STOP_LIMITS.graceMs + 2000, `gave up after ${f.now()} ms`);
});

t.test('progress forever: the total limit ends the wait', async (t) => {
  const f = fakeScm({ stopTakes: Infinity });
  await t.rejects(stopService('portqry-ts', f.api, f.clock), /the service did not stop within 180 s \(it reports STOP_PENDING, checkpoint \d+\)/);
});

t.test('the stop accepted but RUNNING still reported: fails after 30 s', async (t) => {
  const f = fakeScm({ ignoresStop: true });
  await t.rejects(stopService('portqry-ts', f.api, f.clock), /the service accepted the stop but still reports RUNNING after 30(\.\d)? s/);
});

t.test('already stopped, stopped between query and control (1062), not installed', async (t) => {
  const a = fakeScm({ initiallyStopped: true });
  t.equal(await stopService('portqry-ts', a.api, a.clock), 'not running');
  t.notOk(a.calls.includes('control'));
  const b = fakeScm({ controlError: 1062 });
  t.equal(await stopService('portqry-ts', b.api, b.clock), 'not running');
  const c = fakeScm({ installed: false });
  t.equal(await stopService('portqry-ts', c.api, c.clock), 'not installed');
});

t.test('other ControlService errors are reported with their Win32 meaning', async (t) => {
  for (const [code, words] of [
    [1053, /did not respond to the start or control request in a timely fashion \(1053\)/],
    [5, /access denied \(run it from an elevated prompt: Run as administrator\) \(5\)/],
  ] as const) {
    const f = fakeScm({ controlError: code });
    const err = await stopService('portqry-ts', f.api, f.clock).catch((e: unknown) => e);
    t.type(err, Win32CallError);
    t.match((err as Error).message, /^ControlService\(SERVICE_CONTROL_STOP\) failed: /);
    t.match((err as Error).message, words);
  }
});

t.test('decision table: pending states wait at a tenth of the hint (0.25-1 s); a checkpoint change renews the allowance', async (t) => {
  const w = new StopWait(0);
  t.same(w.observe({ state: ServiceState.StartPending, checkPoint: 1, waitHint: 30_000 }, 0), { do: 'wait', ms: 1000 });
  t.same(w.observe({ state: ServiceState.StartPending, checkPoint: 1, waitHint: 2000 }, 14_000), { do: 'wait', ms: 250 }, 'a short hint is still allowed the minimum (10 s) plus grace');
  t.same(w.observe({ state: ServiceState.StartPending, checkPoint: 2, waitHint: 2000 }, 29_000), { do: 'wait', ms: 250 }, 'checkpoint changed: renewed');
  t.equal(w.observe({ state: ServiceState.StartPending, checkPoint: 2, waitHint: 2000 }, 45_000).do, 'fail');
  const r = new StopWait(0);
  t.same(r.observe({ state: ServiceState.Paused, checkPoint: 0, waitHint: 0 }, 0), { do: 'control' }, 'a paused service is stopped too');
  t.same(r.observe({ state: ServiceState.Stopped, checkPoint: 0, waitHint: 0 }, 100), { do: 'done', result: 'stopped' });
});

t.test('SERVICE_STATUS bytes: state, checkpoint and wait hint at offsets 4, 20, 24', async (t) => {
  const bytes = Buffer.from('10000000' + '03000000' + '00000000' + '00000000' + '00000000' + '07000000' + '983a0000', 'hex');
  t.same(decodeServiceStatus(bytes), { state: 3, checkPoint: 7, waitHint: 15_000 });
});
