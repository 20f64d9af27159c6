/**
 * One platform interface, two backends (linux.ts over /proc, windows.ts over iphlpapi/psapi through
 * koffi), like psutil's _pslinux/_pswindows: both return exactly these shapes, and null where the OS
 * does not say (never a missing key). Pure decoders live beside each backend and are tested with
 * byte/text fixtures; the backends only do I/O.
 */

/** Get-NetTCPConnection's state names, so JSON matches what PowerShell users know. */
export type TcpState =
  | 'Closed' | 'Listen' | 'SynSent' | 'SynReceived' | 'Established' | 'FinWait1' | 'FinWait2'
  | 'CloseWait' | 'Closing' | 'LastAck' | 'TimeWait' | 'DeleteTCB' | 'Bound';

/** Which socket a row is: the part of an Endpoint that both backends' raw table rows share. */
export type SocketIdentity = Pick<Endpoint, 'protocol' | 'family' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort' | 'state'>;

export interface Endpoint {
  protocol: 'TCP' | 'UDP';
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  /** null for UDP and for a listener. */
  remoteAddress: string | null;
  remotePort: number | null;
  /** null for UDP. */
  state: TcpState | null;
  /** Owning process; null when the OS does not say (Linux: a socket no readable /proc/PID/fd holds). Windows PID 0 stays 0. */
  pid: number | null;
  /** When the socket was created, where the OS gives it (Windows owner-module tables). */
  creationTime: Date | null;
}

export interface ProcessInfo {
  pid: number;
  /** Start time: with pid, the identity of a process (PIDs are reused). */
  startTime: Date | null;
  /** Image name (svchost.exe, sshd). */
  name: string | null;
  /** Full image path. */
  path: string | null;
  commandLine: string | null;
  /** DOMAIN\user (Linux: HOST\user for local accounts). */
  user: string | null;
  /** Windows services hosted by the process; on Linux the systemd unit(s) from its cgroup. */
  services: string[];
  /** Full paths of loaded modules (DLLs / mapped shared objects); empty when not asked for or denied. */
  modules: string[];
  /** Why some fields are null: "access denied", "exited". */
  note: string | null;
}

export interface Snapshot {
  takenAt: Date;
  computerName: string;
  /** Read-only: a backend may hand out the same object for a socket that did not change between its snapshots. */
  endpoints: Endpoint[];
  /** Owners of the endpoints, by PID. */
  processes: Map<number, ProcessInfo>;
}

export interface SnapshotOptions {
  /** Collect loaded modules (costly); default true. */
  modules?: boolean;
  /** Reuse process details of PIDs already seen with the same start time. */
  processCache?: Map<string, ProcessInfo>;
}

export interface PlatformBackend {
  readonly name: 'linux' | 'windows';
  snapshot(options?: SnapshotOptions): Promise<Snapshot>;
  /**
   * One snapshot when no other follows (`record --once`): what the first snapshot() of a new backend
   * gives, without the memory kept for a next one. Optional; never used by the recorder.
   */
  snapshotOnce?(options?: SnapshotOptions): Promise<Snapshot>;
  /**
   * Reads a known process's loaded modules again (a cheap check first: Linux compares the module list
   * of /proc/PID/maps, Windows the module handles of EnumProcessModulesEx before reading any name).
   * Returns a new ProcessInfo with the current modules when they changed (and puts it in the cache in
   * place of the old one), else null. The recorder calls it when a process it already knew opens a
   * new endpoint, so a module loaded late (an injected DLL) is logged with the use that follows it.
   */
  refreshModules?(info: ProcessInfo, cache?: Map<string, ProcessInfo>): ProcessInfo | null;
}

/** Puts `next` in the cache wherever `previous` was (the backends' cache keys are their own). */
export function replaceCached(cache: Map<string, ProcessInfo> | undefined, previous: ProcessInfo, next: ProcessInfo): void {
  if (!cache) return;
  for (const [key, value] of cache) if (value === previous) cache.set(key, next);
}
