/**
 * The recorder's messages for administrators: one writer, wherever the recorder runs.
 * - Windows: the Application event log (RegisterEventSourceW / ReportEventW), source "portqry-ts".
 * - Linux under systemd (or wherever /dev/log exists and the caller asks for it): syslog over /dev/log.
 * - Elsewhere, or when the system log cannot be reached: the fallback given to openEventLog (stderr).
 * Implementations live beside this file (src/eventlog/index.ts opens the right one for this platform);
 * tests inject their own EventLog.
 */
export type EventLevel = 'info' | 'warning' | 'error';

export interface EventLog {
  /** One message; control characters are stripped by the writer. Never throws: a failing system log is not the caller's failure. */
  write(level: EventLevel, message: string, eventId?: number): void;
  close(): void;
}

/** Event ids used in the Windows Application log (and as MSGID in syslog), so admins can filter on them. */
export const EventId = {
  ServiceStart: 1000,
  ServiceStop: 1001,
  LogRotated: 1100,
  WriteFailed: 1200,
  WriteRecovered: 1201,
  AccessDenied: 1300,
  CriteriaMatched: 1400,
  LogDirReplaced: 1500,
  ShortLivedCaptureOff: 1600,
} as const;
