/**
 * Linux backend: sockets through NETLINK_SOCK_DIAG (linux-netlink.ts; /proc/net/{tcp,tcp6,udp,udp6}
 * when netlink is refused), owners by matching socket inodes with /proc/PID/fd links
 * (what `ss -p` and `netstat -p` do; remembered between snapshots of one backend, linux-owners.ts),
 * process details from /proc/PID/*. Decoding lives in linux-decode.ts and linux-sockdiag.ts; this
 * file only reads. Synchronous reads on purpose: thousands of tiny procfs reads are several times
 * faster sync than through the libuv thread pool, and a snapshot is one burst of them.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  parseBootTime,
  parseCgroupUnits,
  parseCmdline,
  parseMapsModules,
  parsePasswd,
  ProcNetDecoder,
  parseProcStat,
  parseStatusEffectiveUid,
  processStartTime,
  type ProcNetRow,
} from './linux-decode';
import { type FdLinks, fsFdLinks, libcFdLinks } from './linux-fdlinks';
import { SockDiagReader } from './linux-netlink';
import { SocketOwnerIndex, socketOwnersOnce, type SocketOwnerIndexOptions } from './linux-owners';
import { InetDiagDecoder, InetDiagOnceDecoder, type OnceRow } from './linux-sockdiag';
import { replaceCached, type Endpoint, type PlatformBackend, type ProcessInfo, type Snapshot, type SnapshotOptions } from './types';

const PROC_NET_FILES = [
  ['tcp', 'TCP', 4],
  ['tcp6', 'TCP', 6],
  ['udp', 'UDP', 4],
  ['udp6', 'UDP', 6],
] as const;

/** One socket table, read from /proc/net/<file> or dumped through NETLINK_SOCK_DIAG. */
class SocketTable {
  readonly text: ProcNetDecoder;
  readonly diag: InetDiagDecoder;
  /** Cleared for good when a dump fails (no tcp_diag/udp_diag module, no koffi): /proc from then on. */
  diagWorks = true;

  constructor(readonly file: string, protocol: 'TCP' | 'UDP', family: 4 | 6) {
    this.text = new ProcNetDecoder(protocol, family);
    this.diag = new InetDiagDecoder(protocol, family);
  }
}

export interface LinuxBackendOptions {
  /** procfs mount point; tests point it elsewhere. */
  procRoot?: string;
  /** The user database; tests inject one. */
  users?: UserDirectory;
  /** How socket owners are remembered between snapshots (linux-owners.ts); tests tune it. */
  owners?: SocketOwnerIndexOptions;
  /**
   * Dump the socket tables through NETLINK_SOCK_DIAG (default: true when
   * procRoot is the real /proc, since netlink answers for the live kernel only); tests pass a reader.
   */
  sockDiag?: boolean | Pick<SockDiagReader, 'dump'>;
  /** How /proc/PID/fd links are read (linux-fdlinks.ts); default: through libc when sockDiag is on, else fs. */
  links?: FdLinks;
}

export class LinuxBackend implements PlatformBackend {
  readonly name = 'linux' as const;
  private readonly proc: string;
  private readonly users: UserDirectory;
  private readonly owners: SocketOwnerIndex;
  private readonly tables = PROC_NET_FILES.map(([file, protocol, family]) => new SocketTable(file, protocol, family));
  private readonly sockDiag: Pick<SockDiagReader, 'dump'> | null;
  private readonly links: FdLinks;
  private readonly endpointOf = new WeakMap<ProcNetRow, Endpoint>();
  private bootTime: number | undefined;

  constructor(options: LinuxBackendOptions = {}) {
    this.proc = options.procRoot ?? '/proc';
    this.users = options.users ?? new SystemUserDirectory();
    const sockDiag = options.sockDiag ?? this.proc === '/proc';
    this.sockDiag = typeof sockDiag === 'object' ? sockDiag : sockDiag ? new SockDiagReader() : null;
    // Descriptor links through libc where the dumps load koffi anyway (the real /proc); a backend that
    // reads /proc/net text alone loads no native code for its links either.
    this.links = options.links ?? (sockDiag === true ? libcFdLinks() : fsFdLinks);
    this.owners = new SocketOwnerIndex(this.proc, { links: this.links, ...options.owners });
  }

  async snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    const takenAt = new Date();
    const rows = this.readSocketTables();
    const wanted = new Set<number>();
    for (const row of rows) if (row.inode !== 0) wanted.add(row.inode);
    const { owners, alive } = this.owners.lookup(wanted);

    const endpoints: Endpoint[] = [];
    for (const row of rows) {
      const pid = owners.get(row.inode) ?? null;
      // An unchanged socket with the same owner is the same (immutable) object as in the last snapshot.
      let endpoint = this.endpointOf.get(row);
      if (!endpoint || endpoint.pid !== pid) {
        endpoint = endpointOf(row, pid);
        this.endpointOf.set(row, endpoint);
      }
      endpoints.push(endpoint);
    }

    const cache = options.processCache;
    if (cache && alive) {
      for (const key of cache.keys()) if (!alive.has(Number(key.slice(0, key.indexOf(':'))))) cache.delete(key);
    }
    const processes = await this.readProcesses(new Set(owners.values()), options.modules ?? true, cache);
    return { takenAt, computerName: os.hostname(), endpoints, processes };
  }

  /**
   * One snapshot with nothing kept for a next one (`record --once`; never the recorder, whose polls are
   * cheap because of what snapshot() remembers): the same endpoints and processes as the first
   * snapshot() of a new backend, with fewer objects alive until the output is written. The dump's
   * rows are the endpoints (InetDiagOnceDecoder), owners come from one walk of /proc that keeps only
   * the answer (socketOwnersOnce), and no memo of rows, endpoints or descriptor tables is filled.
   * Tables refused by sock_diag are read from /proc/net as in snapshot().
   */
  async snapshotOnce(options: SnapshotOptions = {}): Promise<Snapshot> {
    const takenAt = new Date();
    const rows = this.readSocketTables(true) as OnceRow[];
    const wanted = new Set<number>();
    for (const row of rows) if (row.inode !== 0) wanted.add(row.inode);
    const owners = socketOwnersOnce(this.proc, wanted, this.links);
    const pids = new Set<number>();
    for (const row of rows) {
      const pid = owners.get(row.inode);
      if (pid !== undefined) {
        row.pid = pid;
        pids.add(pid);
      }
    }
    // snapshot() names processes in the order of the owners map (first found); the order is not output.
    const processes = await this.readProcesses(pids, options.modules ?? true, options.processCache);
    return { takenAt, computerName: os.hostname(), endpoints: rows, processes };
  }

  private async readProcesses(pids: Iterable<number>, withModules: boolean, cache?: Map<string, ProcessInfo>): Promise<Map<number, ProcessInfo>> {
    const processes = new Map<number, ProcessInfo>();
    const uidsToName = new Map<ProcessInfo, number>();
    for (const pid of pids) {
      const { info, uid } = this.readProcess(pid, withModules, cache);
      processes.set(pid, info);
      if (uid !== null) uidsToName.set(info, uid);
    }
    if (uidsToName.size > 0) {
      const names = await this.users.lookup([...new Set(uidsToName.values())]);
      for (const [info, uid] of uidsToName) info.user = names.get(uid) ?? String(uid);
    }
    return processes;
  }

  /**
   * Every snapshot, the first included, dumps the socket tables through NETLINK_SOCK_DIAG (what `ss`
   * reads): the kernel fills binary messages instead of printing /proc/net text, which with 10,000
   * sockets costs less even with koffi's load (docs/benchmarks.md, snapshot). A table whose dump fails
   * (no tcp_diag/udp_diag module, netlink refused by a seccomp or LSM policy, no koffi) is read from
   * /proc/net from then on, the same rows (test/unit/platform/linux-sockdiag.test.ts).
   */
  private readSocketTables(once = false): ProcNetRow[] {
    const rows: ProcNetRow[] = [];
    const diag = this.sockDiag;
    for (const table of this.tables) {
      if (diag && table.diagWorks) {
        try {
          for (const row of diag.dump(once ? new InetDiagOnceDecoder(table.diag.protocol, table.diag.family) : table.diag)) rows.push(row);
          continue;
        } catch {
          table.diagWorks = false;
        }
      }
      let text: string;
      try {
        text = fs.readFileSync(`${this.proc}/net/${table.file}`, 'latin1');
      } catch (err) {
        // No tcp6/udp6 when IPv6 is disabled (ipv6.disable=1): that family simply has no sockets.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (once) {
        // Endpoint-shaped rows, as InetDiagOnceDecoder's (a fresh decoder: nothing kept for a next read).
        for (const row of new ProcNetDecoder(table.text.protocol, table.text.family).decode(text)) rows.push({ ...endpointOf(row, null), uid: row.uid, inode: row.inode } satisfies OnceRow);
      } else {
        for (const row of table.text.decode(text)) rows.push(row);
      }
    }
    return rows;
  }


  /**
   * /proc/PID/maps has no size or mtime that changes (procfs reports 0 and the process's start), so the
   * check is the module list itself: one read of maps, parsed and compared. It runs only for a process
   * that opened a new endpoint, at most once per poll.
   */
  refreshModules(info: ProcessInfo, cache?: Map<string, ProcessInfo>): ProcessInfo | null {
    let modules: string[];
    try {
      modules = parseMapsModules(fs.readFileSync(`${this.proc}/${info.pid}/maps`, 'utf8'));
    } catch {
      return null; // exited or denied: keep what was read
    }
    if (modules.length === info.modules.length && modules.every((m, i) => m === info.modules[i])) return null;
    const next: ProcessInfo = { ...info, modules };
    replaceCached(cache, info, next);
    return next;
  }

  private readProcess(pid: number, withModules: boolean, cache?: Map<string, ProcessInfo>): { info: ProcessInfo; uid: number | null } {
    const base = `${this.proc}/${pid}`;
    let stat;
    try {
      stat = parseProcStat(fs.readFileSync(`${base}/stat`, 'utf8'));
    } catch {
      return { info: emptyProcess(pid, 'exited'), uid: null };
    }
    const key = `${pid}:${stat.startTicks}`;
    const cached = cache?.get(key);
    if (cached) return { info: cached, uid: null };

    const denied: string[] = [];
    const read = <T>(what: string, fn: () => T, fallback: T): T => {
      try {
        return fn();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') denied.push(what);
        return fallback;
      }
    };
    let path = read('path', () => fs.readlinkSync(`${base}/exe`), null as string | null);
    if (path?.endsWith(' (deleted)')) path = path.slice(0, -' (deleted)'.length);
    const commandLine = read('command line', () => parseCmdline(fs.readFileSync(`${base}/cmdline`)), null);
    const uid = read('user', () => parseStatusEffectiveUid(fs.readFileSync(`${base}/status`, 'utf8')), null);
    const services = read('services', () => parseCgroupUnits(fs.readFileSync(`${base}/cgroup`, 'utf8')), [] as string[]);
    const modules = withModules ? read('modules', () => parseMapsModules(fs.readFileSync(`${base}/maps`, 'utf8')), [] as string[]) : [];

    const info: ProcessInfo = {
      pid,
      startTime: processStartTime(this.readBootTime(), stat.startTicks),
      name: imageName(stat.comm, path),
      path,
      commandLine,
      user: null,
      // Frozen: shared by every endpoint of the process, so the JSON encoder writes each list once
      // and copies its bytes after (output/record-kind.ts).
      services: Object.freeze(services) as string[],
      modules: Object.freeze(modules) as string[],
      note: denied.length > 0 ? `access denied: ${denied.join(', ')}` : null,
    };
    cache?.set(key, info);
    return { info, uid };
  }

  private readBootTime(): number {
    this.bootTime ??= parseBootTime(fs.readFileSync(`${this.proc}/stat`, 'utf8'));
    return this.bootTime;
  }
}

function endpointOf(row: ProcNetRow, pid: number | null): Endpoint & { creationTime: null } {
  return {
    protocol: row.protocol,
    family: row.family,
    localAddress: row.localAddress,
    localPort: row.localPort,
    remoteAddress: row.remoteAddress,
    remotePort: row.remotePort,
    state: row.state,
    pid,
    // Neither /proc/net nor sock_diag says when a socket was created.
    creationTime: null,
  };
}

/**
 * comm is cut at 15 characters; when the executable's file name continues it, the file name is the
 * real name (psutil's Process.name() does the same). Otherwise comm, which is what ps, top and ss
 * show (a script run by python3 is "python3" there too).
 */
function imageName(comm: string, path: string | null): string {
  if (comm.length >= 15 && path) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    if (file.startsWith(comm)) return file;
  }
  return comm;
}

function emptyProcess(pid: number, note: string): ProcessInfo {
  return { pid, startTime: null, name: null, path: null, commandLine: null, user: null, services: [], modules: [], note };
}

/** uid → user name as shown in ProcessInfo.user. */
export interface UserDirectory {
  lookup(uids: number[]): Promise<Map<number, string>>;
}

/**
 * The system's user database, as `ls -l` and `ps` see it. Local accounts come from /etc/passwd and
 * are shown `HOST\name` (the Windows convention for local accounts); any other uid is asked of NSS
 * through `getent passwd uid…` (LDAP, SSSD, winbind, systemd-userdb, whatever nsswitch.conf
 * configures), one batch per snapshot for the uids not seen before, and shown as NSS names it
 * (`alice@corp.example` with SSSD, `CORP\alice` with winbind). Why getent rather than getpwuid_r
 * through koffi: the Linux path then needs no native code at all (koffi's Linux binary stays out of
 * the executable's hot path), getent is in every glibc and musl system, and the cost is one short
 * subprocess only when an unknown uid appears. A uid nobody knows stays numeric; answers, including
 * "unknown", are cached for the life of the directory.
 */
export class SystemUserDirectory implements UserDirectory {
  private readonly names = new Map<number, string | null>();

  constructor(
    private readonly passwdFile = '/etc/passwd',
    private readonly hostName = os.hostname(),
    private readonly getent: (uids: number[]) => Promise<string> = runGetent,
  ) {}

  async lookup(uids: number[]): Promise<Map<number, string>> {
    let missing = uids.filter((uid) => !this.names.has(uid));
    if (missing.length > 0) {
      let local = new Map<number, string>();
      try {
        local = parsePasswd(fs.readFileSync(this.passwdFile, 'utf8'));
      } catch {
        // no /etc/passwd (a minimal container): NSS below still answers
      }
      for (const uid of missing) {
        const name = local.get(uid);
        if (name !== undefined) this.names.set(uid, `${this.hostName}\\${name}`);
      }
      missing = missing.filter((uid) => !this.names.has(uid));
    }
    if (missing.length > 0) {
      let found = new Map<number, string>();
      try {
        found = parsePasswd(await this.getent(missing));
      } catch {
        // getent missing or timed out: the uids stay numeric
      }
      for (const uid of missing) this.names.set(uid, found.get(uid) ?? null);
    }
    const result = new Map<number, string>();
    for (const uid of uids) {
      const name = this.names.get(uid);
      if (name) result.set(uid, name);
    }
    return result;
  }
}

/** `getent passwd` with several keys prints the entries it finds and exits 2 if any is missing. */
function runGetent(uids: number[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', ...uids.map(String)], { timeout: 5000, encoding: 'utf8' }, (err, stdout) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') reject(err);
      else resolve(stdout);
    });
  });
}
