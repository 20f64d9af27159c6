/**
 * PortQry's `-wport` / `-wpid` watch loop: what matches at the start (Initial), then at every check
 * what opened, closed or changed TCP state, as RecordEvent records handed to `emit`.
 */
import type { ProcessInfo, Snapshot } from '../platform/types';
import { EndpointTracker, type OwnedEndpoint } from './endpoints';
import { toRecordEvent } from './record-event';
import { sleep } from './stop-signal';

export interface WatchOptions {
  /** One snapshot; the cache carries process details from check to check. */
  snapshot(processCache: Map<string, ProcessInfo>): Promise<Snapshot>;
  intervalMs: number;
  /** Stop after this long; null runs until the signal aborts. */
  durationMs: number | null;
  /** Which endpoints are watched (a port, a process). */
  matches(o: OwnedEndpoint): boolean;
  /** Aborted by the stop signals (untilStopped). */
  signal: AbortSignal;
  /** Called once after the first snapshot, before its Initial records. */
  onStart?(): void;
  /** One RecordEvent record (un-normalized, as the output layer takes it). */
  emit(record: Record<string, unknown>): void;
  /** True when nobody reads the output any more: the watch ends. */
  closed?(): boolean;
}

export async function runWatch(options: WatchOptions): Promise<void> {
  // Timed by a monotonic clock, as the recorder: a wall-clock step does not stall or end the watch.
  const now = () => performance.now();
  const deadline = options.durationMs === null ? Infinity : now() + options.durationMs;
  const cache = new Map<string, ProcessInfo>();
  const tracker = new EndpointTracker((o) => options.matches(o));
  let snapshot = await options.snapshot(cache);
  options.onStart?.();
  for (const t of tracker.start(snapshot)) options.emit(toRecordEvent('Initial', t, snapshot.computerName, snapshot.takenAt));
  while (!options.signal.aborted && !options.closed?.()) {
    const wait = Math.min(options.intervalMs, deadline - now());
    if (wait <= 0) break;
    await sleep(wait, options.signal);
    if (options.signal.aborted || now() >= deadline) break;
    snapshot = await options.snapshot(cache);
    const changes = tracker.update(snapshot);
    const at = snapshot.takenAt;
    for (const t of changes.closed) options.emit(toRecordEvent('Closed', t, snapshot.computerName, at));
    for (const t of changes.opened) options.emit(toRecordEvent('Opened', t, snapshot.computerName, at));
    for (const c of changes.changed) options.emit(toRecordEvent('StateChanged', c.current, snapshot.computerName, at, c.previousState));
  }
}
