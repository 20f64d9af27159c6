/**
 * Pure decoders for the Windows structures the Windows backend reads (x64 layouts from
 * the Win32 headers: MIB_TCPROW_OWNER_MODULE, MIB_UDP6ROW_OWNER_MODULE, FILETIME…, checked against mingw-w64 headers and koffi under Wine). No FFI here:
 * windows.ts makes the calls and hands the bytes over, so every layout is unit-tested with Buffers.
 */
import { formatIPv4, formatIPv6 } from './address';
import type { SocketIdentity, TcpState } from './types';

export const AF_INET = 2;
/** Windows' AF_INET6 (Linux's is 10). */
export const AF_INET6 = 23;
export const TCP_TABLE_OWNER_PID_ALL = 5;
export const TCP_TABLE_OWNER_MODULE_ALL = 8;
export const UDP_TABLE_OWNER_PID = 1;
export const UDP_TABLE_OWNER_MODULE = 2;
export const NO_ERROR = 0;
export const ERROR_ACCESS_DENIED = 5;
export const ERROR_INVALID_PARAMETER = 87;
export const ERROR_INSUFFICIENT_BUFFER = 122;
export const ERROR_MORE_DATA = 234;
/** Undocumented transient answer of GetExtendedTcpTable under load (psutil #1294): retry. */
export const STATUS_UNSUCCESSFUL = 0xc0000001;

/** MIB_TCP_STATE, in Get-NetTCPConnection's words. */
const WINDOWS_TCP_STATES: Record<number, TcpState> = {
  1: 'Closed',
  2: 'Listen',
  3: 'SynSent',
  4: 'SynReceived',
  5: 'Established',
  6: 'FinWait1',
  7: 'FinWait2',
  8: 'CloseWait',
  9: 'Closing',
  10: 'LastAck',
  11: 'TimeWait',
  12: 'DeleteTCB',
};

export function windowsTcpState(code: number): TcpState {
  const state = WINDOWS_TCP_STATES[code];
  if (!state) throw new Error(`unknown Windows TCP state ${code}`);
  return state;
}

/** The table classes a backend asks for: owner-module tables carry the socket's creation time. */
export type TableKind = 'module' | 'pid';

/** Where each field of one row lives; every table is `{ DWORD dwNumEntries; pad; ROW table[]; }`. */
interface RowLayout {
  /** First row: the row's alignment (4 for *_OWNER_PID, 8 for *_OWNER_MODULE, which hold 64-bit fields). */
  rowsOffset: number;
  stride: number;
  localAddr: number;
  localPort: number;
  remoteAddr?: number;
  remotePort?: number;
  state?: number;
  pid: number;
  createTimestamp?: number;
}

export const ROW_LAYOUTS: Record<'TCP' | 'UDP', Record<4 | 6, Record<TableKind, RowLayout>>> = {
  TCP: {
    4: {
      // MIB_TCPROW_OWNER_PID (24) / MIB_TCPROW_OWNER_MODULE (160)
      pid: { rowsOffset: 4, stride: 24, state: 0, localAddr: 4, localPort: 8, remoteAddr: 12, remotePort: 16, pid: 20 },
      module: { rowsOffset: 8, stride: 160, state: 0, localAddr: 4, localPort: 8, remoteAddr: 12, remotePort: 16, pid: 20, createTimestamp: 24 },
    },
    6: {
      // MIB_TCP6ROW_OWNER_PID (56) / MIB_TCP6ROW_OWNER_MODULE (192): the state comes after the addresses
      pid: { rowsOffset: 4, stride: 56, localAddr: 0, localPort: 20, remoteAddr: 24, remotePort: 44, state: 48, pid: 52 },
      module: { rowsOffset: 8, stride: 192, localAddr: 0, localPort: 20, remoteAddr: 24, remotePort: 44, state: 48, pid: 52, createTimestamp: 56 },
    },
  },
  UDP: {
    4: {
      // MIB_UDPROW_OWNER_PID (12) / MIB_UDPROW_OWNER_MODULE (160)
      pid: { rowsOffset: 4, stride: 12, localAddr: 0, localPort: 4, pid: 8 },
      module: { rowsOffset: 8, stride: 160, localAddr: 0, localPort: 4, pid: 8, createTimestamp: 16 },
    },
    6: {
      // MIB_UDP6ROW_OWNER_PID (28) / MIB_UDP6ROW_OWNER_MODULE (176)
      pid: { rowsOffset: 4, stride: 28, localAddr: 0, localPort: 20, pid: 24 },
      module: { rowsOffset: 8, stride: 176, localAddr: 0, localPort: 20, pid: 24, createTimestamp: 32 },
    },
  },
};

export interface TableRow extends SocketIdentity {
  pid: number;
  creationTime: Date | null;
}

/**
 * The port is in network byte order in the low 16 bits of a DWORD: on x64 those are the DWORD's first
 * two bytes, read big-endian. The high 16 bits are ignored, never trusted to be zero.
 */
function readPort(buf: Buffer, offset: number): number {
  return buf.readUInt16BE(offset);
}

function readAddress(buf: Buffer, offset: number, family: 4 | 6): string {
  // IPv4: an in_addr, octets in memory order; IPv6: 16 bytes in network order.
  return family === 4 ? formatIPv4(buf, offset) : formatIPv6(buf, offset);
}

/** FILETIME (100 ns ticks since 1601-01-01 UTC) → Date; 0 (not recorded, e.g. under Wine) → null. */
export function fileTimeToDate(ticks: bigint): Date | null {
  if (ticks <= 0n) return null;
  return new Date(Number((ticks - 116444736000000000n) / 10000n));
}

/** Decodes a whole GetExtendedTcpTable / GetExtendedUdpTable buffer. */
export function decodeSocketTable(buf: Buffer, protocol: 'TCP' | 'UDP', family: 4 | 6, kind: TableKind): TableRow[] {
  const layout = ROW_LAYOUTS[protocol][family][kind];
  const count = buf.readUInt32LE(0);
  if (layout.rowsOffset + count * layout.stride > buf.length) {
    throw new Error(`${protocol}v${family} table claims ${count} rows but holds ${buf.length} bytes`);
  }
  const rows: TableRow[] = [];
  for (let i = 0; i < count; i++) {
    const o = layout.rowsOffset + i * layout.stride;
    const state = layout.state === undefined ? null : windowsTcpState(buf.readUInt32LE(o + layout.state));
    // A listener's remote side is meaningless (docs); UDP has none.
    const hasRemote = layout.remoteAddr !== undefined && state !== 'Listen';
    rows.push({
      protocol,
      family,
      localAddress: readAddress(buf, o + layout.localAddr, family),
      localPort: readPort(buf, o + layout.localPort),
      remoteAddress: hasRemote ? readAddress(buf, o + layout.remoteAddr!, family) : null,
      remotePort: hasRemote ? readPort(buf, o + layout.remotePort!) : null,
      state,
      pid: buf.readUInt32LE(o + layout.pid),
      creationTime: layout.createTimestamp === undefined ? null : fileTimeToDate(buf.readBigInt64LE(o + layout.createTimestamp)),
    });
  }
  return rows;
}

/**
 * One call of a size-probing Win32 function: fills `buffer` (or only sets size[0] when it is null)
 * and returns the Win32 error code. GetExtendedTcpTable/GetExtendedUdpTable fit it directly.
 */
export type SizedCall = (buffer: Buffer | null, size: [number]) => number;

export class Win32Error extends Error {
  constructor(
    readonly api: string,
    readonly code: number,
  ) {
    super(`${api} failed with error ${code}${code > 0xffff ? ` (0x${code.toString(16)})` : ''}`);
    this.name = 'Win32Error';
  }
}

/**
 * The two-call pattern with its races handled (GetExtendedTcpTable's documented ERROR_INSUFFICIENT_BUFFER
 * contract, https://learn.microsoft.com/windows/win32/api/iphlpapi/nf-iphlpapi-getextendedtcptable): probe the size with a NULL
 * buffer, allocate it plus 25 % slack, and call again; the table may grow in between, so retry
 * (bounded) on ERROR_INSUFFICIENT_BUFFER and on the transient STATUS_UNSUCCESSFUL. A probe that
 * answers anything but "insufficient buffer" means the family is absent (IPv6 disabled) → null.
 */
export function fetchSizedTable(api: string, call: SizedCall, maxTries = 5): Buffer | null {
  const size: [number] = [0];
  const probe = call(null, size) >>> 0;
  if (probe === NO_ERROR) return null;
  if (probe !== ERROR_INSUFFICIENT_BUFFER && probe !== STATUS_UNSUCCESSFUL) return null;
  let rc = probe;
  for (let attempt = 0; attempt < maxTries; attempt++) {
    const buffer = Buffer.alloc(Math.max(size[0], 8) + (size[0] >> 2) + 1024);
    size[0] = buffer.length;
    rc = call(buffer, size) >>> 0;
    if (rc === NO_ERROR) return buffer;
    if (rc !== ERROR_INSUFFICIENT_BUFFER && rc !== STATUS_UNSUCCESSFUL) throw new Win32Error(api, rc);
  }
  throw new Win32Error(api, rc);
}

/**
 * ENUM_SERVICE_STATUS_PROCESSW array (56 bytes each: lpServiceName@0, lpDisplayName@8,
 * SERVICE_STATUS_PROCESS@16 whose dwProcessId is at +28) → services per PID. The name pointers point
 * into the same buffer, whose address is `base`. PID 0 (a service that is not running) is skipped.
 */
export function decodeServices(buf: Buffer, count: number, base: bigint, into = new Map<number, string[]>()): Map<number, string[]> {
  for (let i = 0; i < count; i++) {
    const o = i * 56;
    const pid = buf.readUInt32LE(o + 16 + 28);
    if (pid === 0) continue;
    const name = readWideStringAt(buf, Number(buf.readBigUInt64LE(o) - base));
    const list = into.get(pid);
    if (list) list.push(name);
    else into.set(pid, [name]);
  }
  return into;
}

/** A NUL-terminated UTF-16LE string at `offset` of `buf`. */
export function readWideStringAt(buf: Buffer, offset: number): string {
  if (offset < 0 || offset >= buf.length) throw new Error(`string offset ${offset} outside a ${buf.length}-byte buffer`);
  let end = offset;
  while (end + 1 < buf.length && (buf[end] !== 0 || buf[end + 1] !== 0)) end += 2;
  return buf.toString('utf16le', offset, end);
}

/** A UTF-16LE string of `chars` characters at the start of `buf` (what W functions return with a length). */
export function readWideString(buf: Buffer, chars: number): string {
  return buf.toString('utf16le', 0, chars * 2);
}

/** A binary SID (revision, sub-authority count, 48-bit big-endian authority, 32-bit LE sub-authorities) as `S-1-5-21-…`. */
export function sidToString(buf: Buffer, offset = 0): string {
  const revision = buf[offset]!;
  const count = buf[offset + 1]!;
  const authority = buf.readUIntBE(offset + 2, 6);
  const parts = [`S-${revision}-${authority}`];
  for (let i = 0; i < count; i++) parts.push(String(buf.readUInt32LE(offset + 8 + 4 * i)));
  return parts.join('-');
}

/** TOKEN_USER { SID_AND_ATTRIBUTES { PSID Sid; DWORD Attributes; } }: the SID lies in the same buffer (address `base`). */
export function tokenUserSidOffset(buf: Buffer, base: bigint): number {
  return Number(buf.readBigUInt64LE(0) - base);
}

/** PROCESSENTRY32W (568 bytes): th32ProcessID@8, th32ParentProcessID@32, szExeFile@44 WCHAR[260]. */
export const PROCESSENTRY32W_SIZE = 568;
export function decodeProcessEntry(buf: Buffer): { pid: number; parentPid: number; exeFile: string } {
  const name = buf.subarray(44, 44 + 520);
  return { pid: buf.readUInt32LE(8), parentPid: buf.readUInt32LE(32), exeFile: readWideStringAt(name, 0) };
}

/** HMODULE array from EnumProcessModulesEx: `bytes` valid bytes of 8-byte handles. */
export function decodeModuleHandles(buf: Buffer, bytes: number): bigint[] {
  const handles: bigint[] = [];
  for (let o = 0; o + 8 <= Math.min(bytes, buf.length); o += 8) handles.push(buf.readBigUInt64LE(o));
  return handles;
}

/**
 * NtQueryInformationProcess(ProcessCommandLineInformation) output: UNICODE_STRING { USHORT Length
 * (bytes); USHORT MaximumLength; PWSTR Buffer@8 } followed by the characters, in a buffer at `base`.
 */
export function decodeUnicodeString(buf: Buffer, base: bigint): string | null {
  const length = buf.readUInt16LE(0);
  const pointer = buf.readBigUInt64LE(8);
  if (length === 0 || pointer === 0n) return null;
  const offset = Number(pointer - base);
  if (offset < 0 || offset + length > buf.length) throw new Error('UNICODE_STRING points outside its buffer');
  return buf.toString('utf16le', offset, offset + length);
}

/** The file name of a Windows path (`C:\Windows\System32\svchost.exe` → `svchost.exe`). */
export function windowsBaseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) + 1);
}

export const SE_PRIVILEGE_ENABLED = 0x2;
export const ERROR_NOT_ALL_ASSIGNED = 1300;

/**
 * TOKEN_PRIVILEGES with one entry, enabling the privilege whose LUID (8 bytes as LookupPrivilegeValueW
 * wrote it) is given: PrivilegeCount u32 @0, LUID_AND_ATTRIBUTES { LUID @4 (LowPart u32, HighPart i32);
 * Attributes u32 @12 } (4-byte aligned: 16 bytes).
 */
export function encodeEnablePrivilege(luid: Buffer): Buffer {
  if (luid.length !== 8) throw new RangeError('a LUID has 8 bytes');
  const buf = Buffer.alloc(16);
  buf.writeUInt32LE(1, 0);
  luid.copy(buf, 4);
  buf.writeUInt32LE(SE_PRIVILEGE_ENABLED, 12);
  return buf;
}

/** AdjustTokenPrivileges' outcome: it returns TRUE even when the privilege is not held, and says so in GetLastError. */
export function privilegeOutcome(ok: boolean, lastError: number): 'enabled' | 'not held' | 'failed' {
  if (!ok) return 'failed';
  return lastError === ERROR_NOT_ALL_ASSIGNED ? 'not held' : 'enabled';
}
