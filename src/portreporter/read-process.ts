import { parseDecimal, unbracket } from './read-ports';
import { formatLocal, fullYear, type LocalClock } from './time';

/**
 * The per-process blocks of PR-PIDS and PR-INITIAL in our layout (docs/log-formats.md "PR-PIDS and
 * PR-INITIAL body"): a line of `=`, `Key: value` lines, `Modules (N):` and N indented paths, a blank
 * line. The original Microsoft body is undocumented; its lines are reported as unreadable.
 */
export interface ProcessDetail {
  /** null: an empty `Process ID:` (PR-INITIAL's endpoints with no known owner). */
  pid: number | null;
  /** `Recorded:` as local yyyy-MM-ddTHH:mm:ss, comparable with a record's TimeLocal. */
  recordedLocal: string | null;
  recordedUtc: string | null;
  startUtc: string | null;
  imageName: string | null;
  imagePath: string | null;
  commandLine: string | null;
  user: string | null;
  services: string[];
  ports: PortItem[];
  modules: string[];
  /** Line of the block's separator. */
  line: number;
}

export interface PortItem {
  protocol: 'TCP' | 'UDP';
  localPort: number;
  localAddress: string;
  remoteAddress: string | null;
  remotePort: number | null;
  state: string | null;
}

export function isBlockSeparator(line: string): boolean {
  return line.length >= 16 && /^=+$/.test(line);
}

/** Feeds one block's lines; reports the finished block or what was wrong with a line. */
export class ProcessBlockParser {
  private fields = new Map<string, string>();
  private modules: string[] = [];
  private modulesExpected = 0;
  private startLine = 0;
  private open = false;

  get inBlock(): boolean {
    return this.open;
  }

  start(lineNo: number): void {
    this.fields = new Map();
    this.modules = [];
    this.modulesExpected = 0;
    this.startLine = lineNo;
    this.open = true;
  }

  /** A line inside a block (not blank, not a separator): undefined when fine, else why it is not. */
  feed(line: string): string | undefined {
    if (this.modulesExpected > 0) {
      if (line.charCodeAt(0) === 32) {
        this.modules.push(line.slice(1));
        this.modulesExpected--;
        return undefined;
      }
      this.modulesExpected = 0;
    }
    const modules = /^Modules \((\d{1,6})\):$/.exec(line);
    if (modules) {
      this.modulesExpected = Number(modules[1]);
      return undefined;
    }
    const colon = line.indexOf(': ');
    const key = colon > 0 ? line.slice(0, colon) : line.endsWith(':') ? line.slice(0, -1) : '';
    if (!/^[A-Z][A-Za-z ]{1,40}$/.test(key)) return 'expected "Key: value" inside a process block';
    this.fields.set(key, colon > 0 ? line.slice(colon + 2) : '');
    return undefined;
  }

  /** Ends the block (blank line, next separator, header or end of file). */
  finish(clock: LocalClock): { detail?: ProcessDetail; error?: string; line: number } {
    this.open = false;
    const f = this.fields;
    const line = this.startLine;
    const pidText = f.get('Process ID');
    const pid = pidText !== undefined && pidText.trim() === '' ? null : parseDecimal((pidText ?? '').trim(), 10);
    if (pid === undefined) return { error: 'process block without a valid "Process ID:"', line };
    const ports: PortItem[] = [];
    for (const item of splitList(f.get('Ports') ?? '')) {
      const p = parsePortItem(item);
      if (!p) return { error: `bad port item '${item}' in process block`, line };
      ports.push(p);
    }
    const recordedLocal = parseRecorded(f.get('Recorded') ?? '');
    let recordedUtc = isoOrNull(f.get('Recorded UTC'));
    if (!recordedUtc && recordedLocal) recordedUtc = utcOfLocal(recordedLocal, clock);
    return {
      line,
      detail: {
        pid,
        recordedLocal,
        recordedUtc,
        startUtc: isoOrNull(f.get('Process start UTC')),
        imageName: nonEmpty(f.get('Image name')),
        imagePath: nonEmpty(f.get('Image path')),
        commandLine: nonEmpty(f.get('Command line')),
        user: unbracket(f.get('User context') ?? ''),
        // Frozen: shared by every record of this process, and encoded to JSON once (output/record-kind.ts).
        services: Object.freeze(splitList(f.get('Services') ?? '')) as string[],
        ports,
        modules: Object.freeze(this.modules) as string[],
        line,
      },
    };
  }
}

function nonEmpty(v: string | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

function splitList(v: string): string[] {
  return v
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function isoOrNull(v: string | undefined): string | null {
  const t = v?.trim();
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(t) ? null : new Date(ms).toISOString();
}

/** `yy/M/d H:m:s` (the PR-PORTS layout with a space) → local yyyy-MM-ddTHH:mm:ss. */
export function parseRecorded(v: string): string | null {
  const m = /^(\d{1,4})\/(\d{1,2})\/(\d{1,2})[ ,](\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(v.trim());
  if (!m) return null;
  return formatLocal(fullYear(Number(m[1])), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The header's `System Date: Wed Jul 06 13:44:04 2005` (C asctime, local) → local yyyy-MM-ddTHH:mm:ss. */
export function parseSystemDate(v: string): string | null {
  const m = /^[A-Za-z]{3} ([A-Za-z]{3}) +(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2}) (\d{4})$/.exec(v.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!) + 1;
  if (month === 0) return null;
  return formatLocal(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}

/** UTC ISO of a local yyyy-MM-ddTHH:mm:ss, with the clock's zone; null if out of range. */
export function utcOfLocal(local: string, clock: LocalClock): string | null {
  const n = local.split(/[-T:]/).map(Number);
  const epoch = clock.toEpoch(n[0]!, n[1]!, n[2]!, n[3]!, n[4]!, n[5]!);
  return Number.isNaN(epoch) ? null : new Date(epoch).toISOString();
}

const STATE_NAMES: Record<string, string> = {
  LISTEN: 'Listen', LISTENING: 'Listen', ESTABLISHED: 'Established', SYNSENT: 'SynSent', SYNRECEIVED: 'SynReceived',
  SYNRECV: 'SynReceived', FINWAIT1: 'FinWait1', FINWAIT2: 'FinWait2', CLOSEWAIT: 'CloseWait', CLOSING: 'Closing',
  LASTACK: 'LastAck', TIMEWAIT: 'TimeWait', CLOSED: 'Closed', DELETETCB: 'DeleteTCB', BOUND: 'Bound',
};

/** netstat (`LISTENING`, `TIME_WAIT`) or Get-NetTCPConnection (`TimeWait`) spelling → Get-NetTCPConnection's. */
export function normalizeState(text: string): string | undefined {
  return STATE_NAMES[text.replace(/_/g, '').toUpperCase()];
}

/** `TCP 135 0.0.0.0 LISTENING`, `UDP 5353 0.0.0.0`, `TCP 50000 10.0.0.5 10.0.0.9:445 ESTABLISHED`. */
export function parsePortItem(item: string): PortItem | undefined {
  const t = item.split(/\s+/);
  const protocol = t[0]?.toUpperCase();
  if ((protocol !== 'TCP' && protocol !== 'UDP') || t.length < 3 || t.length > 5) return undefined;
  const localPort = parseDecimal(t[1]!, 5);
  if (localPort === undefined || localPort > 65535) return undefined;
  let remoteAddress: string | null = null;
  let remotePort: number | null = null;
  let state: string | null = null;
  const rest = t.slice(3);
  if (rest.length === 2 || (rest.length === 1 && normalizeState(rest[0]!) === undefined)) {
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(rest[0]!);
    if (!m) return undefined;
    remoteAddress = m[1]!;
    remotePort = Number(m[2]);
    rest.shift();
  }
  if (rest.length === 1) {
    state = normalizeState(rest[0]!) ?? null;
    if (state === null) return undefined;
  }
  if (protocol === 'TCP' && state === null) state = remoteAddress === null ? 'Listen' : 'Established';
  if (protocol === 'TCP' && remoteAddress === null) remoteAddress = t[2]!.includes(':') ? '::' : '0.0.0.0';
  if (protocol === 'UDP') state = null;
  return { protocol, localPort, localAddress: t[2]!.replace(/^\[(.*)\]$/, '$1'), remoteAddress, remotePort, state };
}
