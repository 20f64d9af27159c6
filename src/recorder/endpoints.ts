/**
 * The snapshot model shared by `record` and `query -local`: which endpoints count, how an endpoint is
 * identified across polls, and how snapshots differ.
 */
import { compareText } from '../output/collate';
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

/**
 * The last OwnedEndpoint made for each endpoint object. Backends hand out the same (immutable)
 * Endpoint object for a socket that did not change between snapshots, so a poll of an unchanged
 * table builds no keys and no objects.
 */
const ownedMemo = new WeakMap<Endpoint, OwnedEndpoint>();

function owned(snapshot: Snapshot, endpoint: Endpoint): OwnedEndpoint {
  const process = endpoint.pid === null ? null : snapshot.processes.get(endpoint.pid) ?? null;
  let result = ownedMemo.get(endpoint);
  if (result?.process !== process) {
    result = { endpoint, process, key: endpointKey(endpoint, process) };
    ownedMemo.set(endpoint, result);
  }
  return result;
}

export function ownedEndpoints(snapshot: Snapshot): OwnedEndpoint[] {
  return snapshot.endpoints.map((endpoint) => owned(snapshot, endpoint));
}

/**
 * Protocol, then local port, then address: the order PortQry and netstat list ports in. Texts in
 * root-locale collation order (compareText: ":" before "." before digits), the same on every machine.
 */
export function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return (
    compareText(a.protocol, b.protocol) ||
    a.localPort - b.localPort ||
    compareText(a.localAddress, b.localAddress) ||
    compareText(a.remoteAddress ?? '', b.remoteAddress ?? '') ||
    (a.remotePort ?? 0) - (b.remotePort ?? 0) ||
    (a.pid ?? -1) - (b.pid ?? -1)
  );
}

/** The socket alone (no owner): protocol, addresses and ports. */
function socketKey(e: Endpoint): string {
  return `${e.protocol}|${e.localAddress}|${e.localPort}|${e.remoteAddress ?? ''}|${e.remotePort ?? ''}`;
}

/** The owned connections among known entries, by socket (built only when an ownerless one shows up). */
function socketIndex(known: Map<string, TrackedEndpoint>): Map<string, TrackedEndpoint> {
  const index = new Map<string, TrackedEndpoint>();
  for (const t of known.values()) if (t.endpoint.pid !== null && t.endpoint.remotePort !== null) index.set(socketKey(t.endpoint), t);
  return index;
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
    for (const endpoint of snapshot.endpoints) {
      const o = owned(snapshot, endpoint);
      if (!this.include(o) || this.known.has(o.key)) continue;
      const tracked = { ...o, firstSeen: snapshot.takenAt };
      this.known.set(o.key, tracked);
      initial.push(tracked);
    }
    return initial;
  }

  update(snapshot: Snapshot): Changes {
    const next = new Map<string, TrackedEndpoint>();
    const changes: Changes = { opened: [], closed: [], changed: [] };
    let bySocket: Map<string, TrackedEndpoint> | undefined;
    /** Keys of owned entries that went on as an ownerless endpoint (not closed). */
    const carried = new Set<string>();
    for (const endpoint of snapshot.endpoints) {
      const o = owned(snapshot, endpoint);
      if (next.has(o.key)) continue;
      let before = this.known.get(o.key);
      // Unchanged since the last poll (same endpoint and process objects): carry the entry over as is.
      if (before && before.endpoint === endpoint && (before.process === o.process || !o.process)) {
        next.set(o.key, before);
        continue;
      }
      if (!this.include(o)) continue;
      if (!before && endpoint.pid === null) {
        // A connection its process closed lingers with no owner (FIN_WAIT, LAST_ACK: Linux inode 0):
        // the same use as the owned one the last poll saw, not a new one.
        bySocket ??= socketIndex(this.known);
        before = bySocket.get(socketKey(endpoint));
        if (before) carried.add(before.key);
      }
      const tracked: TrackedEndpoint = { ...o, firstSeen: before?.firstSeen ?? snapshot.takenAt };
      // A process seen before keeps the details first recorded (an exited owner reads as null later).
      if (before && !o.process && before.process) tracked.process = before.process;
      if (before && endpoint.pid === null && before.endpoint.pid !== null) tracked.endpoint = { ...endpoint, pid: before.endpoint.pid };
      next.set(o.key, tracked);
      if (!before) changes.opened.push(tracked);
      else if (before.endpoint.state !== endpoint.state) changes.changed.push({ current: tracked, previousState: before.endpoint.state });
    }
    if (next.size !== this.known.size || changes.opened.length > 0 || carried.size > 0) {
      for (const [key, before] of this.known) if (!next.has(key) && !carried.has(key)) changes.closed.push(before);
    }
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

/** `endpoints` in compareEndpoints' order, for listing thousands at once (`record --once`). */
export function sortEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  return [...endpoints].sort(compareEndpoints);
}
