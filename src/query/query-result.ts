import schema from '../../schemas/query-result.schema.json';
import { ExitCode } from '../exit-codes';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { resultLines } from './portqry-text';
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

export const QueryResultKind = defineRecordKind(schema as RecordSchema, {
  tableColumns: ['ComputerName', 'RemoteAddress', 'Protocol', 'RemotePort', 'Service', 'State', 'ResponseTimeMs', 'Probe'],
  text: (record, style) => resultLines(record as unknown as QueryResult, style),
});

/** PortQry's ERRORLEVEL for one verdict. */
export function exitCodeForState(state: PortState): number {
  if (state === 'LISTENING') return ExitCode.Ok;
  if (state === 'NOT LISTENING') return ExitCode.NotListening;
  return ExitCode.Filtered;
}
