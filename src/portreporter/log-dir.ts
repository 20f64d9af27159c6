/** Creating the recorder's log directory with an owner-only ACL (POSIX mode, Windows icacls). */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * The log directory, readable by administrators only: mode 0700 on POSIX (root runs the recorder);
 * on Windows inheritance is cut and only Administrators and SYSTEM get access (icacls, by SID so it
 * works in every language). An existing directory is left as the administrator set it up.
 */
export function createLogDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') {
    execFileSync('icacls', windowsLogDirAcl(dir), { stdio: 'ignore', windowsHide: true });
  } else {
    fs.chmodSync(dir, 0o700);
  }
}

/** icacls arguments that restrict a directory to Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18). */
export function windowsLogDirAcl(dir: string): string[] {
  return [dir, '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '/grant:r', '*S-1-5-18:(OI)(CI)F'];
}
