/**
 * The snapshot model shared by `record` and `query -local`: which endpoints count, how an endpoint is
 * identified across polls, and how snapshots differ.
 */
import type { Endpoint, ProcessInfo, Snapshot, TcpState } from '../platform/types';

/** An endpoint with its owner's details (null when the OS names no owner or the owner is gone). */
export interface OwnedEndpoint {
  endpoint: Endpoint;
  process: ProcessInfo | null;
  /** Identity across polls: the 5-tuple plus the owner (PID and start time, since PIDs are reused). */
  key: string;
}

/**
 * The tail of a closed connection, kept by the kernel with no owner (Linux inode 0, Windows PID 0):
 * not a port use anyone made, so the recorder does not log it as new. Local mode still shows it.
 */
export function isOwnerlessTail(e: Endpoint): boolean {
  return e.protocol === 'TCP' && (e.state === 'TimeWait' || e.state === 'Closed' || e.state === 'DeleteTCB') && !e.pid;
}

export function endpointKey(e: Endpoint, process: ProcessInfo | null): string {
  const start = process?.startTime ? process.startTime.getTime() : '';
  return `${e.protocol}|${e.localAddress}|${e.localPort}|${e.remoteAddress ?? ''}|${e.remotePort ?? ''}|${e.pid ?? ''}|${start}`;
}

export function ownedEndpoints(snapshot: Snapshot): OwnedEndpoint[] {
  return snapshot.endpoints.map((endpoint) => {
    const process = endpoint.pid === null ? null : snapshot.processes.get(endpoint.pid) ?? null;
    return { endpoint, process, key: endpointKey(endpoint, process) };
  });
}

/** Protocol, then local port, then address: the order PortQry and netstat list ports in. */
export function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return (
    a.protocol.localeCompare(b.protocol) ||
    a.localPort - b.localPort ||
    a.localAddress.localeCompare(b.localAddress) ||
    (a.remoteAddress ?? '').localeCompare(b.remoteAddress ?? '') ||
    (a.remotePort ?? 0) - (b.remotePort ?? 0) ||
    (a.pid ?? -1) - (b.pid ?? -1)
  );
}

export interface TrackedEndpoint extends OwnedEndpoint {
  firstSeen: Date;
}

export interface Changes {
  opened: TrackedEndpoint[];
  closed: TrackedEndpoint[];
  changed: { current: TrackedEndpoint; previousState: TcpState | null }[];
}

/**
 * Remembers what the last poll saw and reports what the next one changed. An endpoint is new once:
 * it stays known (with its first-seen time) until a poll no longer sees it.
 */
export class EndpointTracker {
  private known = new Map<string, TrackedEndpoint>();

  constructor(private readonly include: (e: OwnedEndpoint) => boolean = () => true) {}

  /** Takes the first snapshot: everything in it is "initial", not "opened". */
  start(snapshot: Snapshot): TrackedEndpoint[] {
    this.known.clear();
    const initial: TrackedEndpoint[] = [];
    for (const owned of ownedEndpoints(snapshot)) {
      if (!this.include(owned) || this.known.has(owned.key)) continue;
      const tracked = { ...owned, firstSeen: snapshot.takenAt };
      this.known.set(owned.key, tracked);
      initial.push(tracked);
    }
    return initial;
  }

  update(snapshot: Snapshot): Changes {
    const next = new Map<string, TrackedEndpoint>();
    const changes: Changes = { opened: [], closed: [], changed: [] };
    for (const owned of ownedEndpoints(snapshot)) {
      if (!this.include(owned) || next.has(owned.key)) continue;
      const before = this.known.get(owned.key);
      const tracked: TrackedEndpoint = { ...owned, firstSeen: before?.firstSeen ?? snapshot.takenAt };
      // A process seen before keeps the details first recorded (an exited owner reads as null later).
      if (before && !owned.process && before.process) tracked.process = before.process;
      next.set(owned.key, tracked);
      if (!before) changes.opened.push(tracked);
      else if (before.endpoint.state !== owned.endpoint.state) changes.changed.push({ current: tracked, previousState: before.endpoint.state });
    }
    for (const [key, before] of this.known) if (!next.has(key)) changes.closed.push(before);
    this.known = next;
    return changes;
  }

  get size(): number {
    return this.known.size;
  }

  current(): TrackedEndpoint[] {
    return [...this.known.values()];
  }
}
