/**
 * What a Windows service is made of, shared by the install plan (src/recorder/install.ts) and the SCM
 * binding (windows-scm.ts) without either importing the other.
 */

export interface FailureActions {
  /** Seconds without failure after which the failure count resets. */
  resetPeriodSeconds: number;
  /** One restart per failure, in order; the last repeats. */
  restartDelaysMs: number[];
}

/** What `record --install` configures: restart after 5 s, 30 s, then every 60 s; the count resets after a day without failure. */
export const RECORDER_FAILURE_ACTIONS: FailureActions = { resetPeriodSeconds: 86_400, restartDelaysMs: [5_000, 30_000, 60_000] };

export interface ServiceDefinition {
  name: string;
  displayName: string;
  description: string;
  /** The full command line the SCM runs (program quoted). */
  binaryPath: string;
  failureActions: FailureActions;
}

/** Carries out the service steps (windows-scm.ts; tests inject their own). */
export interface ServiceOperations {
  create(service: ServiceDefinition): string;
  /** Returns a note when part of the configuration could not be applied (null: all applied). */
  configure(service: ServiceDefinition): string | null;
  start(name: string): string;
  stop(name: string): Promise<string>;
  delete(name: string): string;
}
