import { ExitCode } from '../exit-codes';
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

/** PortQry's ERRORLEVEL for one verdict. */
export function exitCodeForState(state: PortState): number {
  if (state === 'LISTENING') return ExitCode.Ok;
  if (state === 'NOT LISTENING') return ExitCode.NotListening;
  return ExitCode.Filtered;
}
