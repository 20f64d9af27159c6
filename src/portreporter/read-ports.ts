import { ipVersion } from './ip-text';
import type { PortReporterRecord } from './record';
import { formatLocal, fullYear, isoUtc, type LocalClock } from './time';
import { internalized } from '../runtime/strings';

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
  /** Per PID: the image and user text of its last row, and their values (parsePortsRow). */
  names?: Map<number, { imageText: string; userText: string | null; image: string | null; user: string | null }>;
  /** Image and user strings, each stored once (copies of their own, never slices of a read chunk). */
  strings?: Map<string, string>;
}

/** The one stored copy of a process or user name. */
export function intern(ctx: RowContext, s: string | null): string | null {
  if (s === null) return null;
  const strings = ctx.strings ?? (ctx.strings = new Map());
  const hit = strings.get(s);
  if (hit !== undefined) return hit;
  if (strings.size >= 65_536) strings.clear();
  const copy = internalized(s);
  strings.set(copy, copy);
  return copy;
}

/** TCP or UDP as written (upper case) at line[start, end), else undefined (the caller checks other cases). */
function protocolAt(line: string, start: number, end: number): 'TCP' | 'UDP' | undefined {
  if (end - start !== 3) return undefined;
  const a = line.charCodeAt(start);
  if (a === 84 /* T */ && line.charCodeAt(start + 1) === 67 /* C */ && line.charCodeAt(start + 2) === 80 /* P */) return 'TCP';
  if (a === 85 /* U */ && line.charCodeAt(start + 1) === 68 /* D */ && line.charCodeAt(start + 2) === 80 /* P */) return 'UDP';
  return undefined;
}

/** parsePort of line[start, end) without slicing it. */
function portAt(line: string, start: number, end: number): number | null | undefined {
  if (end === start) return null;
  const n = decimalAt(line, start, end, 5);
  return n === undefined || n > 65535 ? undefined : n;
}

/** parseDecimal of line[start, end) without slicing it. */
function decimalAt(line: string, start: number, end: number, maxDigits: number): number | undefined {
  if (end - start > maxDigits || end <= start) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n;
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
  const end = (i: number): number => (i < cut.length ? cut[i]! : line.length);

  // Rows of one second share their time: compared in place, converted (and sliced) only when it changes.
  const lastTime = ctx.lastTime;
  if (lastTime === undefined || cut[1] !== lastTime.length || !line.startsWith(lastTime)) {
    const timeKey = line.slice(0, cut[1]);
    const t = convertTime(line, cut[0]!, cut[1]!, ctx.clock);
    if (t === undefined) return `bad date or time '${timeKey}'`;
    ctx.lastTime = timeKey;
    ctx.lastUtc = t.utc;
    ctx.lastLocal = t.local;
  }

  // Protocol and numbers are read in place: no string per field.
  let proto: 'TCP' | 'UDP' | undefined = protocolAt(line, cut[1]! + 1, cut[2]!);
  if (proto === undefined) {
    const protoText = field(2);
    const upper = protoText.toUpperCase();
    if (upper !== 'TCP' && upper !== 'UDP') return `bad protocol '${protoText}'`;
    proto = upper;
  }
  const localPort = portAt(line, cut[2]! + 1, cut[3]!);
  if (localPort === undefined || localPort === null) return `bad local port '${field(3)}'`;
  const localAddress = field(4);
  if (!isAddress(localAddress)) return `bad local address '${localAddress}'`;
  const rportStart = cut[4]! + 1;
  const rportEnd = cut[5]!;
  const raddrEnd = end(6);
  const rportStar = rportEnd - rportStart === 1 && line.charCodeAt(rportStart) === 42; /* * */
  const raddrEmpty = raddrEnd === rportEnd + 1 || (raddrEnd - rportEnd === 2 && line.charCodeAt(rportEnd + 1) === 42);
  let remotePort: number | null;
  const remoteAddress: string | null = raddrEmpty ? null : line.slice(rportEnd + 1, raddrEnd);
  let state: string | null;
  remotePort = rportEnd === rportStart || rportStar ? null : portAt(line, rportStart, rportEnd) ?? -1;
  if (proto === 'UDP') {
    state = null;
  } else {
    // A listener: no remote port, remote address 0.0.0.0 (or :: for IPv6).
    state = remotePort === null || remotePort === 0 ? 'Listen' : 'Established';
    if (state === 'Listen') remotePort = null;
  }
  if (remotePort === -1) return `bad remote port '${field(5)}'`;
  if (remoteAddress !== null && !isAddress(remoteAddress)) return `bad remote address '${remoteAddress}'`;

  let pid: number | null = null;
  let image: string | null = null;
  let user: string | null = null;
  if (cut.length >= 7) {
    const pidStart = cut[6]! + 1;
    const pidEnd = end(7);
    if (pidEnd > pidStart) {
      const p = decimalAt(line, pidStart, pidEnd, 10);
      if (p === undefined) return `bad PID '${field(7)}'`;
      pid = p;
    }
    if (cut.length >= 8) {
      const imageStart = cut[7]! + 1;
      const imageEnd = end(8);
      // A process's rows repeat its image and user: when this row's text is the one of the PID's last
      // row, the strings of that row are used again (no slice, and one string per name in memory).
      const names = ctx.names ?? (ctx.names = new Map());
      const seen = pid === null ? undefined : names.get(pid);
      const userRaw = cut.length >= 9 ? cut[8]! + 1 : -1;
      if (
        seen !== undefined &&
        seen.imageText.length === imageEnd - imageStart &&
        line.startsWith(seen.imageText, imageStart) &&
        (userRaw < 0 ? seen.userText === null : seen.userText !== null && seen.userText.length === line.length - userRaw && line.endsWith(seen.userText))
      ) {
        image = seen.image;
        user = seen.user;
      } else {
        const imageText = line.slice(imageStart, imageEnd);
        const userText = userRaw < 0 ? null : line.slice(userRaw);
        image = intern(ctx, imageText || null);
        user = userText === null ? null : intern(ctx, unbracket(userText));
        if (pid !== null) {
          if (names.size >= 65_536) names.clear();
          names.set(pid, { imageText: intern(ctx, imageText)!, userText: userText === null ? null : intern(ctx, userText), image, user });
        }
      }
    }
    // Exactly eight fields: the row ends after the PID, so it names no process (this branch once read
    // cut[7], which does not exist, and gave the whole line as the process name).
  }

  return portsRecord(ctx, proto, localAddress, localPort, remoteAddress, remotePort, state, pid, image, user, lineNo);
}

/** The record of a PR-PORTS row from its fields (both row readers, read-ports-bytes.ts too): what a row does not hold is null. */
export function portsRecord(
  ctx: RowContext,
  protocol: 'TCP' | 'UDP',
  localAddress: string,
  localPort: number,
  remoteAddress: string | null,
  remotePort: number | null,
  state: string | null,
  pid: number | null,
  image: string | null,
  user: string | null,
  lineNo: number,
): PortReporterRecord {
  return {
    ComputerName: ctx.computerName,
    TimeUtc: ctx.lastUtc ?? null,
    TimeLocal: ctx.lastLocal ?? null,
    Event: 'Opened',
    Protocol: protocol,
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

export function isAddress(text: string): boolean {
  if (isDottedQuad(text)) return true;
  if (text === '') return false;
  const pct = text.indexOf('%');
  return ipVersion(pct < 0 ? text : text.slice(0, pct)) !== 0;
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
export function convertTime(line: string, c0: number, c1: number, clock: LocalClock): { utc: string | null; local: string } | undefined {
  const d = splitNumbers(line, 0, c0, 47 /* / */);
  const t = splitNumbers(line, c0 + 1, c1, 58 /* : */);
  if (!d || !t || d[0]! > 9999) return undefined;
  const year = fullYear(d[0]!);
  const epoch = clock.toEpoch(year, d[1]!, d[2]!, t[0]!, t[1]!, t[2]!);
  if (Number.isNaN(epoch)) return undefined;
  return { utc: isoUtc(epoch), local: formatLocal(year, d[1]!, d[2]!, t[0]!, t[1]!, t[2]!) };
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
