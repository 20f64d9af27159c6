/**
 * Nothing missed between polls (Linux): the kernel announces every inet socket it destroys to the
 * sock_diag destroy groups (what `ss -E` prints). The recorder drains them from a timer, never
 * blocking, and at each poll logs the sockets that no poll ever saw (opened and closed in between)
 * once each, as Opened records with Source "destroy-event" (docs/record-capture.md). A socket a poll
 * saw is left to the polls, which already logged it and log its closing.
 */
import { DestroyGroupsError, type DestroyDrain, SockDiagDestroyListener } from '../platform/linux-netlink';
import type { DestroyedSocket } from '../platform/linux-sockdiag';
import type { Endpoint, ProcessInfo } from '../platform/types';

/** Where destroyed sockets come from: the real groups (SockDiagDestroyListener) or a test's script. */
export interface DestroySource {
  drain(max?: number): DestroyDrain;
  close(): void;
}

export interface DestroyCaptureCounters {
  /** Destroyed sockets announced by the kernel (bound ones: a port was used). */
  announced: number;
  /** Of those, the ones no poll saw: logged from the announcement. */
  recorded: number;
  /** recv() reported ENOBUFS: the kernel dropped announcements (how many is not known). */
  overflows: number;
  /** Announcements dropped because more than maxPending waited for the next poll. */
  dropped: number;
}

export interface PendingDestroyed {
  socket: DestroyedSocket;
  /** When it was drained: within a drain period of its destruction. */
  at: Date;
}

/** The socket alone, without owner: protocol, addresses and ports (UDP: local side only, as snapshots show it). */
export function socketKey(e: Pick<Endpoint, 'protocol' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'>): string {
  return e.protocol === 'UDP' ? `UDP|${e.localAddress}|${e.localPort}` : `TCP|${e.localAddress}|${e.localPort}|${e.remoteAddress ?? ''}|${e.remotePort ?? ''}`;
}

export class DestroyCapture {
  readonly counters: DestroyCaptureCounters = { announced: 0, recorded: 0, overflows: 0, dropped: 0 };
  private pending: PendingDestroyed[] = [];
  /** Socket keys of endpoints the polls closed, with the poll that closed them (kept two polls: a late announcement). */
  private readonly closedByPoll = new Map<string, number>();
  private lastOverflowWarning = -Infinity;
  private reportedOverflows = 0;

  constructor(
    private readonly source: DestroySource,
    private readonly options: {
      warn: (line: string) => void;
      maxPending?: number;
      now?: () => Date;
      /** Monotonic ms, for the warning's rate limit. */
      clock?: () => number;
    },
  ) {}

  /** Reads what the kernel queued (called by a timer and before each poll's work). */
  tick(): void {
    const max = this.options.maxPending ?? 100_000;
    let drained: DestroyDrain;
    try {
      drained = this.source.drain(max + 1);
    } catch (err) {
      this.options.warn(`reading destroy events failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.counters.overflows += drained.overflows;
    const at = (this.options.now ?? (() => new Date()))();
    for (const socket of drained.sockets) {
      this.counters.announced++;
      if (this.pending.length >= max) {
        this.counters.dropped++;
        continue;
      }
      this.pending.push({ socket, at });
    }
  }

  /**
   * The poll's part: everything drained so far, minus the sockets the polls know (`known`: socket
   * keys of what the tracker holds after this poll; `closed`: what this poll closed). Returns the
   * ones to log, in the order the kernel destroyed them. Reports overflows (at most once a minute).
   */
  take(poll: number, known: (key: string) => boolean, closed: readonly Endpoint[]): PendingDestroyed[] {
    for (const e of closed) this.closedByPoll.set(socketKey(e), poll);
    for (const [key, at] of this.closedByPoll) if (at < poll - 2) this.closedByPoll.delete(key);
    const out: PendingDestroyed[] = [];
    for (const p of this.pending) {
      const key = socketKey(p.socket);
      if (known(key) || this.closedByPoll.has(key)) continue;
      out.push(p);
    }
    this.pending = [];
    this.counters.recorded += out.length;
    this.reportLosses();
    return out;
  }

  private reportLosses(): void {
    const lost = this.counters.overflows + this.counters.dropped;
    if (lost === this.reportedOverflows) return;
    const now = (this.options.clock ?? (() => performance.now()))();
    if (now - this.lastOverflowWarning < 60_000) return;
    this.lastOverflowWarning = now;
    this.reportedOverflows = lost;
    this.options.warn(
      `short-lived connections were lost: the kernel's destroy-event queue overflowed ${this.counters.overflows} time(s) (ENOBUFS)` +
        (this.counters.dropped > 0 ? ` and ${this.counters.dropped} event(s) beyond the in-memory limit were dropped` : '') +
        '; a burst faster than the recorder drains; lower --interval or raise net.core.rmem_max',
    );
  }

  close(): void {
    this.source.close();
  }
}

/** The ProcessInfo of a destroyed socket's unknown owner: only the user of its uid is known. */
export function ownerOfDestroyed(user: string | null): ProcessInfo {
  return { pid: 0, startTime: null, name: null, path: null, commandLine: null, user, services: [], modules: [], note: 'owner unknown: the socket closed before a poll saw it' };
}

/** A destroyed socket as an Endpoint with no owner. */
export function destroyedEndpoint(s: DestroyedSocket): Endpoint {
  return {
    protocol: s.protocol,
    family: s.family,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    state: s.state,
    pid: null,
    creationTime: null,
  };
}

/**
 * Opens the real destroy groups on Linux; null elsewhere or when they cannot be joined (then one
 * line says that short-lived capture is off and why). Whether joining needs CAP_NET_ADMIN depends on
 * the kernel (recent ones let any user join, as `ss -E` run by a user shows); a kernel that refuses
 * answers EPERM.
 */
export function openDestroySource(
  warn: (line: string) => void,
  platform: NodeJS.Platform = process.platform,
  open: () => DestroySource = () => new SockDiagDestroyListener(),
): DestroySource | null {
  if (platform !== 'linux') return null;
  try {
    return open();
  } catch (err) {
    const why = err instanceof DestroyGroupsError && err.permissionDenied ? 'needs root or CAP_NET_ADMIN' : err instanceof Error ? err.message : String(err);
    warn(`short-lived capture is off (${why}): connections that open and close between two polls are not recorded`);
    return null;
  }
}
