/**
 * Registers portqry-ts as an Application log source whose message file is the exe itself (it carries a
 * message table with "%1" for every EventId, scripts/pe-identity.mjs), so the Event Viewer shows our
 * text without the "description … cannot be found" prefix. For `record --install` / `--uninstall`
 * (needs Administrators: the key is under HKLM).
 * Key: HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\<source>
 *   EventMessageFile REG_EXPAND_SZ <exe>, TypesSupported REG_DWORD 7 (error | warning | information)
 * (learn.microsoft.com/windows/win32/eventlog/event-sources). Registry handles are passed as intptr_t:
 * HKEY_LOCAL_MACHINE is the sign-extended constant 0x80000002.
 */
import { loadKoffi } from '../platform/koffi';
import { safeSource } from './format';

const HKEY_LOCAL_MACHINE = -0x7ffffffe; // (HKEY)(LONG)0x80000002, sign-extended
const KEY_WRITE = 0x20006;
const KEY_WOW64_64KEY = 0x0100;
const REG_EXPAND_SZ = 2;
const REG_DWORD = 4;
const ERROR_FILE_NOT_FOUND = 2;
const TYPES_SUPPORTED = 0x7;

export function eventSourceKey(source: string): string {
  return `SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\${safeSource(source)}`;
}

interface Reg {
  RegCreateKeyExW(h: number, sub: string, reserved: number, cls: null, options: number, sam: number, sa: null, out: number[], disposition: null): number;
  RegSetValueExW(h: number, name: string, reserved: number, type: number, data: Buffer, size: number): number;
  RegDeleteTreeW(h: number, sub: string): number;
  RegCloseKey(h: number): number;
}

let reg: Reg | undefined;
function loadReg(): Reg {
  if (reg) return reg;
  const advapi32 = loadKoffi().load('advapi32.dll');
  reg = {
    RegCreateKeyExW: advapi32.func(
      'int32_t __stdcall RegCreateKeyExW(intptr_t hKey, const char16_t *lpSubKey, uint32_t Reserved, void *lpClass, uint32_t dwOptions, uint32_t samDesired, void *lpSecurityAttributes, _Out_ intptr_t *phkResult, void *lpdwDisposition)',
    ) as Reg['RegCreateKeyExW'],
    RegSetValueExW: advapi32.func('int32_t __stdcall RegSetValueExW(intptr_t hKey, const char16_t *lpValueName, uint32_t Reserved, uint32_t dwType, const void *lpData, uint32_t cbData)') as Reg['RegSetValueExW'],
    RegDeleteTreeW: advapi32.func('int32_t __stdcall RegDeleteTreeW(intptr_t hKey, const char16_t *lpSubKey)') as Reg['RegDeleteTreeW'],
    RegCloseKey: advapi32.func('int32_t __stdcall RegCloseKey(intptr_t hKey)') as Reg['RegCloseKey'],
  };
  return reg;
}

/** Creates or updates the source's key; throws an Error naming the key and the Win32 error. */
export function registerEventSource(exePath: string, source = 'portqry-ts'): void {
  const r = loadReg();
  const key = eventSourceKey(source);
  const out = [0];
  let rc = r.RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, null, 0, KEY_WRITE | KEY_WOW64_64KEY, null, out, null);
  if (rc !== 0) throw new Error(`cannot create HKLM\\${key}: Win32 error ${rc}`);
  const h = Number(out[0]);
  try {
    const path = Buffer.from(`${exePath}\0`, 'utf16le');
    rc = r.RegSetValueExW(h, 'EventMessageFile', 0, REG_EXPAND_SZ, path, path.length);
    if (rc !== 0) throw new Error(`cannot set HKLM\\${key}\\EventMessageFile: Win32 error ${rc}`);
    const types = Buffer.alloc(4);
    types.writeUInt32LE(TYPES_SUPPORTED);
    rc = r.RegSetValueExW(h, 'TypesSupported', 0, REG_DWORD, types, 4);
    if (rc !== 0) throw new Error(`cannot set HKLM\\${key}\\TypesSupported: Win32 error ${rc}`);
  } finally {
    r.RegCloseKey(h);
  }
}

/** Removes the source's key; a key that is not there is fine. */
export function unregisterEventSource(source = 'portqry-ts'): void {
  const rc = loadReg().RegDeleteTreeW(HKEY_LOCAL_MACHINE, eventSourceKey(source));
  if (rc !== 0 && rc !== ERROR_FILE_NOT_FOUND) throw new Error(`cannot delete HKLM\\${eventSourceKey(source)}: Win32 error ${rc}`);
}

/**
 * What the Event Viewer will show for `eventId` with `text` as its insertion string, formatted the way
 * it does: FormatMessageW from the message file's message table (LoadLibraryExW as a data file).
 */
export function formatFromMessageFile(exePath: string, eventId: number, text: string): string {
  const koffi = loadKoffi();
  const kernel32 = koffi.load('kernel32.dll');
  const LoadLibraryExW = kernel32.func('intptr_t __stdcall LoadLibraryExW(const char16_t *lpLibFileName, void *hFile, uint32_t dwFlags)') as (p: string, f: null, fl: number) => number | bigint;
  const FreeLibrary = kernel32.func('int __stdcall FreeLibrary(intptr_t h)') as (h: number | bigint) => number;
  const FormatMessageW = kernel32.func('uint32_t __stdcall FormatMessageW(uint32_t dwFlags, intptr_t lpSource, uint32_t dwMessageId, uint32_t dwLanguageId, _Out_ void *lpBuffer, uint32_t nSize, void *Arguments)') as (
    f: number, s: number | bigint, id: number, lang: number, buf: Buffer, n: number, args: Buffer,
  ) => number;
  const GetLastError = kernel32.func('uint32_t __stdcall GetLastError(void)') as () => number;
  const LOAD_LIBRARY_AS_DATAFILE = 0x2;
  const LOAD_LIBRARY_AS_IMAGE_RESOURCE = 0x20;
  const h = LoadLibraryExW(exePath, null, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
  if (!h) throw new Error(`LoadLibraryExW(${exePath}) failed: error ${GetLastError()}`);
  try {
    const insertion = Buffer.from(`${text}\0`, 'utf16le');
    const args = Buffer.alloc(8);
    args.writeBigUInt64LE(BigInt(koffi.address(insertion) as bigint));
    const out = Buffer.alloc(4096);
    const FORMAT_MESSAGE_FROM_HMODULE = 0x800;
    const FORMAT_MESSAGE_ARGUMENT_ARRAY = 0x2000;
    const n = FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY, h, eventId, 0, out, out.length / 2, args);
    if (n === 0) throw new Error(`FormatMessageW(${eventId}) from ${exePath} failed: error ${GetLastError()}`);
    return out.toString('utf16le', 0, n * 2);
  } finally {
    FreeLibrary(h);
  }
}
