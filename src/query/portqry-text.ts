import { displayValue } from '../output/emitter';
import { sanitizeLine } from '../output/sanitize';
import type { Style } from '../output/style';
import { probeByName } from './probes/registry';
import type { Probe } from './probes/types';
import type { QueryResult } from './query-result';
import type { ResolvedTarget } from './resolve';

/**
 * PortQry's text, line for line (PortQry 2.0, KB 310099 and its samples): scripts scrape these lines, so their words, order and
 * blank lines are kept. Every message is followed by a blank line. Used by the text format and by
 * the -l log file.
 */

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

/** The lines before a target's first result. */
export function targetPreamble(target: ResolvedTarget): string[] {
  return ['Querying target system called:', '', ` ${sanitizeLine(target.target)}`, '', ...target.notes.map(sanitizeLine), 'querying...', ''];
}

/** What PortQry prints for a name that does not resolve, before it gives up on that target. */
export function unresolvedPreamble(target: string): string[] {
  return ['Querying target system called:', '', ` ${sanitizeLine(target)}`, '', 'Attempting to resolve name to IP address...', '', 'Failed to resolve name to IP address', ''];
}

/** The probe's own lines, or its fields as `Key: value` when it has no describe(). */
function probeLines(probe: Probe | undefined, record: QueryResult): string[] {
  if (record.ProbeData) {
    let lines: string[] | undefined;
    try {
      lines = probe?.describe?.(record.ProbeData);
    } catch {
      lines = undefined;
    }
    lines ??= Object.entries(record.ProbeData).map(([k, v]) => `${k}: ${displayValue(v)}`);
    return [...lines.map(sanitizeLine), ''];
  }
  if (record.ProbeError) return [sanitizeLine(record.ProbeError), ''];
  return [];
}

/**
 * One result as PortQry prints it. UDP with a step-2 query reads:
 *
 *     UDP port 53 (domain service): LISTENING or FILTERED
 *
 *     Sending DNS query to UDP port 53...
 *
 *     <the probe's lines>
 *
 *     UDP port 53 is LISTENING
 */
export function resultLines(record: QueryResult, style: Style): string[] {
  const probe = record.Probe ? probeByName(record.Probe) : undefined;
  const label = probe?.label ?? record.Probe ?? '';
  const decidedByProbe = record.Protocol === 'UDP' && (record.Reason ?? '').startsWith('probe-');
  const lines = [portqryStatusLine(decidedByProbe ? { ...record, State: 'LISTENING or FILTERED' } : record, style), ''];
  if (record.Probe) {
    const announcement = probe?.announce ? probe.announce(record.RemotePort) : [`Sending ${sanitizeLine(label)} query to ${record.Protocol} port ${record.RemotePort}...`];
    for (const line of announcement) lines.push(line, '');
    lines.push(...probeLines(probe, record));
  }
  if (decidedByProbe) lines.push(`${record.Protocol} port ${record.RemotePort} is ${styleState(record.State, style)}`, '');
  return lines;
}
