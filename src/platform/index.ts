import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';
import { LinuxBackend } from './linux';
import type { PlatformBackend } from './types';
import { WindowsBackend } from './windows';

export type { Endpoint, PlatformBackend, ProcessInfo, Snapshot, SnapshotOptions, TcpState } from './types';

/**
 * The backend for the OS this runs on. Each call returns a new backend with its own caches (boot
 * time, user names, SIDs), so a long-running recorder should keep one. Creating it is cheap and
 * loads no native code; both backends load koffi on their first snapshot (Linux: for NETLINK_SOCK_DIAG).
 */
export function createPlatformBackend(platform: NodeJS.Platform = process.platform): PlatformBackend {
  if (platform === 'linux') return new LinuxBackend();
  if (platform === 'win32') return new WindowsBackend();
  throw new PortqryError(`listing local ports is not supported on ${platform} (Linux and Windows only)`, ExitCode.Unavailable);
}
