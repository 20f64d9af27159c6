/**
 * Windows: the log directory's access control, the counterpart of the POSIX owner/mode check in
 * log-dir.ts. Here all three Windows pieces live: the icacls arguments that give a new directory its
 * ACL, the pure decision over a security descriptor (byte-level decoder + rule, unit-tested with
 * fixtures), and the one advapi32 call that reads a directory's descriptor (GetFileSecurityW, a
 * self-relative SECURITY_DESCRIPTOR copied into our buffer, so no pointer is followed).
 *
 * Rule: the directory's owner and every ACE that allows a right to change its content or itself
 * (FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, FILE_DELETE_CHILD, DELETE, WRITE_DAC, WRITE_OWNER,
 * GENERIC_WRITE, GENERIC_ALL) must belong to SYSTEM, Administrators, TrustedInstaller or the
 * recorder's own user. Inherit-only ACEs (they apply to children, not to the directory) are skipped;
 * deny ACEs only take rights away. A NULL DACL grants everyone everything and is refused.
 * Layouts: learn.microsoft.com/windows/win32/api/winnt/ns-winnt-security_descriptor_relative,
 * .../ns-winnt-acl, .../ns-winnt-access_allowed_ace; rights: .../fileio/file-access-rights-constants.
 * Parents are not walked on Windows: creating a folder in C:\ is allowed to Authenticated Users, but
 * renaming ours needs DELETE on it or FILE_DELETE_CHILD on C:\, which they do not have.
 */
import { loadKoffi } from '../platform/koffi';
import { sidToString } from '../platform/windows-decode';
import { decodeSecurityDescriptor as decodeDescriptor } from '../service/acl';

/** icacls arguments that restrict a directory to Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18). */
export function windowsLogDirAcl(dir: string): string[] {
  return [dir, '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '/grant:r', '*S-1-5-18:(OI)(CI)F'];
}

export const TRUSTED_SIDS: readonly string[] = [
  'S-1-5-18', // SYSTEM
  'S-1-5-32-544', // BUILTIN\Administrators
  'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464', // NT SERVICE\TrustedInstaller
];

/** Rights that let a holder put, remove or rename entries, or change who may (directory access mask). */
export const WRITE_RIGHTS = 0x2 | 0x4 | 0x40 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000;
const INHERIT_ONLY_ACE = 0x08;

export interface Ace {
  /** 0 ACCESS_ALLOWED, 1 ACCESS_DENIED, others as numbered in winnt.h. */
  type: number;
  flags: number;
  mask: number;
  sid: string | null;
}

export interface DirSecurity {
  owner: string | null;
  /** null: no DACL (everyone has full access). */
  aces: Ace[] | null;
}

/**
 * Decodes a self-relative SECURITY_DESCRIPTOR (OWNER + DACL requested) with the one decoder the
 * install-location check uses too (src/service/acl.ts); an entry without a SID (an object ACE) has sid null.
 */
export function decodeSecurityDescriptor(buf: Buffer): DirSecurity {
  const { owner, dacl } = decodeDescriptor(buf);
  return { owner, aces: dacl === null ? null : dacl.map((ace) => ({ type: ace.type, flags: ace.flags, mask: ace.mask, sid: ace.sid === '' ? null : ace.sid })) };
}

/** Why the directory is unsafe for a recorder running as `userSid`, or null. */
export function windowsDirProblem(sec: DirSecurity, userSid: string | null): string | null {
  const trusted = (sid: string | null) => sid !== null && (TRUSTED_SIDS.includes(sid) || sid === userSid);
  if (sec.owner !== null && !trusted(sec.owner)) return `is owned by ${sec.owner}, not by Administrators, SYSTEM or the recorder's account`;
  if (sec.aces === null) return 'has no access control list (everyone has full access)';
  for (const ace of sec.aces) {
    if (ace.flags & INHERIT_ONLY_ACE) continue;
    const allows = ace.type === 0 || ace.type === 5 || ace.type === 9 || ace.type === 11;
    if (!allows || (ace.mask & WRITE_RIGHTS) === 0) continue;
    if (!trusted(ace.sid)) return `lets ${ace.sid ?? 'an object-specific entry'} write into it (access mask 0x${ace.mask.toString(16)})`;
  }
  return null;
}

/** The fix line for a Windows directory. */
export function windowsFix(dir: string): string {
  return `restrict it with: icacls "${dir}" /inheritance:r /grant:r *S-1-5-32-544:(OI)(CI)F /grant:r *S-1-5-18:(OI)(CI)F, or choose another --log-dir`;
}

type Api = {
  GetFileSecurityW(name: string, info: number, sd: Buffer, len: number, needed: number[]): number;
  GetLastError(): number;
  GetCurrentProcess(): unknown;
  OpenProcessToken(h: unknown, access: number, out: unknown[]): number;
  GetTokenInformation(h: unknown, cls: number, buf: Buffer, len: number, needed: number[]): number;
  CloseHandle(h: unknown): number;
  address(buf: Buffer): bigint;
};
let api: Api | undefined;

function loadApi(): Api {
  if (api) return api;
  const koffi = loadKoffi();
  const advapi32 = koffi.load('advapi32.dll');
  const kernel32 = koffi.load('kernel32.dll');
  api = {
    GetFileSecurityW: advapi32.func('int __stdcall GetFileSecurityW(const char16_t *lpFileName, uint32_t RequestedInformation, _Out_ void *pSecurityDescriptor, uint32_t nLength, _Out_ uint32_t *lpnLengthNeeded)') as Api['GetFileSecurityW'],
    GetLastError: kernel32.func('uint32_t __stdcall GetLastError()') as Api['GetLastError'],
    GetCurrentProcess: kernel32.func('void * __stdcall GetCurrentProcess()') as Api['GetCurrentProcess'],
    OpenProcessToken: advapi32.func('int __stdcall OpenProcessToken(void *ProcessHandle, uint32_t DesiredAccess, _Out_ void **TokenHandle)') as Api['OpenProcessToken'],
    GetTokenInformation: advapi32.func('int __stdcall GetTokenInformation(void *TokenHandle, int TokenInformationClass, _Out_ void *TokenInformation, uint32_t TokenInformationLength, _Out_ uint32_t *ReturnLength)') as Api['GetTokenInformation'],
    CloseHandle: kernel32.func('int __stdcall CloseHandle(void *h)') as Api['CloseHandle'],
    address: (buf) => koffi.address(buf) as bigint,
  };
  return api;
}

/** OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION */
const OWNER_AND_DACL = 0x1 | 0x4;

/** Reads a directory's owner and DACL, and the SID of the account this process runs as (Windows only). */
export function readDirSecurity(dir: string): { security: DirSecurity; userSid: string | null } {
  const w = loadApi();
  let buf = Buffer.alloc(4096);
  const needed = [0];
  if (!w.GetFileSecurityW(dir, OWNER_AND_DACL, buf, buf.length, needed)) {
    const error = w.GetLastError();
    if (error !== 122 || needed[0]! <= buf.length) throw new Error(`GetFileSecurityW failed (error ${error})`);
    buf = Buffer.alloc(needed[0]!);
    if (!w.GetFileSecurityW(dir, OWNER_AND_DACL, buf, buf.length, needed)) throw new Error(`GetFileSecurityW failed (error ${w.GetLastError()})`);
  }
  return { security: decodeSecurityDescriptor(buf), userSid: currentUserSid(w) };
}

function currentUserSid(w: Api): string | null {
  const token: unknown[] = [null];
  if (!w.OpenProcessToken(w.GetCurrentProcess(), 0x0008 /* TOKEN_QUERY */, token) || !token[0]) return null;
  try {
    const buf = Buffer.alloc(256);
    if (!w.GetTokenInformation(token[0], 1 /* TokenUser */, buf, buf.length, [0])) return null;
    return sidToString(buf, Number(buf.readBigUInt64LE(0) - w.address(buf)));
  } finally {
    w.CloseHandle(token[0]);
  }
}
