/**
 * Windows backend: iphlpapi socket tables, then per owning process kernel32/psapi/advapi32/ntdll
 * calls, all through koffi (no PowerShell, no netstat). Byte layouts are decoded by windows-decode.ts;
 * this file only declares and calls. Declarations follow koffi's type mapping (https://koffi.dev/functions; checked under Wine
 * with koffi 3.3.4): BOOL is int, DWORD uint32_t, out-scalars one-element arrays, buffers Node Buffers.
 *
 * Access is best effort, never a failure: a process we may not open (System, protected services,
 * another user's process without elevation) still gets its name from the Toolhelp snapshot, and its
 * ProcessInfo.note says which fields were denied.
 */
import * as os from 'node:os';
import { loadKoffi, type Koffi } from './koffi';
import {
  AF_INET,
  AF_INET6,
  decodeModuleHandles,
  decodeProcessEntry,
  decodeServices,
  decodeSocketTable,
  decodeUnicodeString,
  ERROR_ACCESS_DENIED,
  ERROR_INSUFFICIENT_BUFFER,
  ERROR_MORE_DATA,
  encodeEnablePrivilege,
  privilegeOutcome,
  fetchSizedTable,
  fileTimeToDate,
  PROCESSENTRY32W_SIZE,
  readWideString,
  sidToString,
  TCP_TABLE_OWNER_MODULE_ALL,
  TCP_TABLE_OWNER_PID_ALL,
  tokenUserSidOffset,
  UDP_TABLE_OWNER_MODULE,
  UDP_TABLE_OWNER_PID,
  Win32Error,
  windowsBaseName,
  type TableKind,
  type TableRow,
} from './windows-decode';
import { replaceCached, type Endpoint, type PlatformBackend, type ProcessInfo, type Snapshot, type SnapshotOptions } from './types';

const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const PROCESS_VM_READ = 0x0010;
const TOKEN_QUERY = 0x0008;
const TOKEN_USER_CLASS = 1;
const SC_MANAGER_CONNECT = 0x0001;
const SC_MANAGER_ENUMERATE_SERVICE = 0x0004;
const SC_ENUM_PROCESS_INFO = 0;
const SERVICE_WIN32 = 0x30;
const SERVICE_ACTIVE = 0x1;
const TH32CS_SNAPPROCESS = 0x2;
const LIST_MODULES_ALL = 0x3;
const PROCESS_COMMAND_LINE_INFORMATION = 60;
const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004;
const INVALID_HANDLE_VALUE = 0xffffffffffffffffn;
const MAX_PATH_CHARS = 32768;

type Handle = bigint | null;
type Fn = (...args: unknown[]) => unknown;

/** The Win32 functions the backend calls, declared once per process (koffi registers type names globally). */
interface Win32Api {
  koffi: Koffi;
  GetExtendedTcpTable: Fn;
  GetExtendedUdpTable: Fn;
  GetLastError: () => number;
  OpenProcess: (access: number, inherit: number, pid: number) => Handle;
  CloseHandle: (h: Handle) => number;
  QueryFullProcessImageNameW: Fn;
  GetProcessTimes: Fn;
  K32EnumProcessModulesEx: Fn;
  K32GetModuleFileNameExW: Fn;
  OpenProcessToken: Fn;
  GetTokenInformation: Fn;
  LookupAccountSidW: Fn;
  OpenSCManagerW: (machine: string | null, db: string | null, access: number) => Handle;
  CloseServiceHandle: (h: Handle) => number;
  EnumServicesStatusExW: Fn;
  CreateToolhelp32Snapshot: (flags: number, pid: number) => Handle;
  Process32FirstW: (h: Handle, entry: Buffer) => number;
  Process32NextW: (h: Handle, entry: Buffer) => number;
  GetCurrentProcess: () => Handle;
  LookupPrivilegeValueW: Fn;
  AdjustTokenPrivileges: Fn;
  /** ntdll; null if absent (never seen, but the command line is a bonus, not a requirement). */
  NtQueryInformationProcess: Fn | null;
}

let api: Win32Api | undefined;

function win32(): Win32Api {
  if (api) return api;
  const koffi = loadKoffi();
  const iphlpapi = koffi.load('iphlpapi.dll');
  const kernel32 = koffi.load('kernel32.dll');
  const advapi32 = koffi.load('advapi32.dll');
  const ntdll = koffi.load('ntdll.dll');
  koffi.alias('DWORD', 'uint32_t');
  koffi.pointer('HANDLE', koffi.opaque());
  let NtQueryInformationProcess: Fn | null = null;
  try {
    NtQueryInformationProcess = ntdll.func('int32_t __stdcall NtQueryInformationProcess(HANDLE h, int cls, _Out_ void *info, DWORD len, _Out_ DWORD *retLen)') as Fn;
  } catch {
    // keep null: command lines stay unknown
  }
  api = {
    koffi,
    GetExtendedTcpTable: iphlpapi.func('DWORD __stdcall GetExtendedTcpTable(_Out_ void *pTcpTable, _Inout_ DWORD *pdwSize, int bOrder, uint32_t ulAf, int TableClass, uint32_t Reserved)') as Fn,
    GetExtendedUdpTable: iphlpapi.func('DWORD __stdcall GetExtendedUdpTable(_Out_ void *pUdpTable, _Inout_ DWORD *pdwSize, int bOrder, uint32_t ulAf, int TableClass, uint32_t Reserved)') as Fn,
    GetLastError: kernel32.func('DWORD __stdcall GetLastError()') as () => number,
    OpenProcess: kernel32.func('HANDLE __stdcall OpenProcess(DWORD dwDesiredAccess, int bInheritHandle, DWORD dwProcessId)') as Win32Api['OpenProcess'],
    CloseHandle: kernel32.func('int __stdcall CloseHandle(HANDLE h)') as Win32Api['CloseHandle'],
    QueryFullProcessImageNameW: kernel32.func('int __stdcall QueryFullProcessImageNameW(HANDLE hProcess, DWORD dwFlags, _Out_ void *lpExeName, _Inout_ DWORD *lpdwSize)') as Fn,
    GetProcessTimes: kernel32.func('int __stdcall GetProcessTimes(HANDLE h, _Out_ void *c, _Out_ void *e, _Out_ void *k, _Out_ void *u)') as Fn,
    K32EnumProcessModulesEx: kernel32.func('int __stdcall K32EnumProcessModulesEx(HANDLE hProcess, _Out_ void *lphModule, DWORD cb, _Out_ DWORD *lpcbNeeded, DWORD dwFilterFlag)') as Fn,
    K32GetModuleFileNameExW: kernel32.func('DWORD __stdcall K32GetModuleFileNameExW(HANDLE hProcess, void *hModule, _Out_ void *lpFilename, DWORD nSize)') as Fn,
    OpenProcessToken: advapi32.func('int __stdcall OpenProcessToken(HANDLE ProcessHandle, DWORD DesiredAccess, _Out_ HANDLE *TokenHandle)') as Fn,
    GetTokenInformation: advapi32.func('int __stdcall GetTokenInformation(HANDLE TokenHandle, int TokenInformationClass, _Out_ void *TokenInformation, DWORD TokenInformationLength, _Out_ DWORD *ReturnLength)') as Fn,
    LookupAccountSidW: advapi32.func('int __stdcall LookupAccountSidW(const char16_t *lpSystemName, void *Sid, _Out_ void *Name, _Inout_ DWORD *cchName, _Out_ void *ReferencedDomainName, _Inout_ DWORD *cchReferencedDomainName, _Out_ int *peUse)') as Fn,
    OpenSCManagerW: advapi32.func('HANDLE __stdcall OpenSCManagerW(const char16_t *lpMachineName, const char16_t *lpDatabaseName, DWORD dwDesiredAccess)') as Win32Api['OpenSCManagerW'],
    CloseServiceHandle: advapi32.func('int __stdcall CloseServiceHandle(HANDLE h)') as Win32Api['CloseServiceHandle'],
    EnumServicesStatusExW: advapi32.func('int __stdcall EnumServicesStatusExW(HANDLE hSCManager, int InfoLevel, DWORD dwServiceType, DWORD dwServiceState, _Out_ void *lpServices, DWORD cbBufSize, _Out_ DWORD *pcbBytesNeeded, _Out_ DWORD *lpServicesReturned, _Inout_ DWORD *lpResumeHandle, const char16_t *pszGroupName)') as Fn,
    CreateToolhelp32Snapshot: kernel32.func('HANDLE __stdcall CreateToolhelp32Snapshot(DWORD dwFlags, DWORD th32ProcessID)') as Win32Api['CreateToolhelp32Snapshot'],
    Process32FirstW: kernel32.func('int __stdcall Process32FirstW(HANDLE hSnapshot, void *lppe)') as Win32Api['Process32FirstW'],
    Process32NextW: kernel32.func('int __stdcall Process32NextW(HANDLE hSnapshot, void *lppe)') as Win32Api['Process32NextW'],
    GetCurrentProcess: kernel32.func('HANDLE __stdcall GetCurrentProcess()') as Win32Api['GetCurrentProcess'],
    LookupPrivilegeValueW: advapi32.func('int __stdcall LookupPrivilegeValueW(const char16_t *lpSystemName, const char16_t *lpName, _Out_ void *lpLuid)') as Fn,
    AdjustTokenPrivileges: advapi32.func('int __stdcall AdjustTokenPrivileges(HANDLE TokenHandle, int DisableAllPrivileges, void *NewState, DWORD BufferLength, void *PreviousState, void *ReturnLength)') as Fn,
    NtQueryInformationProcess,
  };
  return api;
}

const TABLES = [
  ['TCP', 4, AF_INET],
  ['TCP', 6, AF_INET6],
  ['UDP', 4, AF_INET],
  ['UDP', 6, AF_INET6],
] as const;

export class WindowsBackend implements PlatformBackend {
  readonly name = 'windows' as const;
  /** SID string → DOMAIN\user (LookupAccountSidW may ask a domain controller: once per SID). */
  private readonly accounts = new Map<string, string | null>();
  /** The module handles (as text) each ProcessInfo's modules were read with (refreshModules). */
  private readonly moduleHandles = new WeakMap<ProcessInfo, string>();

  async snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    const w = win32();
    debugPrivilege ??= enableDebugPrivilege(w);
    const takenAt = new Date();
    const rows: TableRow[] = [];
    for (const [protocol, family, af] of TABLES) rows.push(...readTable(w, protocol, family, af));
    const endpoints: Endpoint[] = rows.map((r) => ({ ...r }));

    const names = processNames(w);
    const cache = options.processCache;
    if (cache) {
      for (const key of cache.keys()) if (!names.has(Number(key.slice(0, key.indexOf(':'))))) cache.delete(key);
    }
    const services = servicesByPid(w);
    const processes = new Map<number, ProcessInfo>();
    for (const pid of new Set(rows.map((r) => r.pid))) {
      processes.set(pid, this.readProcess(w, pid, names.get(pid) ?? null, services.get(pid) ?? [], options.modules ?? true, cache));
    }
    return { takenAt, computerName: process.env.COMPUTERNAME ?? os.hostname(), endpoints, processes };
  }

  private readProcess(
    w: Win32Api,
    pid: number,
    toolhelpName: string | null,
    services: string[],
    withModules: boolean,
    cache?: Map<string, ProcessInfo>,
  ): ProcessInfo {
    const info: ProcessInfo = { pid, startTime: null, name: toolhelpName, path: null, commandLine: null, user: null, services, modules: [], note: null };
    if (pid === 0) {
      // Not a process: the kernel's "System Idle Process", which TIME_WAIT rows (and, under Wine, every TCP row) name.
      info.name ??= 'System Idle Process';
      info.note = 'PID 0: the OS names no owning process';
      return info;
    }
    const handle = w.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
    if (!handle) {
      const error = w.GetLastError();
      info.note = error === ERROR_ACCESS_DENIED ? 'access denied' : toolhelpName === null ? 'exited' : `OpenProcess failed with error ${error}`;
      return info;
    }
    const denied: string[] = [];
    try {
      const created = processCreationTime(w, handle);
      const key = created === null ? null : `${pid}:${created}`;
      const cached = key ? cache?.get(key) : undefined;
      if (cached) {
        cached.services = services; // services start and stop inside a living svchost
        return cached;
      }
      info.startTime = created === null ? null : fileTimeToDate(created);
      if (created === null) denied.push('start time');
      info.path = imagePath(w, handle);
      if (info.path) info.name = windowsBaseName(info.path);
      else denied.push('path');
      info.commandLine = commandLine(w, handle);
      info.user = this.processUser(w, handle);
      if (info.user === null) denied.push('user');
      if (withModules) {
        const modules = processModules(w, pid);
        if (modules) info.modules = modules;
        else denied.push('modules');
      }
      info.note = denied.length > 0 ? `access denied: ${denied.join(', ')}` : null;
      if (key) cache?.set(key, info);
      return info;
    } finally {
      w.CloseHandle(handle);
    }
  }

  /**
   * The module handles first (one EnumProcessModulesEx, no names): when they are the ones seen last
   * time, nothing changed and no name is read. A process never checked before reads its names once.
   */
  refreshModules(info: ProcessInfo, cache?: Map<string, ProcessInfo>): ProcessInfo | null {
    if (info.pid === 0) return null;
    const w = win32();
    const handles = moduleHandles(w, info.pid);
    if (handles === null) return null;
    if (this.moduleHandles.get(info) === handles) return null;
    const modules = processModules(w, info.pid);
    if (!modules) return null;
    this.moduleHandles.set(info, handles);
    if (modules.length === info.modules.length && modules.every((m, i) => m === info.modules[i])) return null;
    const next: ProcessInfo = { ...info, modules };
    this.moduleHandles.set(next, handles);
    replaceCached(cache, info, next);
    return next;
  }

  /** The token's user as DOMAIN\user, or its SID string when no name maps to it (1332); null if the token is denied. */
  private processUser(w: Win32Api, handle: Handle): string | null {
    const token: [Handle] = [null];
    if (!w.OpenProcessToken(handle, TOKEN_QUERY, token) || !token[0]) return null;
    try {
      const buf = Buffer.alloc(256); // TOKEN_USER + SID: at most 16 + 68 bytes
      const needed = [0];
      if (!w.GetTokenInformation(token[0], TOKEN_USER_CLASS, buf, buf.length, needed)) return null;
      const sidOffset = tokenUserSidOffset(buf, w.koffi.address(buf));
      const sid = sidToString(buf, sidOffset);
      if (!this.accounts.has(sid)) this.accounts.set(sid, lookupAccount(w, buf.subarray(sidOffset)));
      return this.accounts.get(sid) ?? sid;
    } finally {
      w.CloseHandle(token[0]);
    }
  }
}

/** SeDebugPrivilege: tried once per process, at the first snapshot. */
let debugPrivilege: 'enabled' | 'not held' | 'failed' | null = null;

/**
 * Enables SeDebugPrivilege in this process's token when the token holds it (an elevated administrator
 * holds it disabled; SYSTEM has it enabled), so that other users' service processes can be opened for
 * their modules and command lines. Best effort: without it, those fields stay per-field partial data
 * (ProcessInfo.note). https://learn.microsoft.com/windows/win32/secauthz/enabling-and-disabling-privileges-in-c--
 */
function enableDebugPrivilege(w: Win32Api): 'enabled' | 'not held' | 'failed' {
  const TOKEN_ADJUST_PRIVILEGES = 0x0020;
  const token: [Handle] = [null];
  try {
    if (!w.OpenProcessToken(w.GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, token) || !token[0]) return 'failed';
    try {
      const luid = Buffer.alloc(8);
      if (!w.LookupPrivilegeValueW(null, 'SeDebugPrivilege', luid)) return 'failed';
      const state = encodeEnablePrivilege(luid);
      // BufferLength 0: PreviousState is NULL (AdjustTokenPrivileges' documented use).
      const ok = Boolean(w.AdjustTokenPrivileges(token[0], 0, state, 0, null, null));
      return privilegeOutcome(ok, w.GetLastError());
    } finally {
      w.CloseHandle(token[0]);
    }
  } catch {
    return 'failed';
  }
}

/** One table, owner-module class first (it carries the creation time), the PID class if that fails. */
function readTable(w: Win32Api, protocol: 'TCP' | 'UDP', family: 4 | 6, af: number): TableRow[] {
  const fn = protocol === 'TCP' ? w.GetExtendedTcpTable : w.GetExtendedUdpTable;
  const classes: [TableKind, number][] =
    protocol === 'TCP'
      ? [['module', TCP_TABLE_OWNER_MODULE_ALL], ['pid', TCP_TABLE_OWNER_PID_ALL]]
      : [['module', UDP_TABLE_OWNER_MODULE], ['pid', UDP_TABLE_OWNER_PID]];
  const api = protocol === 'TCP' ? 'GetExtendedTcpTable' : 'GetExtendedUdpTable';
  let lastError: unknown;
  for (const [kind, tableClass] of classes) {
    try {
      const buf = fetchSizedTable(api, (b, size) => fn(b, size, 0, af, tableClass, 0) as number);
      return buf ? decodeSocketTable(buf, protocol, family, kind) : [];
    } catch (err) {
      if (!(err instanceof Win32Error)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

/** PID → image name of every process, from one Toolhelp snapshot (needs no access to the processes). */
function processNames(w: Win32Api): Map<number, string> {
  const names = new Map<number, string>();
  const snap = w.CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (!snap || snap === INVALID_HANDLE_VALUE) return names;
  try {
    const entry = Buffer.alloc(PROCESSENTRY32W_SIZE);
    entry.writeUInt32LE(PROCESSENTRY32W_SIZE, 0); // dwSize
    for (let ok = w.Process32FirstW(snap, entry); ok; ok = w.Process32NextW(snap, entry)) {
      const e = decodeProcessEntry(entry);
      names.set(e.pid, e.exeFile);
    }
  } finally {
    w.CloseHandle(snap);
  }
  return names;
}

/** PID → names of the running Win32 services it hosts (svchost.exe hosts several). */
function servicesByPid(w: Win32Api): Map<number, string[]> {
  const result = new Map<number, string[]>();
  const scm = w.OpenSCManagerW(null, null, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE);
  if (!scm) return result; // no service list is partial data, not a failure
  try {
    let buf = Buffer.alloc(64 * 1024);
    const resume = [0];
    for (let round = 0; round < 64; round++) {
      const needed = [0];
      const returned = [0];
      const ok = w.EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE, buf, buf.length, needed, returned, resume, null);
      const error = ok ? 0 : w.GetLastError();
      decodeServices(buf, returned[0]!, w.koffi.address(buf), result);
      if (ok || error !== ERROR_MORE_DATA) break;
      // 256 KiB is the documented maximum per call; continue from the resume handle.
      if (returned[0] === 0) buf = Buffer.alloc(Math.min(Math.max(needed[0]!, buf.length * 2), 256 * 1024));
    }
  } finally {
    w.CloseServiceHandle(scm);
  }
  return result;
}

/** Creation FILETIME as a raw tick count (the process identity with the PID), or null if denied. */
function processCreationTime(w: Win32Api, handle: Handle): bigint | null {
  const [created, exited, kernel, user] = [Buffer.alloc(8), Buffer.alloc(8), Buffer.alloc(8), Buffer.alloc(8)];
  if (!w.GetProcessTimes(handle, created, exited, kernel, user)) return null;
  return created.readBigUInt64LE(0);
}

function imagePath(w: Win32Api, handle: Handle): string | null {
  const buf = Buffer.alloc(MAX_PATH_CHARS * 2);
  const chars = [MAX_PATH_CHARS];
  if (!w.QueryFullProcessImageNameW(handle, 0, buf, chars)) return null;
  return readWideString(buf, chars[0]!);
}

/** NtQueryInformationProcess(ProcessCommandLineInformation), Windows 8.1+: needs only the limited right. */
function commandLine(w: Win32Api, handle: Handle): string | null {
  if (!w.NtQueryInformationProcess) return null;
  let buf = Buffer.alloc(4096);
  for (let attempt = 0; attempt < 3; attempt++) {
    const needed = [0];
    const status = (w.NtQueryInformationProcess(handle, PROCESS_COMMAND_LINE_INFORMATION, buf, buf.length, needed) as number) >>> 0;
    if (status === 0) return decodeUnicodeString(buf, w.koffi.address(buf));
    if (status !== STATUS_INFO_LENGTH_MISMATCH || needed[0]! <= buf.length) return null;
    buf = Buffer.alloc(needed[0]!);
  }
  return null;
}

/**
 * Full paths of the modules loaded in a process. Needs PROCESS_VM_READ, which protected processes
 * and other users' elevated ones refuse even when the limited right was granted, hence a second,
 * separate OpenProcess (psutil PR #1372). null when denied.
 */
function processModules(w: Win32Api, pid: number): string[] | null {
  const handle = w.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, 0, pid);
  if (!handle) return null;
  try {
    const handles = enumModuleHandles(w, handle);
    if (!handles) return null;
    const modules: string[] = [];
    let name = Buffer.alloc(1024 * 2);
    for (const module of decodeModuleHandles(handles, handles.length)) {
      let chars = w.K32GetModuleFileNameExW(handle, module, name, name.length / 2) as number;
      // Truncation returns nSize-1 without an error (Windows 10+): retry with the long-path size.
      if (chars >= name.length / 2 - 1 && name.length < MAX_PATH_CHARS * 2) {
        name = Buffer.alloc(MAX_PATH_CHARS * 2);
        chars = w.K32GetModuleFileNameExW(handle, module, name, MAX_PATH_CHARS) as number;
      }
      if (chars > 0) modules.push(readWideString(name, chars));
    }
    return modules;
  } finally {
    w.CloseHandle(handle);
  }
}

/**
 * The module handles of an open process (EnumProcessModulesEx, 32- and 64-bit modules), exactly the
 * bytes Windows filled; null when it keeps refusing. It may fail transiently while the loader list
 * changes: a few tries, then give up.
 */
function enumModuleHandles(w: Win32Api, handle: Handle): Buffer | null {
  let buf = Buffer.alloc(8 * 512);
  const needed = [0];
  for (let attempt = 0; ; attempt++) {
    if (!w.K32EnumProcessModulesEx(handle, buf, buf.length, needed, LIST_MODULES_ALL)) {
      if (attempt < 3) continue;
      return null;
    }
    if (needed[0]! <= buf.length) return buf.subarray(0, needed[0]!);
    buf = Buffer.alloc(needed[0]! + 8 * 64);
  }
}

/** The module handles of a process as one string (cheap: no names), null when denied. */
function moduleHandles(w: Win32Api, pid: number): string | null {
  const handle = w.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, 0, pid);
  if (!handle) return null;
  try {
    return enumModuleHandles(w, handle)?.toString('hex') ?? null;
  } finally {
    w.CloseHandle(handle);
  }
}

/** LookupAccountSidW → `DOMAIN\user` (`NT AUTHORITY\SYSTEM`); null when no name maps to the SID. */
function lookupAccount(w: Win32Api, sid: Buffer): string | null {
  let nameChars = [256];
  let domainChars = [256];
  for (let attempt = 0; attempt < 2; attempt++) {
    const name = Buffer.alloc(nameChars[0]! * 2);
    const domain = Buffer.alloc(domainChars[0]! * 2);
    const use = [0];
    if (w.LookupAccountSidW(null, sid, name, nameChars, domain, domainChars, use)) {
      const user = readWideString(name, nameChars[0]!);
      const dom = readWideString(domain, domainChars[0]!);
      return dom ? `${dom}\\${user}` : user;
    }
    if (w.GetLastError() !== ERROR_INSUFFICIENT_BUFFER) return null;
    nameChars = [nameChars[0]!];
    domainChars = [domainChars[0]!];
  }
  return null;
}
