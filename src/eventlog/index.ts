/**
 * The one system-log writer (interface: ./types.ts). openEventLog decides, in this one place, where the
 * recorder's messages for administrators go:
 * - Windows: the Application log, source "portqry-ts" (./windows.ts).
 * - Linux: syslog over /dev/log (./syslog.ts) when running under systemd (INVOCATION_ID or
 *   JOURNAL_STREAM set by systemd.exec(5)) or when the caller asks for it (target: 'system').
 * - Otherwise, or when the system log cannot be opened, or a message cannot be sent: the fallback
 *   (default: one line on stderr).
 * No method throws: a failing system log is reported through `lastError`, never as the caller's failure.
 */
import { safeEventId, DEFAULT_SOURCE, eventLogText, eventLogType, fallbackLine, safeSource, syslogDatagram } from './format';
import { SyslogSocket } from './syslog';
import type { EventLevel, EventLog } from './types';
import { WindowsEventSource } from './windows';

export type { EventLevel, EventLog } from './types';
export { EventId } from './types';

export type EventLogTarget = 'eventlog' | 'syslog' | 'fallback';

export interface OpenEventLogOptions {
  /** Event source (Windows) / syslog tag (Linux). Default "portqry-ts". */
  source?: string;
  /** Where messages go when the system log is not used or fails. Default: stderr lines; null drops them. */
  fallback?: EventLog | null;
  /**
   * 'auto' (default): the Windows Application log; on Linux syslog only under systemd.
   * 'system': the system log wherever it exists (Linux: /dev/log even outside systemd).
   * 'fallback': never the system log.
   */
  target?: 'auto' | 'system' | 'fallback';
  /** The syslog socket (default /dev/log); tests bind their own. */
  syslogPath?: string;
  /** For tests: the environment and platform the decision reads (default: this process's). */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/** An EventLog that also says where it writes and how it went (for self-check and tests). */
export interface SystemEventLog extends EventLog {
  readonly target: EventLogTarget;
  /** Messages the system log accepted. */
  readonly sent: number;
  /** Messages the system log did not take (each went to the fallback instead). */
  readonly failed: number;
  /** Why the system log could not be opened or the last message failed; null when all went well. */
  readonly lastError: string | null;
}

export const DEFAULT_SYSLOG_PATH = '/dev/log';

/** Whether systemd started us (systemd.exec(5): INVOCATION_ID for every unit, JOURNAL_STREAM when stdout/stderr go to the journal). */
export function underSystemd(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.INVOCATION_ID || env.JOURNAL_STREAM);
}

/** Which system log openEventLog would use (before trying to open it). */
export function chooseTarget(options: Pick<OpenEventLogOptions, 'target' | 'env' | 'platform'> = {}): EventLogTarget {
  const wanted = options.target ?? 'auto';
  if (wanted === 'fallback') return 'fallback';
  const platform = options.platform ?? process.platform;
  if (platform === 'win32') return 'eventlog';
  if (platform === 'linux' && (wanted === 'system' || underSystemd(options.env))) return 'syslog';
  return 'fallback';
}

/** Lines on a stream (default stderr): `portqry-ts: warning: [1200] message`. */
export function streamEventLog(stream: { write(chunk: string): unknown } = process.stderr, source = DEFAULT_SOURCE): EventLog {
  return {
    write(level, message, eventId) {
      try {
        stream.write(fallbackLine(level, message, eventId, source));
      } catch {
        // never throws
      }
    },
    close() {},
  };
}

const NULL_LOG: EventLog = { write() {}, close() {} };

interface Sink {
  send(level: EventLevel, message: string, eventId: number | undefined): string | null;
  close(): void;
}

class Writer implements SystemEventLog {
  sent = 0;
  failed = 0;
  lastError: string | null;
  private closed = false;

  constructor(
    readonly target: EventLogTarget,
    private readonly sink: Sink | null,
    private readonly fallback: EventLog,
    openError: string | null,
  ) {
    this.lastError = openError;
  }

  write(level: EventLevel, message: string, eventId?: number): void {
    try {
      if (this.sink && !this.closed) {
        const err = this.sink.send(level, message, eventId);
        if (err === null) {
          this.sent++;
          return;
        }
        this.failed++;
        this.lastError = err;
      }
      this.fallback.write(level, message, eventId);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sink?.close();
    } catch {
      // never throws
    }
    try {
      this.fallback.close();
    } catch {
      // never throws
    }
  }
}

/** Opens the system log for this platform (see the file comment). Never throws. */
export function openEventLog(options: OpenEventLogOptions = {}): SystemEventLog {
  const source = safeSource(options.source);
  const fallback = options.fallback === undefined ? streamEventLog(process.stderr, source) : (options.fallback ?? NULL_LOG);
  const target = chooseTarget(options);
  if (target === 'fallback') return new Writer('fallback', null, fallback, null);
  try {
    return new Writer(target, target === 'eventlog' ? openWindowsSink(source) : openSyslogSink(source, options.syslogPath ?? DEFAULT_SYSLOG_PATH), fallback, null);
  } catch (err) {
    return new Writer('fallback', null, fallback, `${target === 'eventlog' ? 'Application log' : 'syslog'}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function openSyslogSink(source: string, socketPath: string): Sink {
  // koffi (native code) is loaded here, when a system log is really opened, never at import.
  const socket = new SyslogSocket(socketPath);
  return {
    send: (level, message, eventId) => socket.send(syslogDatagram(level, message, eventId, source, process.pid)),
    close: () => socket.close(),
  };
}

function openWindowsSink(source: string): Sink {
  const eventSource = new WindowsEventSource(source);
  return {
    send: (level, message, eventId) => eventSource.report(eventLogType(level), safeEventId(eventId) ?? 0, eventLogText(message)),
    close: () => eventSource.close(),
  };
}
