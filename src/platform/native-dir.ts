/**
 * Where the standalone executable puts koffi's native module before loading it, and the checks that
 * make that place private. This is the one place that decides it (src/platform/koffi.ts calls it).
 *
 * A DLL or shared object is code: whoever can write the file or its folder runs code as us. So the
 * folder must be writable only by us (or, when we are an elevated administrator or SYSTEM, only by
 * Administrators and SYSTEM), never a shared temp folder (SYSTEM's %TEMP% is C:\Windows\Temp, where
 * every user can create files).
 *
 * - Linux: $XDG_CACHE_HOME/portqry-ts/<hash> (default ~/.cache/…), else $XDG_RUNTIME_DIR/portqry-ts/<hash>
 *   when the home folder is unusable (system users with HOME=/nonexistent); created 0700, then the real
 *   path and every folder above it are checked: owned by us or root, and not writable by group or
 *   others unless sticky (as the kernel's protected-paths rules reason).
 * - Windows, a normal user or SYSTEM: %LOCALAPPDATA%\portqry-ts\<hash>. A profile's AppData is private
 *   to its user, SYSTEM and Administrators by default (SYSTEM's is under
 *   %SystemRoot%\System32\config\systemprofile).
 * - Windows, an elevated administrator (token integrity High, S-1-16-12288): %ProgramData%\portqry-ts\<hash>
 *   with its DACL replaced by Administrators + SYSTEM only, because the admin's own AppData is writable by
 *   that admin's non-elevated processes. ProgramData lets users create folders, so a folder someone else
 *   created first is taken over (owner and DACL reset) and then checked. koffi (and so the Win32 security
 *   API) is not loaded yet at this point, so the ACL is set and read with %SystemRoot%\System32\icacls.exe
 *   (by full path: a bare name is looked up in the current folder first) and read back as SDDL.
 * PORTQRY_NATIVE_DIR overrides the base folder; the same checks apply to it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { system32Program } from './system32';

export class NativeDirError extends Error {}

export interface NativeDirPlan {
  dir: string;
  /** 'user': private to the current user; 'admins': Administrators and SYSTEM only (elevated Windows). */
  scope: 'user' | 'admins';
}

/** The folder for the native module with this sha256 (the first 16 hex digits name it). */
export function planNativeDir(hash: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): NativeDirPlan {
  const leaf = hash.slice(0, 16);
  if (env.PORTQRY_NATIVE_DIR) return { dir: path.join(env.PORTQRY_NATIVE_DIR, leaf), scope: platform === 'win32' && windowsElevated(env) ? 'admins' : 'user' };
  if (platform === 'win32') {
    if (windowsElevated(env) && !windowsSystem(env)) {
      const programData = env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData';
      return { dir: path.win32.join(programData, 'portqry-ts', leaf), scope: 'admins' };
    }
    const local = env.LOCALAPPDATA ?? path.win32.join(os.homedir(), 'AppData', 'Local');
    return { dir: path.win32.join(local, 'portqry-ts', leaf), scope: 'user' };
  }
  const home = os.homedir();
  const cache = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(home, '.cache');
  if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR) && !usableHome(home)) return { dir: path.join(env.XDG_RUNTIME_DIR, 'portqry-ts', leaf), scope: 'user' };
  return { dir: path.join(cache, 'portqry-ts', leaf), scope: 'user' };
}

function usableHome(home: string): boolean {
  try {
    const st = fs.statSync(home);
    return st.isDirectory() && (typeof process.getuid !== 'function' || st.uid === process.getuid());
  } catch {
    return false;
  }
}

/** SYSTEM (a service's account): its profile is %SystemRoot%\System32\config\systemprofile. */
function windowsSystem(env: NodeJS.ProcessEnv): boolean {
  return /\\config\\systemprofile(\\|$)/i.test(env.USERPROFILE ?? env.LOCALAPPDATA ?? '') || (env.USERNAME ?? '').toUpperCase() === 'SYSTEM';
}

let elevated: boolean | undefined;
/**
 * Whether our token is elevated (High or System integrity), asked of whoami.exe by full path because
 * koffi is not loaded yet. When whoami cannot answer we fall back to the user's own folder.
 */
function windowsElevated(env: NodeJS.ProcessEnv): boolean {
  if (elevated !== undefined) return elevated;
  if (windowsSystem(env)) return (elevated = true);
  const whoami = system32Program('whoami.exe', env);
  const r = spawnSync(whoami, ['/groups', '/fo', 'csv', '/nh'], { encoding: 'utf8', windowsHide: true, timeout: 10_000 });
  elevated = r.status === 0 && /S-1-16-(12288|16384)/.test(r.stdout ?? '');
  return elevated;
}

/**
 * Creates the folder if needed and proves it private; throws NativeDirError (one line, naming the
 * folder and the reason) when it is not and cannot be made so.
 */
export function ensurePrivateDir(plan: NativeDirPlan, platform: NodeJS.Platform = process.platform): void {
  try {
    fs.mkdirSync(plan.dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new NativeDirError(`cannot create the native module folder ${plan.dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (platform === 'win32') {
    if (plan.scope === 'admins') restrictToAdmins(plan.dir);
    return; // a user's AppData is private by its inherited ACL (see the file comment)
  }
  checkPosixPrivate(plan.dir);
}

/** The real path and every folder above it: owned by us or root, not group/other-writable unless sticky. */
export function checkPosixPrivate(dir: string): void {
  const uid = process.getuid?.() ?? 0;
  const leaf = fs.lstatSync(dir);
  if (leaf.isSymbolicLink()) throw new NativeDirError(`native module folder ${dir} is a symbolic link: refusing to load code from it`);
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch (err) {
    throw new NativeDirError(`cannot resolve the native module folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const st = fs.statSync(real);
  if (st.uid !== uid) throw new NativeDirError(`native module folder ${real} is owned by uid ${st.uid}, not us (${uid}): refusing to load code from it`);
  if ((st.mode & 0o077) !== 0) {
    // ours: tighten it (an older version created it 0755), then check again
    fs.chmodSync(real, 0o700);
    if ((fs.statSync(real).mode & 0o077) !== 0) throw new NativeDirError(`native module folder ${real} is open to other users`);
  }
  for (let p = path.dirname(real); ; p = path.dirname(p)) {
    const a = fs.statSync(p);
    if (a.uid !== uid && a.uid !== 0) throw new NativeDirError(`${p} (above the native module folder) is owned by uid ${a.uid}: refusing to load code below it`);
    if ((a.mode & 0o022) !== 0 && (a.mode & 0o1000) === 0) throw new NativeDirError(`${p} (above the native module folder) is writable by other users: refusing to load code below it`);
    if (p === path.dirname(p)) break;
  }
}

/** Windows, elevated: Administrators (S-1-5-32-544) own the folder; the DACL is Administrators and SYSTEM only, not inherited. */
function restrictToAdmins(dir: string): void {
  const icacls = system32Program('icacls.exe');
  const run = (args: string[]) => spawnSync(icacls, args, { encoding: 'utf8', windowsHide: true, timeout: 30_000 });
  // The parent (…\portqry-ts) too: whoever controls it could rename our folder away and put theirs in its place.
  for (const d of [path.win32.dirname(dir), dir]) {
    const own = run([d, '/setowner', '*S-1-5-32-544', '/C', '/Q']);
    const acl = run([d, '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '*S-1-5-18:(OI)(CI)F', '/C', '/Q']);
    if (own.status !== 0 || acl.status !== 0) throw new NativeDirError(`cannot restrict ${d} to Administrators and SYSTEM (icacls exit ${own.status}/${acl.status})`);
    const sddl = readSddl(run, d);
    if (sddl !== null && !adminsOnlySddl(sddl)) throw new NativeDirError(`${d} is not restricted to Administrators and SYSTEM (${sddl}): refusing to load code from it`);
  }
}

/** icacls /save writes "name\r\nSDDL" in UTF-16; it goes into the folder itself, which only admins can write now. */
function readSddl(run: (args: string[]) => ReturnType<typeof spawnSync>, dir: string): string | null {
  const file = path.win32.join(dir, `acl-${process.pid}.txt`);
  try {
    if (run([dir, '/save', file, '/C', '/Q']).status !== 0) return null;
    const text = fs.readFileSync(file).toString('utf16le').replace(/^\ufeff/, '');
    return text.split(/\r?\n/).find((l) => l.startsWith('D:') || l.includes('D:')) ?? null;
  } catch {
    return null;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Every allow ACE is for Administrators (BA / S-1-5-32-544) or SYSTEM (SY / S-1-5-18); owner BA or SY; DACL protected. */
export function adminsOnlySddl(sddl: string): boolean {
  const owner = /O:([A-Z]{2}|S-[\d-]+)/.exec(sddl)?.[1];
  if (owner && !['BA', 'SY', 'S-1-5-32-544', 'S-1-5-18'].includes(owner)) return false;
  const dacl = /D:([A-Z]*)((?:\([^)]*\))*)/.exec(sddl);
  if (!dacl || !dacl[1]!.includes('P')) return false;
  const aces = [...dacl[2]!.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]!.split(';'));
  return aces.length > 0 && aces.every((a) => a[0] !== 'A' || ['BA', 'SY', 'S-1-5-32-544', 'S-1-5-18'].includes(a[5] ?? ''));
}
