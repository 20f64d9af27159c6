/**
 * Which process holds which socket, kept between snapshots. Matching socket inodes with /proc/PID/fd
 * links is what `ss -p` does, and it is the dominant cost of a snapshot (measured with
 * scripts/bench/snapshot: one readlink per open descriptor of every process, ~6 µs each). A recorder polling every second would
 * redo that whole walk each time for an answer that has not changed, so this index remembers each
 * process's socket inodes and re-reads a descriptor table only when something says it changed:
 *
 * - Every owner named in a snapshot is checked with one stat() of its /proc/PID/fd: the size is the
 *   number of open descriptors (Linux ≥ 6.2; on older kernels, where it is 0, a readdir counts them)
 *   and the inode number is that procfs directory's, which is new for a new process, so a reused PID
 *   never inherits its predecessor's sockets. Any difference → that table is read again.
 * - A socket inode no remembered table holds (a new socket, or one whose holder dropped it) starts a
 *   walk over /proc in ascending PID order that re-reads the tables that changed or were never read,
 *   then, if some inode is still not found (its process closed a descriptor and opened the socket
 *   between two polls, so the size did not change), every other table; it stops once every such
 *   inode is found. An inode that even the second pass did not find is held where we cannot look
 *   (another PID namespace, another user's process without root) and is not looked for again until
 *   the next full rebuild, so it does not cost a walk at every poll.
 * - What this cannot see at once: a table that changed without changing size and gained or lost only
 *   sockets that already had an owner (a socket passed on while another descriptor opened). The whole
 *   index is rebuilt every `fullWalkMs` (default 60 s), which bounds how long such a change can hide.
 *
 * A socket shared by several processes (after fork, or passed over a UNIX socket) is named by the
 * lowest PID among the holders whose tables are known: when it is first found that is the lowest PID
 * holding it, as a fresh walk in PID order (and `ss`) would say, normally the parent that opened it.
 * A process that receives it later is not looked at until its table is read again (a walk, the
 * rebuild), so the owner does not flip when a worker inherits a listener.
 */
import * as fs from 'node:fs';
import { type FdLinks, fsFdLinks } from './linux-fdlinks';

/** What one /proc/PID/fd looked like when it was read. */
interface FdTable {
  /** Inode number of the /proc/PID/fd directory: changes when the PID belongs to a new process. */
  dirInode: number;
  /** Open descriptors then (-1 when the directory could not be stat'ed). */
  fdCount: number;
  /** Socket inodes among them (empty when the table may not be read: another user's process). */
  sockets: Set<number>;
}

export interface OwnerLookup {
  /** Socket inode → lowest PID holding it, for the wanted inodes that some readable process holds. */
  owners: Map<number, number>;
  /** PIDs listed in /proc, when this lookup listed it (a walk); null when no walk was needed. */
  alive: Set<number> | null;
}

export interface SocketOwnerIndexOptions {
  /** Rebuild everything this often (ms); 0 rebuilds at every lookup, as a one-shot snapshot does. */
  fullWalkMs?: number;
  /** Monotonic clock (ms); tests inject one. */
  now?: () => number;
  /** How descriptor links are read (linux-fdlinks.ts); fs.readlinkSync by default. */
  links?: FdLinks;
}

export class SocketOwnerIndex {
  private tables = new Map<number, FdTable>();
  /** Wanted inodes a complete walk did not find. */
  private unseen = new Set<number>();
  private lastFullWalk = -Infinity;
  private readonly fullWalkMs: number;
  private readonly now: () => number;
  private readonly links: FdLinks;
  /** Counters for tests and benchmarks: descriptor tables read, /proc walks. */
  readonly stats = { tablesRead: 0, walks: 0, fullWalks: 0 };

  constructor(
    private readonly proc = '/proc',
    options: SocketOwnerIndexOptions = {},
  ) {
    this.fullWalkMs = options.fullWalkMs ?? 60_000;
    this.now = options.now ?? (() => performance.now());
    this.links = options.links ?? fsFdLinks;
  }

  lookup(wanted: ReadonlySet<number>): OwnerLookup {
    const now = this.now();
    const full = now - this.lastFullWalk >= this.fullWalkMs;
    if (full) {
      this.tables.clear();
      this.unseen.clear();
      this.lastFullWalk = now;
      this.stats.fullWalks++;
    }
    // PIDs whose table was checked (size and identity) in this lookup, and those actually re-read.
    const checked = new Set<number>();
    const reread = new Set<number>();
    let owners = this.ownersOf(wanted);
    for (;;) {
      let changed = false;
      for (const pid of new Set(owners.values())) {
        if (checked.has(pid)) continue;
        checked.add(pid);
        if (this.refresh(pid, false)) {
          reread.add(pid);
          changed = true;
        }
      }
      if (!changed) break;
      owners = this.ownersOf(wanted);
    }
    const missing = new Set<number>();
    for (const inode of this.unseen) if (!wanted.has(inode) || owners.has(inode)) this.unseen.delete(inode);
    if (owners.size + this.unseen.size < wanted.size) {
      for (const inode of wanted) if (!owners.has(inode) && !this.unseen.has(inode)) missing.add(inode);
    }
    if (missing.size === 0) return { owners, alive: null };

    // Some wanted inodes have no known holder: walk /proc in PID order. First pass: re-read only the
    // tables that changed size or identity. Second pass, if that was not enough (a process closed
    // one descriptor and opened a socket between two polls, so its size did not change): re-read
    // every table not yet read in this lookup. Both stop once every missing inode is found.
    this.stats.walks++;
    const pids = listPids(this.proc);
    const alive = new Set(pids);
    for (const pid of this.tables.keys()) if (!alive.has(pid)) this.tables.delete(pid);
    for (const force of [false, true]) {
      for (const pid of pids) {
        if (missing.size === 0) break;
        if (force ? reread.has(pid) : checked.has(pid)) continue;
        checked.add(pid);
        if (this.refresh(pid, force)) reread.add(pid);
        const table = this.tables.get(pid);
        if (table) for (const inode of table.sockets) missing.delete(inode);
      }
    }
    for (const inode of missing) this.unseen.add(inode);
    // A re-read table may also hold an inode that already had a (higher) owner: recount from the tables.
    return { owners: this.ownersOf(wanted), alive };
  }

  /**
   * Reads /proc/PID/fd again when forced, or when its size or identity changed (or it was never
   * read); true if the remembered table was replaced or dropped.
   */
  private refresh(pid: number, force: boolean): boolean {
    const dir = `${this.proc}/${pid}/fd`;
    const known = this.tables.get(pid);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(dir, { throwIfNoEntry: false });
    } catch {
      st = undefined; // EACCES on a hidepid mount: treat as unreadable
    }
    if (!st) {
      // Exited (or hidden): it holds nothing we can see.
      if (!known) return false;
      this.tables.delete(pid);
      return true;
    }
    let fds: string[] | null = null;
    let fdCount = st.size;
    if (fdCount === 0) {
      // Kernels before 6.2 report 0 here: count the entries instead (one getdents, no readlinks).
      try {
        fds = fs.readdirSync(dir);
        fdCount = fds.length;
      } catch {
        fdCount = -1;
      }
    }
    if (!force && known && known.dirInode === st.ino && known.fdCount === fdCount) return false;

    this.stats.tablesRead++;
    const sockets = new Set<number>();
    try {
      fds ??= fs.readdirSync(dir);
    } catch {
      fds = []; // EACCES (another user's process) or ENOENT (exited meanwhile): no sockets we can see
    }
    this.links.socketInodes(`${dir}/`, fds, (inode) => sockets.add(inode));
    // The size read before the links: if the table changed during the read, the next check differs.
    this.tables.set(pid, { dirInode: st.ino, fdCount, sockets });
    return true;
  }

  /** Lowest PID among the remembered tables holding each wanted inode. */
  private ownersOf(wanted: ReadonlySet<number>): Map<number, number> {
    const owners = new Map<number, number>();
    for (const [pid, table] of this.tables) {
      for (const inode of table.sockets) {
        if (!wanted.has(inode)) continue;
        const current = owners.get(inode);
        if (current === undefined || pid < current) owners.set(inode, pid);
      }
    }
    return owners;
  }
}

/** The PIDs in /proc (its numeric entries), ascending. */
function listPids(proc: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync(proc)) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}

/**
 * Owners for one snapshot that is not followed by another (`record --once`): socket inode → lowest
 * PID holding it, for the wanted inodes, as SocketOwnerIndex's first lookup gives (the same walk in
 * ascending PID order, stopping once every wanted inode is found) without keeping a table of every
 * process's sockets for a next lookup, and without the stat() of each /proc/PID/fd that a next lookup
 * would compare with (a directory that cannot be read holds nothing we can see, as there).
 */
export function socketOwnersOnce(proc: string, wanted: ReadonlySet<number>, links: FdLinks = fsFdLinks): Map<number, number> {
  const owners = new Map<number, number>();
  let missing = wanted.size;
  for (const pid of listPids(proc)) {
    if (missing === 0) break;
    const dir = `${proc}/${pid}/fd/`;
    let fds: string[];
    try {
      fds = fs.readdirSync(dir);
    } catch {
      continue; // exited, or another user's process (EACCES): no sockets we can see
    }
    links.socketInodes(dir, fds, (inode) => {
      if (wanted.has(inode) && !owners.has(inode)) {
        owners.set(inode, pid);
        missing--;
      }
    });
  }
  return owners;
}
