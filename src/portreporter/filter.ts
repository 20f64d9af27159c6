import { UsageError } from '../errors';
import { type AddressMatcher, parseAddressMatcher } from './address';
import type { PortReporterRecord } from './record';
import { compileWildcard, type Wildcard } from './wildcard';
import { type LocalClock, parseTimeBound } from './time';

/**
 * parse/stats filters. Options combine with AND; the values of one option (repeated, or a comma
 * list as PowerShell passes `-x a,b`) with OR. Names match case-insensitively with `*` and `?`
 * wildcards.
 */
export interface FilterOptions {
  protocol?: string[];
  port?: string[];
  localPort?: string[];
  remotePort?: string[];
  process?: string[];
  module?: string[];
  ip?: string[];
  user?: string[];
  host?: string[];
  since?: string;
  until?: string;
}

export interface RecordFilter {
  /** Everything but --host (cheap; runs before name resolution, so fewer lookups). */
  beforeResolve(r: PortReporterRecord): boolean;
  /** --host, on RemoteHostName. */
  afterResolve(r: PortReporterRecord): boolean;
  /** True when --host needs names resolved. */
  readonly needsNames: boolean;
  readonly active: boolean;
}

type Range = [number, number];

/** Splits repeated and comma-separated values. */
export function listValues(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

export function parsePortRanges(name: string, values: readonly string[] | undefined): Range[] {
  return listValues(values).map((v) => {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
    const lo = m ? Number(m[1]) : -1;
    const hi = m ? Number(m[2] ?? m[1]) : -1;
    if (!m || lo > 65535 || hi > 65535 || lo > hi) throw new UsageError(`invalid ${name} '${v}': expected a port (0-65535) or a range such as 1024-2048`);
    return [lo, hi];
  });
}

/** A case-insensitive wildcard pattern (`*`, `?`) over the whole string, matched in linear time (wildcard.ts). */
export function wildcard(pattern: string): Wildcard {
  return compileWildcard(pattern, { caseInsensitive: true });
}

export function basename(p: string): string {
  const i = Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/'));
  return i < 0 ? p : p.slice(i + 1);
}

/** A process pattern with a path separator matches ProcessPath; otherwise the image name. */
export function processMatcher(pattern: string): (r: PortReporterRecord) => boolean {
  const re = wildcard(pattern);
  if (/[\\/]/.test(pattern)) return (r) => r.ProcessPath !== null && re.test(r.ProcessPath);
  return (r) => (r.ProcessName !== null && re.test(r.ProcessName)) || (r.ProcessPath !== null && re.test(basename(r.ProcessPath)));
}

/** A module pattern matches a loaded module's full path, or its file name when the pattern has no separator. */
export function moduleMatcher(pattern: string): (r: PortReporterRecord) => string | undefined {
  const re = wildcard(pattern);
  const full = /[\\/]/.test(pattern);
  return (r) => r.Modules?.find((m) => re.test(full ? m : basename(m)));
}

/** `DOMAIN\user` patterns match the whole user context; a bare `user` matches the part after the backslash too. */
export function userMatcher(pattern: string): (r: PortReporterRecord) => boolean {
  const re = wildcard(pattern);
  const whole = pattern.includes('\\');
  return (r) => r.UserName !== null && (re.test(r.UserName) || (!whole && re.test(basename(r.UserName))));
}

export function compileFilter(options: FilterOptions, clock: LocalClock): RecordFilter {
  const protocols = listValues(options.protocol).map((p) => {
    const u = p.toUpperCase();
    if (u !== 'TCP' && u !== 'UDP') throw new UsageError(`invalid --protocol '${p}': expected tcp or udp`);
    return u;
  });
  const ports = parsePortRanges('--port', options.port);
  const localPorts = parsePortRanges('--local-port', options.localPort);
  const remotePorts = parsePortRanges('--remote-port', options.remotePort);
  const processes = listValues(options.process).map(processMatcher);
  const modules = listValues(options.module).map(moduleMatcher);
  const ips: AddressMatcher[] = listValues(options.ip).map((v) => parseAddressMatcher(v));
  const users = listValues(options.user).map(userMatcher);
  const hosts = listValues(options.host).map(wildcard);
  const since = options.since !== undefined ? new Date(parseTimeBound('--since', options.since, clock)).toISOString() : undefined;
  const until = options.until !== undefined ? new Date(parseTimeBound('--until', options.until, clock)).toISOString() : undefined;
  if (since && until && since > until) throw new UsageError(`--since '${options.since}' is after --until '${options.until}'`);

  const inRanges = (ranges: Range[], port: number | null) => port !== null && ranges.some(([lo, hi]) => port >= lo && port <= hi);
  const tests: ((r: PortReporterRecord) => boolean)[] = [];
  if (protocols.length) tests.push((r) => protocols.includes(r.Protocol));
  if (ports.length) tests.push((r) => inRanges(ports, r.LocalPort) || inRanges(ports, r.RemotePort));
  if (localPorts.length) tests.push((r) => inRanges(localPorts, r.LocalPort));
  if (remotePorts.length) tests.push((r) => inRanges(remotePorts, r.RemotePort));
  if (processes.length) tests.push((r) => processes.some((m) => m(r)));
  if (modules.length) tests.push((r) => modules.some((m) => m(r) !== undefined));
  if (ips.length) tests.push((r) => ips.some((m) => m.matches(r.LocalAddress) || m.matches(r.RemoteAddress)));
  if (users.length) tests.push((r) => users.some((m) => m(r)));
  if (since) tests.push((r) => r.TimeUtc !== null && r.TimeUtc >= since);
  if (until) tests.push((r) => r.TimeUtc !== null && r.TimeUtc <= until);

  return {
    beforeResolve: (r) => tests.every((t) => t(r)),
    afterResolve: hosts.length ? (r) => r.RemoteHostName !== null && hosts.some((h) => h.test(r.RemoteHostName!)) : () => true,
    needsNames: hosts.length > 0,
    active: tests.length > 0 || hosts.length > 0,
  };
}
