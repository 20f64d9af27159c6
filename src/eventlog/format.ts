/**
 * Pure formatting for the system-log writers (no I/O, no FFI), so the bytes each one sends can be
 * tested on any platform.
 */
import { sanitizeLine, sanitizeText } from '../output/sanitize';
import type { EventLevel } from './types';

export const DEFAULT_SOURCE = 'portqry-ts';

/** syslog facility "daemon" (RFC 5424 §6.2.1: 3), as systemd services and Windows services are daemons. */
export const FACILITY_DAEMON = 3;
/** RFC 5424 severities: error 3 (err), warning 4, info 6 (informational). */
const SYSLOG_SEVERITY: Record<EventLevel, number> = { error: 3, warning: 4, info: 6 };
/** ReportEventW's wType (winnt.h): EVENTLOG_ERROR_TYPE 1, EVENTLOG_WARNING_TYPE 2, EVENTLOG_INFORMATION_TYPE 4. */
const EVENTLOG_TYPE: Record<EventLevel, number> = { error: 0x0001, warning: 0x0002, info: 0x0004 };

/** Longest datagram sent to /dev/log; journald and rsyslog take more, but a message this long is a bug. */
export const SYSLOG_MAX_BYTES = 8192;
/** ReportEventW limits each insertion string to 31,839 characters (learn.microsoft.com, ReportEventW). */
export const EVENTLOG_MAX_CHARS = 31_000;

export function isEventLevel(value: unknown): value is EventLevel {
  return value === 'info' || value === 'warning' || value === 'error';
}

/** The syslog tag / event source: letters, digits, dot, underscore, dash; at most 32 characters (RFC 3164 §4.1.3). */
export function safeSource(source: string | undefined): string {
  const cleaned = (source ?? DEFAULT_SOURCE).replace(/[^A-Za-z0-9._-]/g, '').slice(0, 32);
  return cleaned || DEFAULT_SOURCE;
}

/** A valid event id (0..65535: the Event Viewer shows the low 16 bits), or null. */
export function safeEventId(eventId: number | undefined): number | null {
  return eventId !== undefined && Number.isInteger(eventId) && eventId >= 0 && eventId <= 0xffff ? eventId : null;
}

/** One line: line breaks become spaces, then escape sequences and control characters go (src/output/sanitize.ts). */
export function oneLine(message: string): string {
  return sanitizeLine(String(message).replace(/\r\n|\r|\n/g, ' ')).trim();
}

export function syslogPriority(level: EventLevel): number {
  return FACILITY_DAEMON * 8 + SYSLOG_SEVERITY[level];
}

/**
 * The datagram for /dev/log: `<PRI>TAG[PID]: [ID] MESSAGE` (RFC 3164 §4.1 without TIMESTAMP and HOSTNAME,
 * which the local daemon adds; journald and rsyslog parse this form, and glibc's syslog() sends the same
 * minus its timestamp). The event id (types.ts EventId) leads the text in brackets so admins can filter
 * on it: `journalctl -t portqry-ts --grep '^\[1200\]'`. Cut at SYSLOG_MAX_BYTES on a character boundary.
 */
export function syslogDatagram(level: EventLevel, message: string, eventId: number | undefined, source: string, pid: number): Buffer {
  const id = safeEventId(eventId);
  const text = `<${syslogPriority(level)}>${safeSource(source)}[${pid}]: ${id === null ? '' : `[${id}] `}${oneLine(message)}`;
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= SYSLOG_MAX_BYTES) return buf;
  let end = SYSLOG_MAX_BYTES;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // do not split a UTF-8 sequence
  return buf.subarray(0, end);
}

export function eventLogType(level: EventLevel): number {
  return EVENTLOG_TYPE[level];
}

/** The insertion string for ReportEventW: line breaks kept (as CRLF, which the Event Viewer shows), controls stripped. */
export function eventLogText(message: string): string {
  const text = sanitizeText(String(message)).trim().slice(0, EVENTLOG_MAX_CHARS);
  return text.replace(/\n/g, '\r\n');
}

/** The fallback's line on stderr: `portqry-ts: warning: [1200] message`. */
export function fallbackLine(level: EventLevel, message: string, eventId: number | undefined, source: string): string {
  const id = safeEventId(eventId);
  return `${safeSource(source)}: ${level}: ${id === null ? '' : `[${id}] `}${oneLine(message)}\n`;
}
