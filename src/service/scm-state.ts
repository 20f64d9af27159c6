/**
 * What a Windows service reports to the service control manager, and when: a pure state machine, fed
 * the SCM's events (ServiceMain called, a control code arrived, a progress tick) and the recorder's
 * (started, stopped), returning the SERVICE_STATUS to report and the reply to the control. The koffi
 * layer (windows-scm.ts) only forwards; the tests drive this with injected SCM events.
 *
 * Rules from Microsoft's documentation:
 * - SetServiceStatus: https://learn.microsoft.com/windows/win32/api/winsvc/nf-winsvc-setservicestatus
 *   START_PENDING / STOP_PENDING carry a wait hint and a checkpoint that grows with each progress
 *   report; RUNNING and STOPPED carry checkpoint 0 and wait hint 0. No controls are accepted while a
 *   state is pending.
 * - HandlerEx: https://learn.microsoft.com/windows/win32/api/winsvc/nc-winsvc-lphandler_function_ex
 *   returns NO_ERROR for a control it handles (and for INTERROGATE), ERROR_CALL_NOT_IMPLEMENTED for
 *   others; it must return within 30 s (work is started, not waited for).
 * - SERVICE_STATUS dwControlsAccepted: a service that accepts PRESHUTDOWN gets no SHUTDOWN; STOP,
 *   SHUTDOWN and PRESHUTDOWN all mean "flush, close, report STOPPED".
 * - A stop for an error reports win32ExitCode ERROR_SERVICE_SPECIFIC_ERROR with the tool's exit code
 *   as the service-specific code; with SERVICE_CONFIG_FAILURE_ACTIONS_FLAG set, the SCM applies the
 *   failure actions to such a stop as to a crash.
 */
export const SERVICE_WIN32_OWN_PROCESS = 0x10;

export const ServiceState = {
  Stopped: 1,
  StartPending: 2,
  StopPending: 3,
  Running: 4,
  // Never reported by our service (it accepts no pause); other services report them, and a control
  // program stopping one reads them (stop-wait.ts).
  ContinuePending: 5,
  PausePending: 6,
  Paused: 7,
} as const;
export type ServiceState = (typeof ServiceState)[keyof typeof ServiceState];

export const ServiceControl = {
  Stop: 0x1,
  Pause: 0x2,
  Continue: 0x3,
  Interrogate: 0x4,
  Shutdown: 0x5,
  ParamChange: 0x6,
  Preshutdown: 0xf,
} as const;

export const ServiceAccept = {
  Stop: 0x1,
  Shutdown: 0x4,
  Preshutdown: 0x100,
} as const;

export const NO_ERROR = 0;
export const ERROR_CALL_NOT_IMPLEMENTED = 120;
export const ERROR_SERVICE_SPECIFIC_ERROR = 1066;

/** The fields of SERVICE_STATUS, in its order. */
export interface ServiceStatus {
  serviceType: number;
  currentState: ServiceState;
  controlsAccepted: number;
  win32ExitCode: number;
  serviceSpecificExitCode: number;
  checkPoint: number;
  waitHint: number;
}

/** How long the SCM is told each pending step may take; progress ticks (every PROGRESS_EVERY_MS) renew it. */
export const START_WAIT_HINT_MS = 30_000;
export const STOP_WAIT_HINT_MS = 15_000;
export const PROGRESS_EVERY_MS = 1000;

export interface ControlOutcome {
  /** What HandlerEx returns. */
  reply: number;
  /** A status to report now, or null. */
  report: ServiceStatus | null;
  /** True when the recorder must now stop (first STOP/SHUTDOWN/PRESHUTDOWN). */
  stopRecorder: boolean;
}

const ACCEPTED_WHEN_RUNNING = ServiceAccept.Stop | ServiceAccept.Shutdown | ServiceAccept.Preshutdown;

export class ServiceStateMachine {
  private state: ServiceState = ServiceState.Stopped;
  private checkPoint = 0;
  private exit = { win32: NO_ERROR, specific: 0 };
  /** The control that asked for the stop (for the event log), or null. */
  stopReason: 'stop' | 'shutdown' | 'preshutdown' | null = null;

  get currentState(): ServiceState {
    return this.state;
  }

  status(): ServiceStatus {
    const pending = this.state === ServiceState.StartPending || this.state === ServiceState.StopPending;
    return {
      serviceType: SERVICE_WIN32_OWN_PROCESS,
      currentState: this.state,
      controlsAccepted: this.state === ServiceState.Running ? ACCEPTED_WHEN_RUNNING : 0,
      win32ExitCode: this.state === ServiceState.Stopped ? this.exit.win32 : NO_ERROR,
      serviceSpecificExitCode: this.state === ServiceState.Stopped ? this.exit.specific : 0,
      checkPoint: pending ? this.checkPoint : 0,
      waitHint: this.state === ServiceState.StartPending ? START_WAIT_HINT_MS : this.state === ServiceState.StopPending ? STOP_WAIT_HINT_MS : 0,
    };
  }

  /** ServiceMain was called: START_PENDING, checkpoint 1. */
  serviceMain(): ServiceStatus {
    this.state = ServiceState.StartPending;
    this.checkPoint = 1;
    return this.status();
  }

  /** The recorder wrote its first poll (logs open): RUNNING, controls accepted. Null when a stop came first. */
  recorderStarted(): ServiceStatus | null {
    if (this.state !== ServiceState.StartPending) return null;
    this.state = ServiceState.Running;
    this.checkPoint = 0;
    return this.status();
  }

  /** A progress tick while a state is pending: the checkpoint grows, so the SCM sees the service is alive. Null otherwise. */
  progress(): ServiceStatus | null {
    if (this.state !== ServiceState.StartPending && this.state !== ServiceState.StopPending) return null;
    this.checkPoint++;
    return this.status();
  }

  control(code: number): ControlOutcome {
    switch (code) {
      case ServiceControl.Interrogate:
        // The SCM keeps the last reported status; the handler only has to answer.
        return { reply: NO_ERROR, report: null, stopRecorder: false };
      case ServiceControl.Stop:
      case ServiceControl.Shutdown:
      case ServiceControl.Preshutdown: {
        if (this.state === ServiceState.StopPending || this.state === ServiceState.Stopped) {
          return { reply: NO_ERROR, report: null, stopRecorder: false };
        }
        this.stopReason = code === ServiceControl.Stop ? 'stop' : code === ServiceControl.Shutdown ? 'shutdown' : 'preshutdown';
        this.state = ServiceState.StopPending;
        this.checkPoint = 1;
        return { reply: NO_ERROR, report: this.status(), stopRecorder: true };
      }
      default:
        return { reply: ERROR_CALL_NOT_IMPLEMENTED, report: null, stopRecorder: false };
    }
  }

  /**
   * The recorder ended (after a stop, or by itself: its own failure). exitCode is the tool's exit code;
   * a non-zero code becomes ERROR_SERVICE_SPECIFIC_ERROR, so that failure actions restart the service.
   */
  recorderStopped(exitCode: number): ServiceStatus {
    this.state = ServiceState.Stopped;
    this.checkPoint = 0;
    this.exit = exitCode === 0 ? { win32: NO_ERROR, specific: 0 } : { win32: ERROR_SERVICE_SPECIFIC_ERROR, specific: exitCode };
    return this.status();
  }
}
