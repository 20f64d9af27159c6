/**
 * Is the place we write into still the one we prepared? Asked once per poll by the writer: the
 * directory at the path must be the same directory (lstat: device and inode, as prepareLogDir saw
 * it), and every open log file must still be linked there (fstat link count > 0, and lstat of its
 * path the same device and inode). Costs one lstat plus one fstat and one lstat per open file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DirIdentity } from './log-dir';

export type PlaceChange =
  | { what: 'directory'; gone: boolean; message: string }
  | { what: 'file'; path: string; message: string }
  /** The directory cannot be examined now (e.g. EACCES on a parent): a failing write will say why. */
  | null;

/** What changed, or null when everything is where it was. `where` names the directory in messages. */
export function placeChange(dir: DirIdentity, where: string, files: readonly { path: string; fd: number | null }[]): PlaceChange {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return null;
  }
  if (!st) return { what: 'directory', gone: true, message: `log directory ${where} disappeared` };
  if (!st.isDirectory() || st.dev !== dir.dev || st.ino !== dir.ino) {
    return { what: 'directory', gone: false, message: `log directory ${where} was replaced by another ${st.isDirectory() ? 'directory' : 'file'}` };
  }
  for (const f of files) {
    if (f.fd === null) continue;
    let moved: boolean;
    try {
      const open = fs.fstatSync(f.fd);
      const there = fs.lstatSync(f.path, { throwIfNoEntry: false });
      moved = open.nlink === 0 || !there || there.ino !== open.ino || there.dev !== open.dev;
    } catch {
      moved = true;
    }
    if (moved) return { what: 'file', path: f.path, message: `log file ${path.basename(f.path)} in ${where} was deleted or replaced while recording` };
  }
  return null;
}
