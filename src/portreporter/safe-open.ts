/**
 * Opening a log file so that nothing planted in its place is ever written, truncated or read:
 * - POSIX: O_NOFOLLOW (a symlink is refused by the kernel, ELOOP), O_NONBLOCK (a FIFO cannot block
 *   the recorder), O_EXCL where the file must be new; then fstat on the descriptor: a regular file,
 *   owned by the recorder's user, with no other hard link (a hard link to /etc/shadow in the folder
 *   would otherwise pass as "ours" for a root recorder).
 * - Windows (no O_NOFOLLOW in Node): lstat first (a symlink or junction is refused), open, then the
 *   descriptor's fstat must name the same file (volume serial + file index, Node's dev/ino) as the
 *   lstat did, so a swap between the two is caught; a regular file with one link. Owner: Windows'
 *   fstat has no owner (uid 0); the folder's ACL (Administrators and SYSTEM only) is what keeps
 *   others from planting files there. FILE_FLAG_OPEN_REPARSE_POINT through koffi would close the
 *   window completely and is the documented next step (docs/record.md).
 */
import * as fs from 'node:fs';
import { UnsafeLocationError } from './log-dir';

const C = fs.constants;
const WINDOWS = process.platform === 'win32';
const NOFOLLOW = WINDOWS ? 0 : C.O_NOFOLLOW ?? 0;
const NONBLOCK = WINDOWS ? 0 : C.O_NONBLOCK ?? 0;

function refuse(file: string, reason: string): UnsafeLocationError {
  return new UnsafeLocationError(`refusing log file ${file}: it ${reason}, not a regular file of ours; something other than the recorder put it there: move it away and check who can write the folder`);
}

/** Why an opened file is not ours to write, or null. */
export function foreignReason(st: { isFile(): boolean; nlink: number; uid: number }, uid: number | null): string | null {
  if (!st.isFile()) return 'is not a regular file';
  if (st.nlink !== 1) return st.nlink === 0 ? 'was deleted' : `has ${st.nlink} hard links`;
  if (uid !== null && st.uid !== uid) return `is owned by uid ${st.uid}`;
  return null;
}

const myUid = (): number | null => (WINDOWS || typeof process.getuid !== 'function' ? null : process.getuid());

/**
 * Opens `file` with `flags` (fs.constants), never following a link, and verifies what was opened.
 * Returns null when the file does not exist and `flags` does not create it. Throws UnsafeLocationError
 * (exit 78) for anything that is not our regular file; other errors (ENOSPC, EACCES) as they are.
 */
export function openOwnFile(file: string, flags: number, mode = 0o600): number | null {
  let before: fs.Stats | undefined;
  if (WINDOWS) {
    try {
      before = fs.lstatSync(file);
      if (before.isSymbolicLink()) throw refuse(file, 'is a symbolic link or junction');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  let fd: number;
  try {
    fd = fs.openSync(file, flags | NOFOLLOW | NONBLOCK, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw refuse(file, 'is a symbolic link');
    if (code === 'ENXIO') throw refuse(file, 'is a FIFO or socket');
    if (code === 'ENOENT' && !(flags & C.O_CREAT)) return null;
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    const reason = foreignReason(st, myUid());
    if (reason) throw refuse(file, reason);
    if (WINDOWS && before && (before.ino !== st.ino || before.dev !== st.dev)) throw refuse(file, 'was replaced while being opened');
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** A log file to append to: created owner-only, with O_EXCL when it must be new. */
export function openAppend(file: string, mustBeNew: boolean): number {
  return openOwnFile(file, C.O_WRONLY | C.O_APPEND | C.O_CREAT | (mustBeNew ? C.O_EXCL : 0))!;
}

/** The whole content of one of our log files, or null when it does not exist. */
export function readOwnFile(file: string): Buffer | null {
  const fd = openOwnFile(file, C.O_RDONLY);
  if (fd === null) return null;
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
