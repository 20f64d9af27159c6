/**
 * `record --service`: the recorder run by the Windows service control manager. This file joins three
 * injected parts: the SCM binding (windows-scm.ts, or a test's fake SCM), the state machine
 * (scm-state.ts) and the recorder. STOP, SHUTDOWN and PRESHUTDOWN abort the same signal SIGTERM
 * aborts in a console run, so the logs are flushed and closed the same way.
 */
import type { EventLog } from '../eventlog/types';
import { EventId } from '../eventlog/types';
import { ExitCode } from '../exit-codes';
import { PROGRESS_EVERY_MS, ServiceState, ServiceStateMachine, type ServiceStatus } from './scm-state';

export const SERVICE_NAME = 'portqry-ts';
export const SERVICE_DISPLAY_NAME = 'portqry-ts Port Reporter';
export const SERVICE_DESCRIPTION =
  'Records every new TCP and UDP port use with its process, user, services and modules into Port Reporter logs (PR-INITIAL, PR-PORTS, PR-PIDS). Installed by portqry-ts record --install; removed by portqry-ts record --uninstall.';

/** The one line `record --service` prints when a person starts it from a console (exit 64). */
export const NOT_FROM_CONSOLE =
  "record --service runs only when the Windows service control manager starts it: run 'portqry-ts record' to record in this console, or 'portqry-ts record --install' to install the service";

/** What the service needs from the SCM (windows-scm.ts implements it with koffi). */
export interface ScmBinding {
  /**
   * StartServiceCtrlDispatcherW for one service: calls main() when the SCM starts it and
   * handler(code) for each control. Resolves when the dispatcher returns: true after the service ran,
   * false when this process was not started by the SCM (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT).
   */
  dispatch(name: string, main: () => void, handler: (control: number) => number): Promise<boolean>;
  /** SetServiceStatus; valid once main() was called. Returns false when the call failed. */
  setStatus(status: ServiceStatus): boolean;
}

export interface RecorderRun {
  /** Resolves with the tool's exit code once the recorder has flushed and closed its logs. */
  done: Promise<number>;
}

export interface ServiceRunOptions {
  scm: ScmBinding;
  eventLog: EventLog;
  /** Starts the recorder; it calls started() once its logs are open and the first poll is written, and stops when signal aborts. */
  startRecorder: (signal: AbortSignal, started: () => void) => Promise<number>;
  /** For the event messages, e.g. the log folder. */
  describe: string;
  /** Timers, injectable for tests. */
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

export interface ServiceRunResult {
  /** The exit code for the process; Usage when not started by the SCM. */
  exitCode: number;
  /** Every status reported, in order (tests and diagnostics). */
  reported: ServiceStatus[];
  connected: boolean;
}

export async function runService(options: ServiceRunOptions): Promise<ServiceRunResult> {
  const machine = new ServiceStateMachine();
  const controller = new AbortController();
  const reported: ServiceStatus[] = [];
  const every = options.setInterval ?? ((fn, ms) => setInterval(fn, ms));
  const stopEvery = options.clearInterval ?? ((h) => clearInterval(h as NodeJS.Timeout));
  const log = options.eventLog;
  let ticker: unknown = null;
  let exitCode: number = ExitCode.Ok;
  let finished: Promise<void> | null = null;

  const report = (status: ServiceStatus | null) => {
    if (!status) return;
    reported.push(status);
    options.scm.setStatus(status);
  };
  const startTicker = () => {
    if (ticker === null) ticker = every(() => report(machine.progress()), PROGRESS_EVERY_MS);
  };
  const stopTicker = () => {
    if (ticker !== null) stopEvery(ticker);
    ticker = null;
  };

  const main = () => {
    report(machine.serviceMain());
    startTicker();
    finished = (async () => {
      try {
        exitCode = await options.startRecorder(controller.signal, () => {
          const running = machine.recorderStarted();
          if (running) {
            stopTicker();
            report(running);
            log.write('info', `portqry-ts service started: recording ${options.describe}`, EventId.ServiceStart);
          }
        });
      } catch (err) {
        exitCode = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : ExitCode.Software;
        log.write('error', `portqry-ts service failed: ${err instanceof Error ? err.message : String(err)}`, EventId.ServiceStop);
      }
      stopTicker();
      const requested = machine.stopReason;
      // A recorder that ended on its own, even with exit code 0, did not do what a service is for: report
      // an error so the failure actions restart it.
      const code = exitCode !== ExitCode.Ok ? exitCode : requested === null ? ExitCode.Software : ExitCode.Ok;
      const status = machine.recorderStopped(code);
      if (requested !== null && exitCode === ExitCode.Ok) {
        log.write('info', `portqry-ts service stopped (${requested}): logs flushed and closed in ${options.describe}`, EventId.ServiceStop);
      } else if (requested === null) {
        log.write('error', `portqry-ts service ended without a stop request (exit code ${status.serviceSpecificExitCode}); the service's recovery settings restart it`, EventId.ServiceStop);
      }
      report(status);
    })();
  };

  const handler = (code: number): number => {
    const outcome = machine.control(code);
    report(outcome.report);
    if (outcome.stopRecorder) {
      startTicker();
      controller.abort();
    }
    return outcome.reply;
  };

  const connected = await options.scm.dispatch(SERVICE_NAME, main, handler);
  if (!connected) return { exitCode: ExitCode.Usage, reported, connected };
  if (finished) await finished;
  if (machine.currentState !== ServiceState.Stopped) report(machine.recorderStopped(exitCode));
  return { exitCode: machine.status().serviceSpecificExitCode || exitCode, reported, connected };
}

