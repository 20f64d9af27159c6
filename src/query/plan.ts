import * as net from 'node:net';
import { UsageError } from '../errors';
import { presetByName, PRESETS } from './presets';

/**
 * From the command line's words to what will be queried: targets (names, addresses, CIDR blocks) and
 * an ordered list of protocol/port pairs. Pure functions; every error names the bad value and is a
 * UsageError (exit 64).
 */

export type Protocol = 'TCP' | 'UDP';

export interface PortSpec {
  protocol: Protocol;
  port: number;
}

/** Most targets one run accepts after CIDR expansion (a /16). */
export const MAX_TARGETS = 65536;

/** Splits PortQry's comma lists; PowerShell hands `-o 80,443` over as one argument, cmd as one too. */
function listItems(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parsePort(option: string, text: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 65535) throw new UsageError(`invalid ${option} '${text}': expected a port from 1 to 65535`);
  return Number(t);
}

/** `-r start:end` (PortQry; `-` also accepted). Start must not be above end. */
export function parseRange(option: string, text: string): number[] {
  const m = /^\s*(\d+)\s*[:-]\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`invalid ${option} '${text}': expected start:end, e.g. 1:1024`);
  const [start, end] = [Number(m[1]), Number(m[2])];
  if (start < 1 || end > 65535) throw new UsageError(`invalid ${option} '${text}': ports go from 1 to 65535`);
  if (start > end) throw new UsageError(`invalid ${option} '${text}': the start port is above the end port`);
  const ports: number[] = [];
  for (let p = start; p <= end; p++) ports.push(p);
  return ports;
}

/** `-o 25,445,1024` / `--ports 53,88,1000-1024`: ports and ranges, in the order given. */
export function parsePortList(option: string, text: string): number[] {
  const items = listItems(text);
  if (items.length === 0) throw new UsageError(`invalid ${option} '${text}': expected ports such as 25,445,1024`);
  const ports: number[] = [];
  for (const item of items) {
    if (/[:-]/.test(item)) ports.push(...parseRange(option, item));
    else ports.push(parsePort(option, item));
  }
  return ports;
}

export function parseProtocols(text: string | undefined): Protocol[] {
  const value = (text ?? 'tcp').trim().toLowerCase();
  if (value === 'tcp') return ['TCP'];
  if (value === 'udp') return ['UDP'];
  if (value === 'both') return ['TCP', 'UDP'];
  throw new UsageError(`invalid -p '${text}': expected tcp, udp or both`);
}

export interface PortOptions {
  endpoint?: string;
  range?: string;
  /** -o / --ports */
  order?: string;
  preset?: string;
  protocol?: string;
}

/**
 * The protocol/port pairs to query, in PortQry's order: port by port, TCP before UDP for `-p both`.
 * -e, -r, -o (--ports) and --preset are alternatives, as -e/-r/-o are in PortQry; -e 80 is the default.
 * A preset says per port which protocols to use; an explicit -p narrows it to that protocol.
 * Repeated pairs are queried once.
 */
export function buildPortSpecs(options: PortOptions): PortSpec[] {
  const given = (['endpoint', 'range', 'order', 'preset'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) {
    const names: Record<string, string> = { endpoint: '-e', range: '-r', order: '-o', preset: '--preset' };
    throw new UsageError(`${given.map((k) => names[k]).join(' and ')} cannot be combined: use one of -e, -r, -o/--ports, --preset`);
  }
  const specs: PortSpec[] = [];
  if (options.preset !== undefined) {
    if (listItems(options.preset).length === 0) throw new UsageError(`invalid --preset '${options.preset}': use one of ${PRESETS.map((p) => p.name).join(', ')}`);
    const only = options.protocol === undefined ? undefined : parseProtocols(options.protocol);
    for (const name of listItems(options.preset)) {
      const preset = presetByName(name);
      if (!preset) throw new UsageError(`unknown --preset '${name}': use one of ${PRESETS.map((p) => p.name).join(', ')} (or --preset list)`);
      const ports = [...new Set([...preset.tcp, ...preset.udp])];
      for (const port of ports) {
        if (preset.tcp.includes(port) && (!only || only.includes('TCP'))) specs.push({ protocol: 'TCP', port });
        if (preset.udp.includes(port) && (!only || only.includes('UDP'))) specs.push({ protocol: 'UDP', port });
      }
    }
  } else {
    const protocols = parseProtocols(options.protocol);
    let ports: number[];
    if (options.range !== undefined) ports = parseRange('-r', options.range);
    else if (options.order !== undefined) ports = parsePortList('-o', options.order);
    else ports = [parsePort('-e', options.endpoint ?? '80')];
    for (const port of ports) for (const protocol of protocols) specs.push({ protocol, port });
  }
  // First occurrence of each protocol/port, in order; a bitmap, not 65,535 string keys (-r 1:65535).
  const seen = new Uint8Array(65536 * 2);
  return specs.filter((s) => {
    const key = s.port * 2 + (s.protocol === 'TCP' ? 0 : 1);
    if (seen[key]) return false;
    seen[key] = 1;
    return true;
  });
}

/**
 * Targets from `-n a,b,c` and `--targets-file` text (one or more per line, `#` comments): host names,
 * IPv4/IPv6 literals (IPv6 optionally in brackets) and CIDR blocks. An IPv4 block of /30 or wider
 * leaves out its network and broadcast addresses, as admins expect of "scan 10.1.2.0/24".
 */
export function parseTargets(hostOption: string | undefined, fileText: string | undefined): string[] {
  const items: string[] = [];
  if (hostOption !== undefined) {
    const fromOption = listItems(hostOption);
    if (fromOption.length === 0) throw new UsageError(`invalid -n '${hostOption}': expected a host name or IP address`);
    items.push(...fromOption);
  }
  if (fileText !== undefined) {
    for (const line of fileText.replace(/^\uFEFF/, '').split(/\r?\n/)) items.push(...listItems(line.replace(/#.*/, '')).flatMap((s) => s.split(/\s+/)));
  }
  const targets: string[] = [];
  for (const item of items) {
    if (item.includes('/')) targets.push(...expandCidr(item, MAX_TARGETS - targets.length));
    else targets.push(checkHost(item));
    if (targets.length > MAX_TARGETS) throw new UsageError(`too many targets (more than ${MAX_TARGETS}): split the run`);
  }
  return targets;
}

function checkHost(item: string): string {
  const bare = item.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(bare)) return bare;
  // RFC 1123 host names (letters, digits, hyphens, dots, underscores seen in AD records); no spaces, no ports.
  if (/^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})?$/.test(item) && !item.includes('..')) return item;
  throw new UsageError(`invalid target '${item}': expected a host name, an IP address or a CIDR block`);
}

export function expandCidr(text: string, room = MAX_TARGETS): string[] {
  const m = /^\[?([^\]/]+)\]?\/(\d{1,3})$/.exec(text.trim());
  const family = m ? net.isIP(m[1]!) : 0;
  const bits = family === 4 ? 32 : 128;
  if (!m || family === 0 || Number(m[2]) > bits) throw new UsageError(`invalid CIDR block '${text}': expected address/prefix such as 192.0.2.0/24 or 2001:db8::/120`);
  const prefix = Number(m[2]);
  const hostBits = bits - prefix;
  if (hostBits > 16 || 2 ** hostBits > room + (family === 4 && hostBits >= 2 ? 2 : 0)) {
    throw new UsageError(`CIDR block '${text}' is too large: at most ${MAX_TARGETS} targets per run`);
  }
  const base = toBigInt(m[1]!, family) & ~((1n << BigInt(hostBits)) - 1n);
  const count = 1n << BigInt(hostBits);
  const skipEnds = family === 4 && hostBits >= 2;
  const out: string[] = [];
  for (let i = skipEnds ? 1n : 0n; i < (skipEnds ? count - 1n : count); i++) out.push(fromBigInt(base + i, family));
  return out;
}

function toBigInt(address: string, family: number): bigint {
  if (family === 4) return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':') : []);
  let groups = parse(head);
  const rest = parse(tail);
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two groups.
  const fixV4 = (g: string[]) => {
    const last = g[g.length - 1];
    if (last && last.includes('.')) {
      const v = toBigInt(last, 4);
      g.splice(g.length - 1, 1, ((v >> 16n) & 0xffffn).toString(16), (v & 0xffffn).toString(16));
    }
  };
  if (tail === undefined) fixV4(groups);
  else fixV4(rest);
  if (tail !== undefined) groups = [...groups, ...Array(8 - groups.length - rest.length).fill('0'), ...rest];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function fromBigInt(value: bigint, family: number): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 writes addresses.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** `-cn !my community!`: PortQry's delimiters are stripped; a bare word is accepted as is. */
export function parseCommunity(text: string | undefined): string {
  if (text === undefined) return 'public';
  const m = /^!(.*)!$/s.exec(text);
  const value = m ? m[1]! : text;
  if (value === '' || value.includes('!')) throw new UsageError(`invalid -cn '${text}': expected a community name delimited with !, e.g. !public!`);
  return value;
}

/** `--tls 8443,9443`: extra ports where the TLS probe runs after a TCP LISTENING. */
export function parseTlsPorts(text: string | undefined): Set<number> {
  return new Set(text === undefined ? [] : parsePortList('--tls', text));
}
