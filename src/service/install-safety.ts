/**
 * Install safety: a boot-time recorder runs as SYSTEM (Windows) or root (Linux). If a non-administrator
 * can replace the executable, or plant a file beside it, that user gets SYSTEM/root at the next start.
 * So `record --install` refuses an executable that lives where such a user can write. The decisions
 * are pure functions over facts (decoded ACLs, stat results) that a thin layer gathers.
 */
import * as path from 'node:path';
import { aclVerdict, decodeSecurityDescriptor, isAdministrativeSid } from './acl';

export interface UnsafeLocation {
  /** The file or folder at fault. */
  path: string;
  /** Why, e.g. "BUILTIN\Users may create files (0x6)". */
  reason: string;
}

/** Facts about Windows paths, gathered through koffi (windows-scm.ts) or injected by tests. */
export interface WindowsPathFacts {
  /** The self-relative security descriptor (owner + DACL) of a file or folder. */
  securityDescriptor(path: string): Buffer;
  /** GetDriveTypeW of a drive root `X:\`. */
  driveType(root: string): number;
  /** The SID of the user running the install (an administrator: CreateServiceW requires it), trusted like Administrators. */
  installingUser: string | null;
}

const DRIVE_REMOTE = 4;

/** Is a network location? UNC (\\server\share, \\?\UNC\…) or a drive letter mapped to a share. */
export function windowsNetworkReason(exePath: string, driveType: (root: string) => number): string | null {
  if (/^\\\\\?\\UNC\\/i.test(exePath) || (/^\\\\/.test(exePath) && !/^\\\\[?.]\\[A-Za-z]:/.test(exePath))) return 'it is on a network share (UNC path)';
  const drive = /^(?:\\\\[?.]\\)?([A-Za-z]):/.exec(exePath);
  if (drive && driveType(`${drive[1]!.toUpperCase()}:\\`) === DRIVE_REMOTE) return `it is on a network drive (${drive[1]!.toUpperCase()}:)`;
  return null;
}

/**
 * The executable and its folder must be writable by administrators only (see acl.ts for the rule),
 * and local. Returns the first problem, or null when the location is safe.
 */
export function checkWindowsInstallLocation(exePath: string, facts: WindowsPathFacts): UnsafeLocation | null {
  const network = windowsNetworkReason(exePath, (root) => facts.driveType(root));
  if (network) return { path: exePath, reason: network };
  const trusted = (sid: string) => isAdministrativeSid(sid) || sid === facts.installingUser;
  for (const [p, kind] of [
    [path.win32.dirname(exePath), 'directory'],
    [exePath, 'file'],
  ] as const) {
    const verdict = aclVerdict(decodeSecurityDescriptor(facts.securityDescriptor(p)), kind, trusted);
    if (!verdict.safe) return { path: p, reason: verdict.reason! };
  }
  return null;
}

/** What Linux stat says about one path component. */
export interface PosixStat {
  uid: number;
  gid: number;
  mode: number;
  isDirectory: boolean;
}

/**
 * Linux: the executable, and every folder from its own up to /, must be writable by root only: owned
 * by root (an owner can chmod), not group-writable unless the group is root's, not world-writable.
 * A world-writable folder with the sticky bit (/tmp) is accepted above the executable's own folder:
 * others cannot rename or remove the root-owned entry inside it (path_resolution(7), sticky bit); the
 * executable's own folder never, since others could add files beside it.
 */
export function checkPosixInstallLocation(realPath: string, stat: (p: string) => PosixStat): UnsafeLocation | null {
  const chain: string[] = [];
  for (let p = realPath; ; p = path.posix.dirname(p)) {
    chain.push(p);
    if (p === '/' || p === '.' || p === '') break;
  }
  for (const [i, p] of chain.entries()) {
    const s = stat(p);
    const what = i === 0 ? 'the executable' : i === 1 ? 'its folder' : 'a parent folder';
    if (s.uid !== 0) return { path: p, reason: `${what} is owned by uid ${s.uid}, not root` };
    if (s.mode & 0o020 && s.gid !== 0) return { path: p, reason: `${what} is writable by group ${s.gid}` };
    if (s.mode & 0o002) {
      const stickyParent = s.isDirectory && (s.mode & 0o1000) !== 0 && i >= 2;
      if (!stickyParent) return { path: p, reason: `${what} is writable by every user` };
    }
  }
  return null;
}

/** The one line printed when --install refuses (exit code UnsafeLocation). */
export function refusalMessage(unsafe: UnsafeLocation, platform: 'win32' | 'linux'): string {
  const fix =
    platform === 'win32'
      ? "copy portqry-ts.exe to a folder only administrators can write, or run 'portqry-ts record --install --copy-to-program-files'"
      : 'move it to a root-owned folder that only root can write, such as /usr/local/bin';
  return `refusing to install: ${unsafe.path}: ${unsafe.reason}, so a non-administrator could replace what the service runs as ${platform === 'win32' ? 'SYSTEM' : 'root'}; ${fix}`;
}
