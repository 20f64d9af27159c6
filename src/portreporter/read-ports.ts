import { isIP } from 'node:net';
import type { PortReporterRecord } from './record';
import { formatLocal, fullYear, type LocalClock } from './time';

/**
 * PR-PORTS rows: `yy/M/d,H:m:s,PROTO,lport,laddr,rport,raddr,pid,image,<DOMAIN\user>` (docs/log-formats.md).
 * This is the hot path of `parse` (gigabytes of these), so it splits with indexOf instead of a CSV
 * parser and caches the last converted time (many rows share one second).
 */

export interface RowContext {
  readonly clock: LocalClock;
  computerName: string | null;
  sourceFile: string;
  /** Last time field converted, and its results. */
  lastTime?: string;
  lastUtc?: string | null;
  lastLocal?: string | null;
  /** Comma positions of the current row (reused: no allocation per row). */
  cuts?: number[];
}

const MAX_FIELDS = 10;

/** A record from one row, or the reason the row is malformed. */
export function parsePortsRow(line: string, lineNo: number, ctx: RowContext): PortReporterRecord | string {
  const cut = ctx.cuts ?? (ctx.cuts = []);
  cut.length = 0;
  let from = 0;
  while (cut.length < MAX_FIELDS - 1) {
    const c = line.indexOf(',', from);
    if (c < 0) break;
    cut.push(c);
    from = c + 1;
  }
  // Ten fields; Windows 2000's Port Reporter writes fewer (no PID, module, user): seven is the minimum.
  if (cut.length < 6) return `expected 10 comma-separated fields, found ${cut.length + 1}`;
  const field = (i: number): string => line.slice(i === 0 ? 0 : cut[i - 1]! + 1, i < cut.length ? cut[i] : line.length);

  const timeKey = line.slice(0, cut[1]);
  if (timeKey !== ctx.lastTime) {
    const t = convertTime(line, cut[0]!, cut[1]!, ctx.clock);
    if (t === undefined) return `bad date or time '${timeKey}'`;
    ctx.lastTime = timeKey;
    ctx.lastUtc = t.utc;
    ctx.lastLocal = t.local;
  }

  const protoText = field(2);
  const proto = protoText === 'TCP' || protoText === 'UDP' ? protoText : protoText.toUpperCase();
  if (proto !== 'TCP' && proto !== 'UDP') return `bad protocol '${protoText}'`;
  const localPort = parsePort(field(3));
  if (localPort === undefined || localPort === null) return `bad local port '${field(3)}'`;
  const localAddress = field(4);
  if (!isAddress(localAddress)) return `bad local address '${localAddress}'`;
  const rportText = field(5);
  const raddrText = field(6);
  let remotePort: number | null;
  let remoteAddress: string | null;
  let state: string | null;
  if (proto === 'UDP') {
    remotePort = rportText === '*' || rportText === '' ? null : parsePort(rportText) ?? -1;
    remoteAddress = raddrText === '*' || raddrText === '' ? null : raddrText;
    state = null;
  } else {
    remotePort = rportText === '' || rportText === '*' ? null : parsePort(rportText) ?? -1;
    remoteAddress = raddrText === '' || raddrText === '*' ? null : raddrText;
    // A listener: no remote port, remote address 0.0.0.0 (or :: for IPv6).
    state = remotePort === null || remotePort === 0 ? 'Listen' : 'Established';
    if (state === 'Listen') remotePort = null;
  }
  if (remotePort === -1) return `bad remote port '${rportText}'`;
  if (remoteAddress !== null && !isAddress(remoteAddress)) return `bad remote address '${remoteAddress}'`;

  let pid: number | null = null;
  let image: string | null = null;
  let user: string | null = null;
  if (cut.length >= 7) {
    const pidText = field(7);
    if (pidText !== '') {
      const p = parseDecimal(pidText, 10);
      if (p === undefined) return `bad PID '${pidText}'`;
      pid = p;
    }
    if (cut.length >= 8) {
      image = field(8) || null;
      if (cut.length >= 9) user = unbracket(line.slice(cut[8]! + 1));
    } else {
      image = line.slice(cut[7]! + 1) || null;
    }
  }

  return {
    ComputerName: ctx.computerName,
    TimeUtc: ctx.lastUtc ?? null,
    TimeLocal: ctx.lastLocal ?? null,
    Event: 'Opened',
    Protocol: proto,
    LocalAddress: localAddress,
    LocalPort: localPort,
    RemoteAddress: remoteAddress,
    RemotePort: remotePort,
    State: state,
    OwningProcess: pid,
    ProcessName: image,
    ProcessPath: null,
    CommandLine: null,
    UserName: user,
    Services: null,
    Modules: null,
    ProcessStartTime: null,
    LifetimeSeconds: null,
    RemoteHostName: null,
    Flagged: false,
    FlagReasons: [],
    SourceFile: ctx.sourceFile,
    SourceLine: lineNo,
  };
}

/** `<DOMAIN\user>` → `DOMAIN\user`; empty → null. */
export function unbracket(text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  if (t.charCodeAt(0) === 60 /* < */ && t.charCodeAt(t.length - 1) === 62 /* > */) return t.slice(1, -1) || null;
  return t;
}

function isAddress(text: string): boolean {
  if (isDottedQuad(text)) return true;
  if (text === '') return false;
  const pct = text.indexOf('%');
  return isIP(pct < 0 ? text : text.slice(0, pct)) !== 0;
}

/** The common case without a regular expression: four decimal octets of at most 255. */
function isDottedQuad(text: string): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || value > 255 || ++octets > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return octets === 4;
}

/** A port number, null for empty, undefined when invalid. */
function parsePort(text: string): number | null | undefined {
  if (text === '') return null;
  const n = parseDecimal(text, 5);
  return n === undefined || n > 65535 ? undefined : n;
}

/** Unsigned decimal of at most maxDigits digits, undefined otherwise. */
export function parseDecimal(text: string, maxDigits: number): number | undefined {
  if (text.length === 0 || text.length > maxDigits) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n;
}

/**
 * `yy/M/d` and `H:m:s` (unpadded, as the original writes them; padded is accepted too) starting at 0,
 * separated by the comma at c0 and ending at the comma at c1.
 */
function convertTime(line: string, c0: number, c1: number, clock: LocalClock): { utc: string | null; local: string } | undefined {
  const d = splitNumbers(line, 0, c0, 47 /* / */);
  const t = splitNumbers(line, c0 + 1, c1, 58 /* : */);
  if (!d || !t || d[0]! > 9999) return undefined;
  const year = fullYear(d[0]!);
  const epoch = clock.toEpoch(year, d[1]!, d[2]!, t[0]!, t[1]!, t[2]!);
  if (Number.isNaN(epoch)) return undefined;
  return { utc: new Date(epoch).toISOString(), local: formatLocal(year, d[1]!, d[2]!, t[0]!, t[1]!, t[2]!) };
}

/** Three unsigned numbers (1–4 digits) separated by sep in line[start, end). */
function splitNumbers(line: string, start: number, end: number, sep: number): [number, number, number] | undefined {
  const out: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? sep : line.charCodeAt(i);
    if (c === sep) {
      if (digits === 0 || out.length === 3) return undefined;
      out.push(n);
      n = 0;
      digits = 0;
    } else {
      const v = c - 48;
      if (v < 0 || v > 9 || ++digits > 4) return undefined;
      n = n * 10 + v;
    }
  }
  return out.length === 3 ? (out as [number, number, number]) : undefined;
}
