/**
 * How `record --uninstall` stops the service and waits for it: a pure decision table fed the statuses
 * QueryServiceStatus returns and the errors ControlService gives, with the clock injected, so the
 * tests drive it with Windows' codes and timings (test/unit/service/stop-wait.test.ts). The koffi
 * layer (windows-scm.ts) only queries and sends.
 *
 * Rules from Microsoft's documentation:
 * - ControlService fails with ERROR_SERVICE_CANNOT_ACCEPT_CTRL (1061) while the service is
 *   START_PENDING or STOP_PENDING, with ERROR_SERVICE_NOT_ACTIVE (1062) when it is not running, and
 *   with ERROR_SERVICE_REQUEST_TIMEOUT (1053) when its handler did not answer in time.
 *   https://learn.microsoft.com/windows/win32/api/winsvc/nf-winsvc-controlservice
 *   A service that has only just been started (automatic start at boot, or a restart by the failure
 *   actions) is START_PENDING until its first snapshot is written: the stop is sent once it is RUNNING.
 * - SERVICE_STATUS: "If the amount of time specified by dwWaitHint passes, and dwCheckPoint has not
 *   been incremented or dwCurrentState has not changed, the service control manager or service control
 *   program can assume that an error has occurred."
 *   https://learn.microsoft.com/windows/win32/api/winsvc/ns-winsvc-service_status
 *   So a stop that is slow but shows progress (our service raises its checkpoint every second) is waited
 *   for; a service whose checkpoint stands still longer than its wait hint is reported as hung.
 * - "Stopping a Service" (DoStopSvc) polls at a tenth of the wait hint, between 1 and 10 s; this polls
 *   at a tenth of it between 0.25 and 1 s, so the command returns soon after the service stops.
 *   https://learn.microsoft.com/windows/win32/services/stopping-a-service
 */

import { ServiceState } from './scm-state';

/** dwCurrentState values (winsvc.h) in sc.exe's words. */
const STATE_NAMES: Record<number, string> = {
  1: 'STOPPED',
  2: 'START_PENDING',
  3: 'STOP_PENDING',
  4: 'RUNNING',
  5: 'CONTINUE_PENDING',
  6: 'PAUSE_PENDING',
  7: 'PAUSED',
};

export const ERROR_SERVICE_REQUEST_TIMEOUT = 1053;
export const ERROR_SERVICE_CANNOT_ACCEPT_CTRL = 1061;
export const ERROR_SERVICE_NOT_ACTIVE = 1062;

/** The fields of SERVICE_STATUS the wait reads. */
export interface ObservedStatus {
  state: number;
  checkPoint: number;
  waitHint: number;
}

export interface StopLimits {
  /** Never wait longer than this in all, progress or not. */
  totalMs: number;
  /** A pending state may keep one checkpoint for its wait hint (at least this long) plus graceMs. */
  minHintMs: number;
  graceMs: number;
  /** After the stop was accepted, how long RUNNING may still be reported (the SCM's own default for a handler to answer: 30 s). */
  acceptedStillRunningMs: number;
}

export const STOP_LIMITS: StopLimits = { totalMs: 180_000, minHintMs: 10_000, graceMs: 5_000, acceptedStillRunningMs: 30_000 };

export type StopDecision =
  | { do: 'control' }
  | { do: 'wait'; ms: number }
  | { do: 'done'; result: 'stopped' | 'not running' }
  | { do: 'fail'; message: string; code: number | null };

export const stateName = (s: number): string => STATE_NAMES[s] ?? `state ${s}`;

export class StopWait {
  private sent = false;
  private last: ObservedStatus | null = null;
  private lastChangeAt: number;

  constructor(
    private readonly startedAt: number,
    private readonly limits: StopLimits = STOP_LIMITS,
  ) {
    this.lastChangeAt = startedAt;
  }

  /** A status from QueryServiceStatus at time now: what to do next. */
  observe(s: ObservedStatus, now: number): StopDecision {
    if (!this.last || this.last.state !== s.state || this.last.checkPoint !== s.checkPoint) this.lastChangeAt = now;
    this.last = s;
    if (s.state === ServiceState.Stopped) return { do: 'done', result: this.sent ? 'stopped' : 'not running' };
    if (now - this.startedAt > this.limits.totalMs) {
      return this.fail(`the service did not stop within ${seconds(this.limits.totalMs)} (it reports ${stateName(s.state)}, checkpoint ${s.checkPoint})`);
    }
    const still = now - this.lastChangeAt;
    if (s.state === ServiceState.StartPending || s.state === ServiceState.StopPending || s.state === ServiceState.ContinuePending || s.state === ServiceState.PausePending) {
      const allowed = Math.max(s.waitHint, this.limits.minHintMs) + this.limits.graceMs;
      if (still > allowed) {
        return this.fail(`the service is hung: it has reported ${stateName(s.state)} with checkpoint ${s.checkPoint} for ${seconds(still)} (its wait hint: ${seconds(s.waitHint)})`);
      }
      return { do: 'wait', ms: Math.min(1000, Math.max(250, Math.floor(s.waitHint / 10))) };
    }
    // RUNNING or PAUSED: send the stop, or wait for the service to report STOP_PENDING after accepting it.
    if (!this.sent) {
      this.sent = true;
      return { do: 'control' };
    }
    if (still > this.limits.acceptedStillRunningMs) {
      return this.fail(`the service accepted the stop but still reports ${stateName(s.state)} after ${seconds(still)}`);
    }
    return { do: 'wait', ms: 250 };
  }

  /** ControlService(SERVICE_CONTROL_STOP) failed with this Win32 error. */
  controlFailed(code: number): StopDecision {
    if (code === ERROR_SERVICE_NOT_ACTIVE) return { do: 'done', result: 'not running' };
    if (code === ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
      // Between our query and the control the service entered a pending state (or stopped): query again,
      // and send the stop once it is RUNNING.
      this.sent = false;
      return { do: 'wait', ms: 250 };
    }
    return { do: 'fail', message: '', code };
  }

  private fail(message: string): StopDecision {
    return { do: 'fail', message, code: null };
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** What the wait needs from the service control manager (koffi in windows-scm.ts, a fake in the tests). */
export interface StopPort {
  query(): ObservedStatus;
  /** ControlService(SERVICE_CONTROL_STOP): 0 when sent, else GetLastError's code. */
  control(): number;
}

export interface StopClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: StopClock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/**
 * Stops the service behind port and waits until it is STOPPED. Resolves 'stopped' or 'not running';
 * rejects with onError(code) for a Win32 error of ControlService, or an Error naming what was seen.
 */
export async function driveStop(port: StopPort, onError: (code: number) => Error, clock: StopClock = realClock, limits: StopLimits = STOP_LIMITS): Promise<'stopped' | 'not running'> {
  const wait = new StopWait(clock.now(), limits);
  let decision = wait.observe(port.query(), clock.now());
  for (;;) {
    switch (decision.do) {
      case 'done':
        return decision.result;
      case 'fail':
        throw decision.code === null ? new Error(decision.message) : onError(decision.code);
      case 'control': {
        const code = port.control();
        if (code !== 0) {
          decision = wait.controlFailed(code);
          continue;
        }
        break;
      }
      case 'wait':
        await clock.sleep(decision.ms);
        break;
    }
    decision = wait.observe(port.query(), clock.now());
  }
}
