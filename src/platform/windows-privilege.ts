/**
 * SeDebugPrivilege, enabled when our token holds it (best effort, once per process), so an elevated
 * administrator can open other accounts' service processes for their image names and modules. An
 * elevated admin token holds it disabled; SYSTEM has it enabled already; a standard user does not hold
 * it, and AdjustTokenPrivileges then reports ERROR_NOT_ALL_ASSIGNED: access-denied stays per-field
 * partial data (learn.microsoft.com/windows/win32/secauthz/enabling-and-disabling-privileges-in-c--).
 * Declared with plain C types: koffi's type names are process-global and ./windows.ts has its own.
 */
import type { Koffi } from './koffi';

const TOKEN_ADJUST_PRIVILEGES = 0x0020;
const TOKEN_QUERY = 0x0008;
const SE_PRIVILEGE_ENABLED = 0x00000002;
const ERROR_NOT_ALL_ASSIGNED = 1300;

export type DebugPrivilege = 'enabled' | 'not-held' | 'failed';

/** TOKEN_PRIVILEGES with one LUID_AND_ATTRIBUTES: PrivilegeCount, LUID (LowPart, HighPart), Attributes. */
export function tokenPrivileges(luid: Buffer, attributes = SE_PRIVILEGE_ENABLED): Buffer {
  const buf = Buffer.alloc(16);
  buf.writeUInt32LE(1, 0);
  luid.copy(buf, 4, 0, 8);
  buf.writeUInt32LE(attributes, 12);
  return buf;
}

let result: { state: DebugPrivilege; error: string | null } | undefined;

export function enableDebugPrivilege(koffi: Koffi): { state: DebugPrivilege; error: string | null } {
  if (result) return result;
  try {
    const kernel32 = koffi.load('kernel32.dll');
    const advapi32 = koffi.load('advapi32.dll');
    const GetCurrentProcess = kernel32.func('intptr_t __stdcall GetCurrentProcess(void)') as () => number | bigint;
    const CloseHandle = kernel32.func('int __stdcall CloseHandle(intptr_t h)') as (h: number | bigint) => number;
    const GetLastError = kernel32.func('uint32_t __stdcall GetLastError(void)') as () => number;
    const OpenProcessToken = advapi32.func('int __stdcall OpenProcessToken(intptr_t ProcessHandle, uint32_t DesiredAccess, _Out_ intptr_t *TokenHandle)') as (p: number | bigint, a: number, out: (number | bigint)[]) => number;
    const LookupPrivilegeValueW = advapi32.func('int __stdcall LookupPrivilegeValueW(const char16_t *lpSystemName, const char16_t *lpName, _Out_ void *lpLuid)') as (s: null, n: string, luid: Buffer) => number;
    const AdjustTokenPrivileges = advapi32.func(
      'int __stdcall AdjustTokenPrivileges(intptr_t TokenHandle, int DisableAllPrivileges, const void *NewState, uint32_t BufferLength, void *PreviousState, void *ReturnLength)',
    ) as (h: number | bigint, d: number, s: Buffer, l: number, p: null, r: null) => number;

    const token: (number | bigint)[] = [0];
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, token)) return (result = { state: 'failed', error: `OpenProcessToken: error ${GetLastError()}` });
    try {
      const luid = Buffer.alloc(8);
      if (!LookupPrivilegeValueW(null, 'SeDebugPrivilege', luid)) return (result = { state: 'failed', error: `LookupPrivilegeValueW: error ${GetLastError()}` });
      const ok = AdjustTokenPrivileges(token[0]!, 0, tokenPrivileges(luid), 0, null, null);
      const err = GetLastError(); // set on success too: ERROR_NOT_ALL_ASSIGNED when the privilege is not held
      if (!ok) return (result = { state: 'failed', error: `AdjustTokenPrivileges: error ${err}` });
      return (result = err === ERROR_NOT_ALL_ASSIGNED ? { state: 'not-held', error: null } : { state: 'enabled', error: null });
    } finally {
      CloseHandle(token[0]!);
    }
  } catch (err) {
    return (result = { state: 'failed', error: err instanceof Error ? err.message : String(err) });
  }
}
