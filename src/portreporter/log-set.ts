/** Log sets in a folder: the files that share one suffix, and which set is the newest. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventsFileName, logFileName, type LogKind } from './write-format';

export const SET_FILE = /^PR-(PORTS|PIDS|INITIAL)-(\d{2}-\d{2}-\d{1,2}-\d{1,2}-\d{1,2}-\d{1,2}(?:-\d+)?)\.log$|^PR-EVENTS-(\d{2}-\d{2}-\d{1,2}-\d{1,2}-\d{1,2}-\d{1,2}(?:-\d+)?)\.jsonl$/;

/**
 * The suffix of the newest set in dir (by the modification time of its files), or null. lstat: a link
 * planted under a set's name counts as that set and is then refused when opened, loudly.
 */
export function newestSet(dir: string): string | null {
  let best: { suffix: string; mtime: number } | null = null;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const m = SET_FILE.exec(name);
    if (!m) continue;
    const mtime = fs.lstatSync(path.join(dir, name)).mtimeMs;
    if (!best || mtime > best.mtime) best = { suffix: (m[2] ?? m[3])!, mtime };
  }
  return best?.suffix ?? null;
}

/** The four files of the set with this suffix in dir (they need not exist). */
export function setFiles(dir: string, suffix: string): Record<LogKind | 'EVENTS', string> {
  return {
    INITIAL: path.join(dir, logFileName('INITIAL', suffix)),
    PORTS: path.join(dir, logFileName('PORTS', suffix)),
    PIDS: path.join(dir, logFileName('PIDS', suffix)),
    EVENTS: path.join(dir, eventsFileName(suffix)),
  };
}

/** One set found in a folder: its files (full paths), their total size and the newest modification. */
export interface LogSetInfo {
  suffix: string;
  files: string[];
  bytes: number;
  mtimeMs: number;
}

/** Every set in dir, oldest first (by the newest modification of its files, then by name). */
export function listSets(dir: string): LogSetInfo[] {
  const sets = new Map<string, LogSetInfo>();
  for (const name of fs.readdirSync(dir)) {
    const m = SET_FILE.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (!st) continue;
    const suffix = (m[2] ?? m[3])!;
    let set = sets.get(suffix);
    if (!set) sets.set(suffix, (set = { suffix, files: [], bytes: 0, mtimeMs: 0 }));
    set.files.push(file);
    set.bytes += st.isFile() ? st.size : 0;
    set.mtimeMs = Math.max(set.mtimeMs, st.mtimeMs);
  }
  return [...sets.values()].sort((a, b) => a.mtimeMs - b.mtimeMs || (a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0));
}
