/**
 * PortQry's local mode (`-local`, `-wport`, `-wpid`) over the same snapshots as the recorder: the
 * port-to-process table, "Port Statistics", and the per-process section, in PortQry's layout (text)
 * and as records.
 */
import schema from '../../schemas/port-statistics.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { sanitizeLine } from '../output/sanitize';
import type { Endpoint, ProcessInfo, Snapshot, TcpState } from '../platform/types';
import type { OwnedEndpoint } from './endpoints';
import { compareText } from '../output/collate';

/** PortQry's words for TCP states in local mode (`TIME WAIT`, `CLOSE WAIT`). */
const PORTQRY_STATE: Record<TcpState, string> = {
  Closed: 'CLOSED',
  Listen: 'LISTENING',
  SynSent: 'SYN SENT',
  SynReceived: 'SYN RECEIVED',
  Established: 'ESTABLISHED',
  FinWait1: 'FIN WAIT1',
  FinWait2: 'FIN WAIT2',
  CloseWait: 'CLOSE WAIT',
  Closing: 'CLOSING',
  LastAck: 'LAST ACK',
  TimeWait: 'TIME WAIT',
  DeleteTCB: 'DELETE TCB',
  Bound: 'BOUND',
};

export function portqryState(state: string | null): string {
  return state ? PORTQRY_STATE[state as TcpState] ?? state : '';
}

/** `TCP 445 0.0.0.0 LISTENING 0.0.0.0:0`, `UDP 135 0.0.0.0 :`, as PortQry's table rows. */
export function portqryPortColumns(r: Record<string, unknown>): string {
  const local = `${r.Protocol} ${r.LocalPort} ${sanitizeLine(String(r.LocalAddress ?? ''))}`;
  if (r.Protocol === 'UDP') return `${local} :`;
  const v6 = String(r.LocalAddress ?? '').includes(':');
  const remote = r.RemoteAddress === null ? `${v6 ? '[::]' : '0.0.0.0'}:0` : `${v6 ? `[${sanitizeLine(String(r.RemoteAddress))}]` : sanitizeLine(String(r.RemoteAddress))}:${r.RemotePort}`;
  return `${local} ${portqryState(r.State as string | null)} ${remote}`;
}

/** PortQry's `PID:Process` cell (`800` alone when the name is unknown). */
export function pidCell(pid: unknown, name: unknown): string {
  if (pid === null || pid === undefined) return '-';
  return name ? `${pid}:${sanitizeLine(String(name))}` : String(pid);
}

/** One PortQry statistics line (`TCP mappings: 74`, `TCP ports in a LISTENING state: 51 = 68.92%`). */
export function statisticsLines(r: Record<string, unknown>): string[] {
  if (r.State === null) return [`${r.Protocol} mappings: ${r.Count}`, ...(r.Protocol === 'UDP' ? [''] : [])];
  return [`TCP ports in a ${portqryState(r.State as string)} state: ${r.Count} = ${(r.Percent as number).toFixed(2)}%`];
}

export const PortStatisticsKind = defineRecordKind(schema as RecordSchema, { text: statisticsLines });

function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10000) / 100;
}

/** PortQry's Port Statistics: TCP and UDP mappings, then TCP ports per state, most frequent first. */
export function portStatistics(endpoints: readonly Endpoint[], computerName: string, takenAt: Date, pid: number | null): Record<string, unknown>[] {
  const tcp = endpoints.filter((e) => e.protocol === 'TCP');
  const udp = endpoints.length - tcp.length;
  const base = { ComputerName: computerName, OwningProcess: pid, TimeUtc: takenAt };
  const rows: Record<string, unknown>[] = [
    { ...base, Protocol: 'TCP', State: null, Count: tcp.length, Percent: percent(tcp.length, endpoints.length) },
    { ...base, Protocol: 'UDP', State: null, Count: udp, Percent: percent(udp, endpoints.length) },
  ];
  const byState = new Map<string, number>();
  for (const e of tcp) if (e.state) byState.set(e.state, (byState.get(e.state) ?? 0) + 1);
  const states = [...byState].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]));
  for (const [state, count] of states) rows.push({ ...base, Protocol: 'TCP', State: state, Count: count, Percent: percent(count, tcp.length) });
  return rows;
}

export interface ProcessSection {
  pid: number;
  process: ProcessInfo | null;
  owned: OwnedEndpoint[];
}

/** The owners of the snapshot's endpoints, by PID, each with its endpoints. */
export function processSections(owned: readonly OwnedEndpoint[]): ProcessSection[] {
  const byPid = new Map<number, ProcessSection>();
  for (const o of owned) {
    const pid = o.endpoint.pid;
    if (pid === null) continue;
    let s = byPid.get(pid);
    if (!s) byPid.set(pid, (s = { pid, process: o.process, owned: [] }));
    s.owned.push(o);
  }
  return [...byPid.values()].sort((a, b) => a.pid - b.pid);
}

const RULE = '='.repeat(54);

/** PortQry's "Port and Module Information by Process" section for one process (text lines). */
export function processSectionText(section: ProcessSection, snapshot: Snapshot): string[] {
  const p = section.process;
  const name = p?.name ? sanitizeLine(p.name) : null;
  const lines = [RULE, `Process ID: ${section.pid}${name ? ` (${name})` : ''}`, ''];
  if (p?.path) lines.push(`Image path: ${sanitizeLine(p.path)}`);
  if (p?.user) lines.push(`User: ${sanitizeLine(p.user)}`);
  if (p?.commandLine) lines.push(`Command line: ${sanitizeLine(p.commandLine)}`);
  if (p?.startTime) lines.push(`Started: ${p.startTime.toISOString()}`);
  if (p?.path || p?.user || p?.commandLine || p?.startTime) lines.push('');
  if (p && p.services.length > 0) {
    for (const s of p.services) lines.push(`Service Name: ${sanitizeLine(s)}`);
  } else {
    lines.push("Process doesn't appear to be a service");
  }
  lines.push('', 'PID\tPort\tLocal IP\tState\tRemote IP:Port');
  for (const o of section.owned) {
    const e = o.endpoint;
    lines.push(`${section.pid}\t${portqryPortColumns({ Protocol: e.protocol, LocalPort: e.localPort, LocalAddress: e.localAddress, State: e.state, RemoteAddress: e.remoteAddress, RemotePort: e.remotePort })}`);
  }
  lines.push('', 'Port Statistics', '');
  for (const row of portStatistics(section.owned.map((o) => o.endpoint), snapshot.computerName, snapshot.takenAt, section.pid)) {
    lines.push(...statisticsLines(row));
  }
  lines.push('');
  if (p && p.modules.length > 0) {
    lines.push('Loaded modules:');
    for (const m of p.modules) lines.push(sanitizeLine(m));
  } else {
    lines.push('Could not access module information for this process');
  }
  lines.push('');
  return lines;
}
