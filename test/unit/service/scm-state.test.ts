import t from 'tap';
import type { EventLevel, EventLog } from '../../../src/eventlog/types';
import { EventId } from '../../../src/eventlog/types';
import { encodeFailureActions, encodeScActions, encodeServiceStatus } from '../../../src/service/windows-scm';
import { runService, type ScmBinding } from '../../../src/service/run-service';
import {
  ERROR_CALL_NOT_IMPLEMENTED,
  ERROR_SERVICE_SPECIFIC_ERROR,
  NO_ERROR,
  ServiceControl,
  ServiceState,
  ServiceStateMachine,
  START_WAIT_HINT_MS,
  STOP_WAIT_HINT_MS,
  type ServiceStatus,
} from '../../../src/service/scm-state';

const ACCEPTS = 0x1 | 0x4 | 0x100; // STOP | SHUTDOWN | PRESHUTDOWN
const brief = (s: ServiceStatus) => [s.currentState, s.checkPoint, s.waitHint, s.controlsAccepted, s.win32ExitCode, s.serviceSpecificExitCode];

t.test('state machine: START_PENDING with checkpoints and wait hint, RUNNING, STOP_PENDING, STOPPED', async (t) => {
  const m = new ServiceStateMachine();
  t.same(brief(m.serviceMain()), [ServiceState.StartPending, 1, START_WAIT_HINT_MS, 0, 0, 0], 'no controls accepted while starting');
  t.same(brief(m.progress()!), [ServiceState.StartPending, 2, START_WAIT_HINT_MS, 0, 0, 0], 'checkpoint grows');
  t.same(brief(m.control(ServiceControl.Stop).report!), [ServiceState.StopPending, 1, STOP_WAIT_HINT_MS, 0, 0, 0], 'a stop while starting (SCM-initiated shutdown) still stops');
  t.equal(m.recorderStarted(), null, 'a stop came first: no RUNNING');
  t.same(brief(m.recorderStopped(0)), [ServiceState.Stopped, 0, 0, 0, NO_ERROR, 0]);

  const r = new ServiceStateMachine();
  r.serviceMain();
  t.same(brief(r.recorderStarted()!), [ServiceState.Running, 0, 0, ACCEPTS, 0, 0]);
  t.equal(r.progress(), null, 'no progress reports while RUNNING');
  t.same(r.control(ServiceControl.Interrogate), { reply: NO_ERROR, report: null, stopRecorder: false });
  t.same(r.control(ServiceControl.Pause), { reply: ERROR_CALL_NOT_IMPLEMENTED, report: null, stopRecorder: false });
  t.same(r.control(ServiceControl.ParamChange).reply, ERROR_CALL_NOT_IMPLEMENTED);
  t.same(r.control(0x80).reply, ERROR_CALL_NOT_IMPLEMENTED, 'user-defined control');
  const stop = r.control(ServiceControl.Preshutdown);
  t.equal(stop.reply, NO_ERROR);
  t.equal(stop.stopRecorder, true);
  t.equal(r.stopReason, 'preshutdown');
  t.same(brief(r.progress()!), [ServiceState.StopPending, 2, STOP_WAIT_HINT_MS, 0, 0, 0]);
  t.same(r.control(ServiceControl.Stop), { reply: NO_ERROR, report: null, stopRecorder: false }, 'a second stop while stopping changes nothing');
  t.same(brief(r.recorderStopped(74)), [ServiceState.Stopped, 0, 0, 0, ERROR_SERVICE_SPECIFIC_ERROR, 74], 'an error exit is a service-specific error: failure actions apply');
});

for (const [name, code] of [
  ['STOP', ServiceControl.Stop],
  ['SHUTDOWN', ServiceControl.Shutdown],
  ['PRESHUTDOWN', ServiceControl.Preshutdown],
] as const) {
  t.test(`runService with an injected SCM: ${name} aborts the recorder's signal, STOPPED only after the logs are closed`, async (t) => {
    const timers: (() => void)[] = [];
    const events: [EventLevel, string, number | undefined][] = [];
    const eventLog: EventLog = { write: (l, m, id) => void events.push([l, m, id]), close: () => {} };
    const setStatuses: ServiceStatus[] = [];
    let handler!: (c: number) => number;
    let finishDispatch!: () => void;
    let recorderClosedAt = -1;
    const scm: ScmBinding = {
      dispatch: (name, main, h) => {
        t.equal(name, 'portqry-ts');
        handler = h;
        return new Promise((resolve) => {
          finishDispatch = () => resolve(true);
          main();
        });
      },
      setStatus: (s) => {
        setStatuses.push(s);
        if (s.currentState === ServiceState.Stopped) finishDispatch();
        return true;
      },
    };
    const run = runService({
      scm,
      eventLog,
      describe: 'into C:\\PortLogs',
      setInterval: (fn) => (timers.push(fn), timers.length),
      clearInterval: (h) => void (timers[(h as number) - 1] = () => {}),
      startRecorder: async (signal, started) => {
        timers[0]!(); // a progress tick while the first snapshot is taken
        started();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        await new Promise((r) => setTimeout(r, 10)); // flushing and closing
        recorderClosedAt = setStatuses.length;
        return 0;
      },
    });
    await new Promise((r) => setTimeout(r, 5));
    t.equal(handler(ServiceControl.Interrogate), NO_ERROR);
    t.equal(handler(code), NO_ERROR);
    const stopTicker = timers[timers.length - 1]!;
    stopTicker(); // progress while stopping
    const result = await run;
    t.same(result.exitCode, 0);
    t.same(
      setStatuses.map((s) => [s.currentState, s.checkPoint]),
      [
        [ServiceState.StartPending, 1],
        [ServiceState.StartPending, 2],
        [ServiceState.Running, 0],
        [ServiceState.StopPending, 1],
        [ServiceState.StopPending, 2],
        [ServiceState.Stopped, 0],
      ],
    );
    t.equal(recorderClosedAt, 5, 'STOPPED is reported after the recorder returned');
    t.same(events.map((e) => [e[0], e[2]]), [
      ['info', EventId.ServiceStart],
      ['info', EventId.ServiceStop],
    ]);
    t.match(events[1]![1], new RegExp(`stopped \\(${name.toLowerCase()}\\)`));
  });
}

t.test('runService: the recorder fails at start (log folder refused): STOPPED with a service-specific error, an error event', async (t) => {
  const statuses: ServiceStatus[] = [];
  const events: [EventLevel, string][] = [];
  let done!: () => void;
  const result = await runService({
    scm: {
      dispatch: (_n, main) =>
        new Promise((resolve) => {
          done = () => resolve(true);
          main();
        }),
      setStatus: (s) => {
        statuses.push(s);
        if (s.currentState === ServiceState.Stopped) done();
        return true;
      },
    },
    eventLog: { write: (l, m) => void events.push([l, m]), close: () => {} },
    describe: 'into C:\\Users\\Public\\logs',
    setInterval: () => 1,
    clearInterval: () => {},
    startRecorder: async () => {
      throw Object.assign(new Error('refusing the log folder C:\\Users\\Public\\logs: BUILTIN\\Users may create files'), { exitCode: 77 });
    },
  });
  t.equal(result.exitCode, 77);
  const last = statuses[statuses.length - 1]!;
  t.same([last.currentState, last.win32ExitCode, last.serviceSpecificExitCode], [ServiceState.Stopped, ERROR_SERVICE_SPECIFIC_ERROR, 77]);
  t.equal(events[0]![0], 'error');
  t.match(events[0]![1], /refusing the log folder/);
});

t.test('runService: started from a console, the dispatcher cannot connect: exit 64 and nothing reported', async (t) => {
  const statuses: ServiceStatus[] = [];
  const result = await runService({
    scm: { dispatch: async () => false, setStatus: (s) => (statuses.push(s), true) },
    eventLog: { write: () => {}, close: () => {} },
    describe: '',
    startRecorder: async () => 0,
  });
  t.same(result, { exitCode: 64, reported: [], connected: false });
  t.same(statuses, []);
});

t.test('byte layouts handed to advapi32: SERVICE_STATUS, SC_ACTION[], SERVICE_FAILURE_ACTIONSW (x64)', async (t) => {
  const m = new ServiceStateMachine();
  m.serviceMain();
  t.equal(encodeServiceStatus(m.recorderStarted()!).toString('hex'), '10000000' + '04000000' + '05010000' + '00000000' + '00000000' + '00000000' + '00000000');
  t.equal(encodeScActions([5000, 30000, 60000]).toString('hex'), '01000000881300000100000030750000' + '0100000060ea0000');
  const fa = encodeFailureActions(86400, 3, 0x1122334455667788n);
  t.equal(fa.length, 40);
  t.equal(fa.readUInt32LE(0), 86400);
  t.equal(fa.readBigUInt64LE(8), 0n, 'reboot message unchanged');
  t.equal(fa.readBigUInt64LE(16), 0n, 'command unchanged');
  t.equal(fa.readUInt32LE(24), 3);
  t.equal(fa.readBigUInt64LE(32), 0x1122334455667788n);
});
