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

/**
 * The filters of `parse` and `stats`, defined once: the commands' options (commands/PortReporterInputCommand.ts
 * declares one clipanion option per row), their order in --help, the values `complete` offers, the
 * HTML report's list of filters, and the PowerShell module's parameters (checked against
 * `portqry-ts complete`) all come from this table.
 */
export interface FilterDefinition {
  readonly key: keyof FilterOptions;
  readonly option: `--${string}`;
  /** Several values (repeated, or a comma list), matched with OR; else one value. */
  readonly list: boolean;
  readonly description: string;
  /** The only values it takes, for completion. */
  readonly values?: readonly string[];
}

export const FILTER_DEFINITIONS: readonly FilterDefinition[] = [
  { key: 'protocol', option: '--protocol', list: true, description: 'Only tcp or udp', values: ['tcp', 'udp'] },
  { key: 'port', option: '--port', list: true, description: 'Only these local or remote ports (80,443 or 1024-2048; repeatable)' },
  { key: 'localPort', option: '--local-port', list: true, description: 'Only these local ports' },
  { key: 'remotePort', option: '--remote-port', list: true, description: 'Only these remote ports' },
  { key: 'process', option: '--process', list: true, description: 'Only these processes: image name (svchost.exe, sql*) or path with a backslash' },
  { key: 'module', option: '--module', list: true, description: 'Only processes that loaded this module (file name or path, wildcards)' },
  { key: 'ip', option: '--ip', list: true, description: 'Only these local or remote addresses or CIDR blocks (10.0.0.0/8)' },
  { key: 'user', option: '--user', list: true, description: 'Only these user contexts (DOMAIN\\user, or user for any domain; wildcards)' },
  { key: 'host', option: '--host', list: true, description: 'Only these remote host names, after reverse DNS (implies --resolve; wildcards)' },
  { key: 'since', option: '--since', list: false, description: 'Only uses at or after this time (2026-11-25, 2026-11-25T14:30; local unless it ends in Z or an offset)' },
  { key: 'until', option: '--until', list: false, description: 'Only uses at or before this time' },
];

/** The filters as command-line words (`--port 80 --user bob`), e.g. for the HTML report's header. */
export function filterArguments(options: FilterOptions): string[] {
  const out: string[] = [];
  for (const f of FILTER_DEFINITIONS) {
    const v = options[f.key];
    for (const value of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.push(f.option, value);
  }
  return out;
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
