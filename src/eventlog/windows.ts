/**
 * The Windows Application log through advapi32 (RegisterEventSourceW / ReportEventW /
 * DeregisterEventSource; learn.microsoft.com/windows/win32/api/winbase/nf-winbase-reporteventw), via koffi.
 *
 * The message is passed as the single insertion string. Without a message file registered for the
 * source, the Event Viewer prefixes it with "The description for Event ID … cannot be found"; the exe
 * carries a message table (every EventId → "%1") so that `record --install` can register it as its own
 * EventMessageFile (see registerEventSource in ./index.ts and docs/windows-build.md).
 * Functions are declared with plain C types (no koffi.alias/pointer names): koffi's type names are
 * process-global and src/platform/windows.ts already declares its own.
 */
import { loadKoffi } from '../platform/koffi';

type Handle = unknown;

interface Advapi32 {
  RegisterEventSourceW(server: string | null, source: string): Handle | null;
  ReportEventW(h: Handle, type: number, category: number, eventId: number, sid: null, numStrings: number, dataSize: number, strings: string[], raw: null): number;
  DeregisterEventSource(h: Handle): number;
  GetLastError(): number;
}

let api: Advapi32 | undefined;

function loadAdvapi32(): Advapi32 {
  if (api) return api;
  const koffi = loadKoffi();
  const advapi32 = koffi.load('advapi32.dll');
  const kernel32 = koffi.load('kernel32.dll');
  api = {
    RegisterEventSourceW: advapi32.func('void * __stdcall RegisterEventSourceW(const char16_t *lpUNCServerName, const char16_t *lpSourceName)') as Advapi32['RegisterEventSourceW'],
    ReportEventW: advapi32.func(
      'int __stdcall ReportEventW(void *hEventLog, uint16_t wType, uint16_t wCategory, uint32_t dwEventID, void *lpUserSid, uint16_t wNumStrings, uint32_t dwDataSize, const char16_t **lpStrings, void *lpRawData)',
    ) as Advapi32['ReportEventW'],
    DeregisterEventSource: advapi32.func('int __stdcall DeregisterEventSource(void *hEventLog)') as Advapi32['DeregisterEventSource'],
    GetLastError: kernel32.func('uint32_t __stdcall GetLastError(void)') as () => number,
  };
  return api;
}

export class WindowsEventSource {
  private handle: Handle | null;
  private readonly a: Advapi32;

  /** Opens the source; throws (with the Win32 error) when RegisterEventSourceW fails, so the caller can fall back. */
  constructor(readonly source: string) {
    this.a = loadAdvapi32();
    const handle = this.a.RegisterEventSourceW(null, source);
    this.handle = handle ?? null;
    if (this.handle === null) throw new Error(`RegisterEventSourceW(${source}) failed: error ${this.a.GetLastError()}`);
  }

  /** One event; null on success, else why not. Never throws. */
  report(type: number, eventId: number, text: string): string | null {
    if (this.handle === null) return 'the event source is closed';
    try {
      if (this.a.ReportEventW(this.handle, type, 0, eventId, null, 1, 0, [text], null) !== 0) return null;
      return `ReportEventW failed: error ${this.a.GetLastError()}`;
    } catch (err) {
      return `ReportEventW failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  close(): void {
    if (this.handle === null) return;
    try {
      this.a.DeregisterEventSource(this.handle);
    } catch {
      // closing never fails the caller
    }
    this.handle = null;
  }
}
