import type { PortReporterRecord } from './record';
import { localTextOf, type LocalClock } from './time';

/**
 * Our JSON Lines event log (PR-EVENTS-*.jsonl, schemas/record-event.schema.json): one RecordEvent per
 * line, mapped onto PortReporterRecord. StateChanged events (query -wport output, never logged) are
 * skipped without complaint.
 */
export function eventToRecord(line: string, lineNo: number, sourceFile: string, fallbackComputer: string | null, clock: LocalClock): PortReporterRecord | string | undefined {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(line);
  } catch {
    return 'not a JSON object';
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'not a JSON object';
  const event = e.Event;
  if (event === 'StateChanged') return undefined;
  if (event !== 'Opened' && event !== 'Closed' && event !== 'Initial') return `unknown Event ${JSON.stringify(event)}`;
  if (e.Protocol !== 'TCP' && e.Protocol !== 'UDP') return `bad Protocol ${JSON.stringify(e.Protocol)}`;
  const ms = typeof e.TimeUtc === 'string' ? Date.parse(e.TimeUtc) : Number.NaN;
  if (Number.isNaN(ms)) return `bad TimeUtc ${JSON.stringify(e.TimeUtc)}`;
  const localPort = port(e.LocalPort);
  if (localPort === undefined || localPort === null) return `bad LocalPort ${JSON.stringify(e.LocalPort)}`;
  const remotePort = port(e.RemotePort);
  if (remotePort === undefined) return `bad RemotePort ${JSON.stringify(e.RemotePort)}`;
  const localAddress = str(e.LocalAddress);
  let remoteAddress = str(e.RemoteAddress);
  const state = str(e.State);
  // One shape with PR-PORTS: a TCP listener's remote address is 0.0.0.0 (or ::), as Port Reporter writes it.
  if (e.Protocol === 'TCP' && remoteAddress === null && state === 'Listen') remoteAddress = localAddress?.includes(':') ? '::' : '0.0.0.0';
  const pid = e.OwningProcess;
  const lifetime = e.LifetimeSeconds;
  return {
    ComputerName: str(e.ComputerName) ?? fallbackComputer,
    TimeUtc: new Date(ms).toISOString(),
    TimeLocal: localTextOf(ms, clock),
    Event: event,
    Protocol: e.Protocol,
    LocalAddress: localAddress,
    LocalPort: localPort,
    RemoteAddress: remoteAddress,
    RemotePort: remotePort,
    State: e.Protocol === 'UDP' ? null : state,
    OwningProcess: Number.isSafeInteger(pid) && (pid as number) >= 0 ? (pid as number) : null,
    ProcessName: str(e.ProcessName),
    ProcessPath: str(e.ProcessPath),
    CommandLine: str(e.CommandLine),
    UserName: str(e.UserName),
    Services: strings(e.Services),
    Modules: strings(e.Modules),
    ProcessStartTime: iso(e.ProcessStartTime),
    LifetimeSeconds: typeof lifetime === 'number' && Number.isFinite(lifetime) && lifetime >= 0 ? lifetime : null,
    RemoteHostName: null,
    // record --criteria flagged it while recording (parse --criteria decides again).
    Flagged: e.Flagged === true,
    FlagReasons: e.Flagged === true ? (strings(e.FlagReasons) ?? []) : [],
    SourceFile: sourceFile,
    SourceLine: lineNo,
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function port(v: unknown): number | null | undefined {
  if (v === null || v === undefined) return null;
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? (v as number) : undefined;
}

function strings(v: unknown): string[] | null {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
}

function iso(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
