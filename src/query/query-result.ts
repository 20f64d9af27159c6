import schema from '../../schemas/query-result.schema.json';
import { ExitCode } from '../exit-codes';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { sanitizeLine } from '../output/sanitize';
import type { Style } from '../output/style';
import type { PortState } from './tcp-connect';

export interface QueryResult {
  ComputerName: string;
  RemoteAddress: string | null;
  HostName: string | null;
  Protocol: 'TCP' | 'UDP';
  RemotePort: number;
  Service: string | null;
  State: PortState;
  Reason: string | null;
  ResponseTimeMs: number | null;
  Attempts: number;
  LocalAddress: string | null;
  LocalPort: number | null;
  Probe: string | null;
  ProbeData: Record<string, unknown> | null;
  ProbeError: string | null;
  TimeUtc: string;
}

export function styleState(state: string, style: Style): string {
  if (state === 'LISTENING') return style.good(state);
  if (state === 'NOT LISTENING') return style.bad(state);
  return style.warn(state);
}

/** PortQry's status line, which scripts scrape: `TCP port 80 (http service): LISTENING`. */
export function portqryStatusLine(r: { Protocol: string; RemotePort: number; Service: string | null; State: string }, style: Style): string {
  const service = r.Service ? `${sanitizeLine(r.Service)} service` : 'unknown service';
  return `${r.Protocol} port ${r.RemotePort} (${service}): ${styleState(r.State, style)}`;
}

export const QueryResultKind = defineRecordKind(schema as RecordSchema, {
  tableColumns: ['ComputerName', 'RemoteAddress', 'Protocol', 'RemotePort', 'Service', 'State', 'ResponseTimeMs', 'Probe'],
  text: (record, style) => [portqryStatusLine(record as unknown as QueryResult, style), ''],
});

/** PortQry's ERRORLEVEL for one verdict. */
export function exitCodeForState(state: PortState): number {
  if (state === 'LISTENING') return ExitCode.Ok;
  if (state === 'NOT LISTENING') return ExitCode.NotListening;
  return ExitCode.Filtered;
}
