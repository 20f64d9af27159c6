/**
 * The recorder's log directory: made safe before anything is written, and created owner-only.
 *
 * A root (or SYSTEM) recorder writes into this directory for months. If any other user can write the
 * directory, or any directory above it, that user can plant symlinks or swap the directory and turn
 * the recorder's appends and repairs against any file on the host (issue 12). So, as sshd's
 * StrictModes does for authorized_keys, every component of the real path, from the log directory up
 * to `/`, must be owned by root or by the recorder's own user and not writable by group or others.
 * One exception for parents only: a sticky directory (such as /tmp, mode 1777) is acceptable above a
 * child that is ours, because the sticky bit stops others from renaming or deleting that child. The
 * log directory itself is never acceptable writable by others, sticky or not: we create files in it
 * by name.
 *
 * Windows: a new directory gets an ACL of Administrators and SYSTEM only (icacls, by SID); an existing
 * one is not inspected here yet (see docs/record.md "What was verified where").
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';

/** A directory or file the recorder refuses to use because another user could control it. */
export class UnsafeLocationError extends PortqryError {
  constructor(message: string) {
    super(message, ExitCode.UnsafeLocation);
  }
}

/** Identity of the directory we write into: compared at every poll to notice a swap. */
export interface DirIdentity {
  /** The real path (symlinks above it resolved once, at preparation). */
  path: string;
  dev: number;
  ino: number;
}

/** Who may own a directory we trust: root and the recorder's own user. */
export interface Ownership {
  uid: number;
}

function currentOwnership(): Ownership | null {
  return typeof process.getuid === 'function' ? { uid: process.getuid() } : null;
}

const mode = (m: number) => (m & 0o7777).toString(8).padStart(4, '0');

/**
 * Why a directory (its owner and mode) is unsafe, or null. `childUid` is the owner of the component
 * below it when it is a parent; undefined for the log directory itself.
 */
export function unsafeReason(st: { uid: number; mode: number }, who: Ownership, childUid?: number): string | null {
  if (st.uid !== 0 && st.uid !== who.uid) return `is owned by uid ${st.uid}, not by root or the recorder's user (uid ${who.uid})`;
  if ((st.mode & 0o022) === 0) return null;
  const sticky = (st.mode & 0o1000) !== 0;
  if (childUid !== undefined && sticky && (childUid === 0 || childUid === who.uid)) return null;
  return `is writable by other users (mode ${mode(st.mode)})${sticky && childUid === undefined ? ', sticky or not' : ''}`;
}

function unsafe(dir: string, component: string, reason: string): UnsafeLocationError {
  const fix = component === dir ? `chmod go-w '${component}' and chown it to root, or choose another --log-dir` : `make '${component}' writable by root only (chmod go-w, chown root), or choose a --log-dir under a directory only root can write`;
  return new UnsafeLocationError(`unsafe log directory ${dir}: ${component} ${reason}; ${fix}`);
}

/** Checks a directory that exists (its real path) and every parent up to `/`; throws UnsafeLocationError. */
export function checkDirChain(dir: string, realDir: string, who: Ownership, isLogDir = true): void {
  let current = realDir;
  // Below an existing parent we create the rest ourselves: the child is ours.
  let childUid: number | undefined = isLogDir ? undefined : who.uid;
  for (;;) {
    const st = fs.statSync(current);
    const reason = unsafeReason(st, who, childUid);
    if (reason) throw unsafe(dir, current, reason);
    const parent = path.dirname(current);
    if (parent === current) return;
    childUid = st.uid;
    current = parent;
  }
}

function createError(err: unknown, dir: string, component: string): PortqryError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return new PortqryError(`cannot create log directory ${dir}: permission denied at ${component}`, ExitCode.NoPermission);
  if (code === 'ENOTDIR') return new PortqryError(`cannot use log directory ${dir}: ${component} is not a directory`, ExitCode.CantCreate);
  const what = code === 'ENOENT' ? 'the file system does not allow it' : err instanceof Error ? err.message : String(err);
  return new PortqryError(`cannot create log directory ${dir}: ${component}: ${what}`, ExitCode.CantCreate);
}

/**
 * Makes `dir` ready to write into: checks the existing part of the path, creates what is missing one
 * level at a time (mode 0700; on Windows with the Administrators+SYSTEM ACL), checks the result, and
 * returns its identity. Throws UnsafeLocationError (78), or a PortqryError naming the path (73, 77).
 */
export function prepareLogDir(dir: string, who: Ownership | null = currentOwnership()): DirIdentity {
  if (dir === '' || !path.isAbsolute(dir)) throw new PortqryError(`log directory '${dir}' is not an absolute path`, ExitCode.Usage);
  // The longest part of the path that exists, resolved (symlinks such as /var/run -> /run), then the rest.
  const missing: string[] = [];
  let existing = path.resolve(dir);
  let real: string;
  for (;;) {
    try {
      real = fs.realpathSync(existing);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw createError(err, dir, existing);
      const parent = path.dirname(existing);
      if (parent === existing) throw createError(err, dir, existing);
      missing.unshift(path.basename(existing));
      existing = parent;
    }
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch (err) {
    throw createError(err, dir, real);
  }
  if (!st.isDirectory()) throw new PortqryError(`cannot use log directory ${dir}: ${existing} is not a directory`, ExitCode.CantCreate);
  if (who) checkDirChain(dir, real, who, missing.length === 0);
  let current = real;
  for (const name of missing) {
    current = path.join(current, name);
    try {
      fs.mkdirSync(current, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw createError(err, dir, current);
    }
    if (process.platform === 'win32') {
      execFileSync('icacls', windowsLogDirAcl(current), { stdio: 'ignore', windowsHide: true });
    } else {
      fs.chmodSync(current, 0o700);
    }
  }
  // Checked again as a whole: a component created by someone else between our checks is caught here.
  if (who) checkDirChain(dir, current, who, true);
  const final = fs.lstatSync(current);
  if (!final.isDirectory()) throw new PortqryError(`cannot use log directory ${dir}: not a directory`, ExitCode.CantCreate);
  return { path: current, dev: final.dev, ino: final.ino };
}

/**
 * The log directory, readable by administrators only: mode 0700 on POSIX (root runs the recorder);
 * on Windows inheritance is cut and only Administrators and SYSTEM get access (icacls, by SID so it
 * works in every language). An existing directory is left as the administrator set it up.
 */
export function createLogDir(dir: string): void {
  prepareLogDir(path.resolve(dir));
}

/** icacls arguments that restrict a directory to Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18). */
export function windowsLogDirAcl(dir: string): string[] {
  return [dir, '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '/grant:r', '*S-1-5-18:(OI)(CI)F'];
}
