/**
 * Pure decoders for Linux's /proc text formats (no I/O here: src/platform/linux.ts reads the files).
 * Formats: kernel Documentation/networking/proc_net_tcp.rst, proc_pid_stat(5), proc_pid_status(5),
 * proc_pid_maps(5), cgroups(7).
 */
import * as os from 'node:os';
import { formatIPv4, formatIPv6 } from './address';
import type { SocketIdentity, TcpState } from './types';

/** One socket line of /proc/net/{tcp,tcp6,udp,udp6}. */
export interface ProcNetRow extends SocketIdentity {
  /** Column 7: the socket's owner (fsuid of its creator), readable even when the process is not. */
  uid: number;
  /** Column 9: 0 for TIME_WAIT and request sockets, which no process holds. */
  inode: number;
}

/** include/net/tcp_states.h, in Get-NetTCPConnection's words. 0C (NEW_SYN_RECV) is a request socket. */
const LINUX_TCP_STATES: Record<number, TcpState> = {
  0x01: 'Established',
  0x02: 'SynSent',
  0x03: 'SynReceived',
  0x04: 'FinWait1',
  0x05: 'FinWait2',
  0x06: 'TimeWait',
  0x07: 'Closed',
  0x08: 'CloseWait',
  0x09: 'LastAck',
  0x0a: 'Listen',
  0x0b: 'Closing',
  0x0c: 'SynReceived',
};

export function linuxTcpState(code: number): TcpState {
  const state = LINUX_TCP_STATES[code];
  if (!state) throw new Error(`unknown Linux TCP state 0x${code.toString(16)}`);
  return state;
}

/**
 * The kernel prints each address as `%08X` words of the in-memory (network order) bytes read as host
 * integers, so on a little-endian machine every 4-byte word is byte-reversed.
 */
export function decodeProcNetAddress(hex: string, littleEndian = os.endianness() === 'LE'): string {
  const bytes = Buffer.alloc(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const word = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    if (littleEndian) bytes.writeUInt32LE(word, w * 4);
    else bytes.writeUInt32BE(word, w * 4);
  }
  return bytes.length === 4 ? formatIPv4(bytes, 0) : formatIPv6(bytes, 0);
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * Parses a whole /proc/net/{tcp,tcp6,udp,udp6} file. Rows a reader saw twice (the seq_file is not a
 * snapshot, so a row can repeat when the table changes mid-read) are returned once.
 */
export function parseProcNet(text: string, protocol: 'TCP' | 'UDP', family: 4 | 6, littleEndian?: boolean): ProcNetRow[] {
  return new ProcNetDecoder(protocol, family, littleEndian).decode(text);
}

/** The hexadecimal number text[start, end) without making a string of it. */
function hexField(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) | 0x20; // ASCII lower case
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (digit < 0) return NaN;
    value = value * 16 + digit;
  }
  return value;
}

/** A row of the last decode with the text that identifies it, so the next decode can match it in place. */
interface KnownRow {
  row: ProcNetRow;
  /** Fields 1 and 2 (local and remote `ADDR:PORT`) as printed, with the blank between them. */
  ends: string;
  inode: string;
  /** Position in the last decode's result; -1 once matched in the current one. */
  index: number;
  /** The decode that last returned it. */
  generation: number;
}

/**
 * A decoder for one /proc/net file that is read again and again (the recorder's polls): a socket's
 * row is decoded once and the same ProcNetRow object is returned for as long as the socket stays in
 * the table with the same state. The kernel prints the table in hash order, which changes little
 * between two reads, so each line is first compared in place (startsWith, no new strings) with the
 * row that followed the last match; only a line that is not the expected one builds a key and looks
 * it up. Lines are cut at blanks by hand rather than by a regex split, which would allocate a dozen
 * strings per line. Rows are never mutated, so sharing them is safe.
 */
export class ProcNetDecoder {
  /** Rows of the last decode by identity (local, remote, inode); the state is compared separately. */
  private known = new Map<string, KnownRow>();
  private order: KnownRow[] = [];
  private generation = 0;
  private readonly addresses = new Map<string, string>();
  private readonly littleEndian: boolean;

  constructor(
    readonly protocol: 'TCP' | 'UDP',
    readonly family: 4 | 6,
    littleEndian = os.endianness() === 'LE',
  ) {
    this.littleEndian = littleEndian;
  }

  decode(text: string): ProcNetRow[] {
    const generation = ++this.generation;
    const result: ProcNetRow[] = [];
    const order: KnownRow[] = [];
    const previous = this.order;
    let cursor = 0;
    // Start and end of the blank-separated fields; 1 local, 2 remote, 3 state, 7 uid, 9 inode are used.
    const starts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const ends = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let pos = text.indexOf('\n') + 1; // skip the header line
    while (pos > 0 && pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      let field = 0;
      let i = pos;
      while (field < 10) {
        while (i < end && text.charCodeAt(i) <= 32) i++;
        if (i >= end) break;
        starts[field] = i;
        while (i < end && text.charCodeAt(i) > 32) i++;
        ends[field++] = i;
      }
      pos = end + 1;
      if (field < 10) continue;

      let known: KnownRow | undefined = previous[cursor];
      if (
        !known ||
        known.ends.length !== ends[2]! - starts[1]! ||
        known.inode.length !== ends[9]! - starts[9]! ||
        !text.startsWith(known.ends, starts[1]) ||
        !text.startsWith(known.inode, starts[9])
      ) {
        known = this.known.get(`${text.slice(starts[1]!, ends[2]!)} ${text.slice(starts[9]!, ends[9]!)}`);
      }
      if (known?.generation === generation) continue; // printed twice while the table changed
      if (known) cursor = known.index + 1;

      const state = this.protocol === 'TCP' ? linuxTcpState(hexField(text, starts[3]!, ends[3]!)) : null;
      if (!known || known.row.state !== state) {
        const row = this.newRow(text.slice(starts[1]!, ends[1]!), text.slice(starts[2]!, ends[2]!), state, Number(text.slice(starts[7]!, ends[7]!)), Number(text.slice(starts[9]!, ends[9]!)));
        if (known) {
          known.row = row;
        } else {
          known = { row, ends: text.slice(starts[1]!, ends[2]!), inode: text.slice(starts[9]!, ends[9]!), index: 0, generation };
          this.known.set(`${known.ends} ${known.inode}`, known);
        }
      }
      known.generation = generation;
      order.push(known);
      result.push(known.row);
    }
    for (let index = 0; index < order.length; index++) order[index]!.index = index;
    if (this.known.size > order.length) {
      for (const [key, known] of this.known) if (known.generation !== generation) this.known.delete(key);
    }
    this.order = order;
    return result;
  }

  private newRow(local: string, remote: string, state: TcpState | null, uid: number, inode: number): ProcNetRow {
    const lc = local.indexOf(':');
    const rc = remote.indexOf(':');
    const remoteAddress = this.address(remote.slice(0, rc));
    const remotePort = parseInt(remote.slice(rc + 1), 16);
    // A listener's remote side is all zeros; UDP endpoints carry no remote side in the shared shape
    // (Windows' UDP tables have none), so both are null.
    const noRemote = this.protocol === 'UDP' || state === 'Listen' || (remotePort === 0 && isUnspecified(remoteAddress));
    return {
      protocol: this.protocol,
      family: this.family,
      localAddress: this.address(local.slice(0, lc)),
      localPort: parseInt(local.slice(lc + 1), 16),
      remoteAddress: noRemote ? null : remoteAddress,
      remotePort: noRemote ? null : remotePort,
      state,
      uid,
      inode,
    };
  }

  /** Addresses repeat (127.0.0.1, ::1, the host's own): decoded once each while they are in use. */
  private address(hex: string): string {
    let text = this.addresses.get(hex);
    if (text === undefined) {
      if (this.addresses.size >= 4096) this.addresses.clear();
      text = decodeProcNetAddress(hex, this.littleEndian);
      this.addresses.set(hex, text);
    }
    return text;
  }
}

/** Fields of /proc/PID/stat that identify and name a process. */
export interface ProcStat {
  /** comm, at most 15 characters (TASK_COMM_LEN). */
  comm: string;
  ppid: number;
  /** Field 22: clock ticks after boot. With the PID, the process's identity. */
  startTicks: number;
}

/**
 * comm may contain spaces and parentheses, so it runs from the first '(' to the LAST ')'; the
 * numbered fields follow (field 3, state, is the first after it).
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('malformed /proc/PID/stat');
  const after = text.slice(close + 2).trim().split(' ');
  const startTicks = Number(after[22 - 3]);
  if (!Number.isFinite(startTicks)) throw new Error('malformed /proc/PID/stat');
  return { comm: text.slice(open + 1, close), ppid: Number(after[4 - 3]), startTicks };
}

/** `btime` of /proc/stat: boot time in seconds since the epoch. */
export function parseBootTime(procStat: string): number {
  const m = /^btime\s+(\d+)$/m.exec(procStat);
  if (!m) throw new Error('no btime in /proc/stat');
  return Number(m[1]);
}

/**
 * USER_HZ, the unit of /proc/PID/stat times: 100 on every architecture Node runs on (x64, arm64,
 * arm, ppc64, s390x, riscv64, loong64; only alpha and ia64 differ). Node cannot call sysconf without
 * FFI, and a `getconf CLK_TCK` subprocess per run would only ever answer 100.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

export function processStartTime(bootTimeSeconds: number, startTicks: number): Date {
  return new Date(Math.round((bootTimeSeconds + startTicks / CLOCK_TICKS_PER_SECOND) * 1000));
}

/** /proc/PID/status `Uid:` line: real, effective, saved, filesystem. Returns the effective uid. */
export function parseStatusEffectiveUid(text: string): number | null {
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(text);
  return m ? Number(m[2]) : null;
}

/**
 * /proc/PID/cmdline is the argv strings, each NUL-terminated. Joined into one command line as a
 * Windows user reads one: arguments separated by spaces, an argument with blanks or quotes (or an
 * empty one) in double quotes. Empty for kernel threads and zombies → null.
 */
export function parseCmdline(buf: Buffer): string | null {
  let text = buf.toString('utf8');
  // Trailing NULs end the last argument; a rewritten argv (setproctitle) pads with more of them.
  text = text.replace(/\0+$/, '');
  if (text === '') return null;
  const args = text.split('\0');
  // A process that rewrote its argv (setproctitle: "nginx: worker process") leaves one string: as is.
  if (args.length === 1) return text;
  return args
    .map((a) => (a === '' || /[\s"]/.test(a) ? `"${a.replace(/(\\*)"/g, '$1$1\\"')}"` : a))
    .join(' ');
}

/**
 * The shared objects a process has mapped (the analogue of a Windows process's DLLs): unique paths of
 * file-backed mappings (inode ≠ 0) whose name is a shared object (`libc.so.6`, `x.so`), in first-seen
 * order. Pseudo mappings ([heap], [vdso], anonymous) are skipped; a replaced file keeps its
 * ` (deleted)` suffix off.
 */
export function parseMapsModules(text: string): string[] {
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    // address perms offset dev inode pathname — the path starts after the 5th field and may contain spaces.
    const m = /^\S+\s+\S+\s+\S+\s+\S+\s+(\d+)\s+(\/.*)$/.exec(line);
    if (!m || m[1] === '0') continue;
    const path = m[2]!.replace(/ \(deleted\)$/, '');
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (/\.so(\.|$)/.test(base)) seen.add(path);
  }
  return [...seen];
}

/** Unit types a cgroup path segment can name (systemd.unit(5)); slices are containers of units, not units that run code. */
const UNIT_SUFFIX = /\.(service|scope|socket|mount|swap)$/;

/**
 * The systemd unit a process runs in, from /proc/PID/cgroup: the deepest unit named in its path,
 * taken from the unified hierarchy (`0::/system.slice/ssh.service`) or, on a legacy or hybrid host,
 * the `name=systemd` hierarchy. `user@1000.service/app.slice/foo.service` → `foo.service`, as
 * `systemctl status PID` reports it. No systemd (a container, another init) → [].
 */
export function parseCgroupUnits(text: string): string[] {
  const paths: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m && ((m[1] === '0' && m[2] === '') || m[2] === 'name=systemd')) paths.push(m[3]!);
  }
  const unit = paths
    .flatMap((p) => p.split('/').reverse())
    .find((segment) => UNIT_SUFFIX.test(segment));
  return unit ? [unit.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))] : [];
}

/**
 * `name:password:uid:gid:gecos:home:shell` lines, as /etc/passwd and `getent passwd` print them,
 * into uid → name (the first name wins when two share a uid, as getpwuid does).
 */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    const uid = Number(f[2]);
    if (!users.has(uid)) users.set(uid, f[0]!);
  }
  return users;
}

/** `readlink /proc/PID/fd/N` of a socket: `socket:[12345]` → 12345, anything else → null. */
export function socketInode(link: string): number | null {
  return /^socket:\[\d+\]$/.test(link) ? Number(link.slice(8, -1)) : null;
}

/**
 * socketInode on the link's bytes, as readlink(2) fills a buffer (`length` bytes, no NUL):
 * `socket:[12345]` → 12345; anything else (another kind of descriptor, a path, a link cut short by
 * the buffer) → null.
 */
export function socketInodeBytes(buf: Uint8Array, length: number): number | null {
  // "socket:[" is 73 6f 63 6b 65 74 3a 5b; the shortest socket link is "socket:[N]".
  if (length < 10 || buf[length - 1] !== 0x5d) return null;
  if (buf[0] !== 0x73 || buf[1] !== 0x6f || buf[2] !== 0x63 || buf[3] !== 0x6b || buf[4] !== 0x65 || buf[5] !== 0x74 || buf[6] !== 0x3a || buf[7] !== 0x5b) return null;
  let inode = 0;
  for (let i = 8; i < length - 1; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    inode = inode * 10 + d;
  }
  return inode;
}
