/**
 * Port Reporter's loop: poll the OS tables, diff against the last poll, log what is new (PR-PORTS, with
 * its process in PR-PIDS) and, in the event log, what closed and how long it lived.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { EventLog } from '../eventlog/types';
import type { Endpoint, PlatformBackend, ProcessInfo, Snapshot } from '../platform/types';
import { normalizeRecord } from '../output/record-kind';
import type { RetentionPolicy } from '../portreporter/retention';
import { LogWriter, type RotationPolicy, type WriterCounters } from '../portreporter/write-log';
import { EndpointTracker, isOwnerlessTail, type TrackedEndpoint } from './endpoints';
import { RecordEventKind, toRecordEvent, type RecordEventSource } from './record-event';
import { sleep } from './stop-signal';
import { DestroyCapture, destroyedEndpoint, ownerOfDestroyed, socketKey, type DestroyCaptureCounters, type DestroySource } from './destroy-capture';
import { SystemUserDirectory, type UserDirectory } from '../platform/linux';
import type { CriteriaMatcher } from '../portreporter/criteria';
import { type AlertCounters, CriteriaAlerts } from './alerts';
import { useHeapProfile } from '../runtime/heap';

export { sleep } from './stop-signal';

export interface RecorderOptions {
  backend: PlatformBackend;
  intervalMs: number;
  /** Stop after this long; null runs until the signal aborts. */
  durationMs: number | null;
  logDir: string;
  rotation: RotationPolicy;
  jsonl: boolean;
  /** Collect loaded modules for the PIDS blocks and events (default true). */
  modules?: boolean;
  /** `portqry-ts <version>` for the headers. */
  generatedBy: string;
  /** Aborted by SIGINT/SIGTERM/SIGBREAK: the loop ends, flushes and closes. */
  signal: AbortSignal;
  warn: (line: string) => void;
  /** --keep N / --max-total SIZE: the oldest whole sets are removed, never the current one. */
  retention?: RetentionPolicy;
  /**
   * Linux: the sock_diag destroy groups (openDestroySource), so sockets that open and close between
   * two polls are still recorded; null/absent: polling only.
   */
  destroyEvents?: DestroySource | null;
  /** uid → user name for destroyed sockets (default: the system's user database). */
  users?: UserDirectory;
  /** How often the destroy groups are drained (ms, default 100). */
  drainEveryMs?: number;
  /** The system log (Application log / syslog) for what an administrator must see: the log directory replaced. */
  eventLog?: EventLog;
  /**
   * record --criteria: new endpoints (and those open at start) that match are flagged in PR-EVENTS and
   * sent to eventLog (to warn when there is none), at most alertsPerMinute lines per criterion.
   */
  criteria?: CriteriaMatcher;
  alertsPerMinute?: number;
  /** Monotonic ms for the alerts' rate limit (tests). */
  alertClock?: () => number;
  /** Called after each poll has been written (tests, benchmarks). */
  onPoll?: (info: { polls: number; tracked: number }) => void;
}

export interface RecorderSummary extends WriterCounters {
  polls: number;
  opened: number;
  closed: number;
  sets: string[];
  logDir: string;
  snapshotFailures: number;
  /** Short-lived capture (null when off): announced destroyed sockets, those recorded, losses. */
  destroyEvents: DestroyCaptureCounters | null;
  /** record --criteria: matches, lines sent, matches held back by the rate limit (null without criteria). */
  alerts: AlertCounters | null;
}

/** How often written data is forced to disk (fsync): a crash loses at most this much from the page cache. */
const SYNC_EVERY_MS = 5000;

export async function runRecorder(options: RecorderOptions): Promise<RecorderSummary> {
  // Months of one poll a second: a young generation of its initial size (src/runtime/heap.ts).
  useHeapProfile('long-running');
  const processCache = new Map<string, ProcessInfo>();
  const withModules = options.modules ?? true;
  /** Process details read by an earlier poll: only those can have loaded something since. */
  let seenProcesses = new WeakSet<ProcessInfo>();
  const first = await options.backend.snapshot({ processCache, modules: options.modules ?? true });
  const writer = LogWriter.open(
    {
      dir: options.logDir,
      rotation: options.rotation,
      jsonl: options.jsonl,
      header: { computerName: first.computerName, operatingSystem: operatingSystemName(), generatedBy: options.generatedBy },
      warn: options.warn,
      eventLog: options.eventLog,
      retention: options.retention,
    },
    first.takenAt,
  );
  const summary: RecorderSummary = { ...writer.counters, polls: 1, opened: 0, closed: 0, sets: [], logDir: options.logDir, snapshotFailures: 0, destroyEvents: null, alerts: null };
  const tracker = new EndpointTracker((e) => !isOwnerlessTail(e.endpoint));
  const alerts = options.criteria
    ? new CriteriaAlerts({
        criteria: options.criteria,
        eventLog: options.eventLog ?? { write: (_level, message) => options.warn(message), close: () => {} },
        perMinute: options.alertsPerMinute,
        clock: options.alertClock,
      })
    : null;
  const event = (type: 'Initial' | 'Opened' | 'Closed', t: TrackedEndpoint, snapshot: Snapshot, at = snapshot.takenAt, source: RecordEventSource = 'poll') => {
    // A new endpoint (or one open at start) is matched once; its Closed event is not flagged again.
    const flagReasons = alerts && type !== 'Closed' ? alerts.check(t, snapshot.computerName) : [];
    writer.event(normalizeRecord(RecordEventKind, toRecordEvent(type, t, snapshot.computerName, at, null, { source, flagReasons })), at);
  };
  const capture = options.destroyEvents ? new DestroyCapture(options.destroyEvents, { warn: options.warn }) : null;
  const drainTimer = capture ? setInterval(() => capture.tick(), options.drainEveryMs ?? 100) : null;
  drainTimer?.unref();
  const users = capture ? (options.users ?? new SystemUserDirectory()) : null;

  seenProcesses = rememberProcesses(seenProcesses, first);
  const initial = tracker.start(first);
  writer.initial(groupByProcess(initial), first.takenAt);
  for (const t of initial) event('Initial', t, first);
  writer.flush(first.takenAt);
  options.onPoll?.({ polls: 1, tracked: tracker.size });

  /** Sockets the kernel destroyed that no poll saw: one PR-PORTS row and one Opened event each. */
  const logDestroyed = async (snapshot: Snapshot, closed: readonly TrackedEndpoint[]) => {
    if (!capture) return;
    capture.tick();
    let known: Set<string> | undefined;
    const isKnown = (key: string) => {
      known ??= new Set(tracker.current().map((t) => socketKey(t.endpoint)));
      return known.has(key);
    };
    const destroyed = capture.take(summary.polls, isKnown, closed.map((t) => t.endpoint));
    if (destroyed.length === 0) return;
    const names = await users!.lookup([...new Set(destroyed.map((d) => d.socket.uid))]);
    for (const d of destroyed) {
      const endpoint = destroyedEndpoint(d.socket);
      const owner = ownerOfDestroyed(names.get(d.socket.uid) ?? String(d.socket.uid));
      writer.port(endpoint, owner, d.at, [endpoint]);
      event('Opened', { endpoint, process: owner, key: '', firstSeen: d.at }, snapshot, d.at, 'destroy-event');
    }
    summary.opened += destroyed.length;
  };
  let last = first;

  // Polls, the deadline and fsync run on a monotonic clock: a wall-clock step (NTP, date -s, DST is
  // not one) neither stalls nor hurries them. Wall time only stamps records and decides daily rotation.
  const now = () => performance.now();
  const started = now();
  let lastSync = started;
  const deadline = options.durationMs === null ? Infinity : started + options.durationMs;
  let nextPoll = started + options.intervalMs;
  while (!options.signal.aborted) {
    const wait = Math.min(nextPoll, deadline) - now();
    if (wait > 0) await sleep(wait, options.signal);
    if (options.signal.aborted || now() >= deadline) break;
    // Fixed-rate polling; after a slow snapshot the next one starts at once instead of piling up.
    nextPoll = Math.max(nextPoll + options.intervalMs, now());
    let snapshot: Snapshot;
    try {
      snapshot = await options.backend.snapshot({ processCache, modules: options.modules ?? true });
    } catch (err) {
      summary.snapshotFailures++;
      if (summary.snapshotFailures === 1) options.warn(`snapshot failed: ${err instanceof Error ? err.message : String(err)}; retrying at every poll`);
      continue;
    }
    summary.polls++;
    pruneCache(processCache, snapshot);
    const changes = tracker.update(snapshot);
    if (withModules) refreshModules(options.backend, changes.opened, snapshot, processCache, seenProcesses);
    // Built only when something opened: a quiet poll costs no pass over the endpoints.
    const byPid = changes.opened.length > 0 ? endpointsByPid(snapshot) : null;
    for (const t of changes.opened) {
      writer.port(t.endpoint, t.process, snapshot.takenAt, t.endpoint.pid === null ? [t.endpoint] : byPid!.get(t.endpoint.pid) ?? [t.endpoint]);
      event('Opened', t, snapshot);
    }
    for (const t of changes.closed) event('Closed', t, snapshot);
    await logDestroyed(snapshot, changes.closed);
    last = snapshot;
    summary.opened += changes.opened.length;
    summary.closed += changes.closed.length;
    writer.flush(snapshot.takenAt);
    if (now() - lastSync >= SYNC_EVERY_MS) {
      writer.sync();
      lastSync = now();
    }
    seenProcesses = rememberProcesses(seenProcesses, snapshot);
    options.onPoll?.({ polls: summary.polls, tracked: tracker.size });
  }
  if (drainTimer) clearInterval(drainTimer);
  // What was destroyed since the last poll is still recorded.
  await logDestroyed(last, []);
  capture?.close();
  writer.close(new Date());
  if (writer.backlog > 0) options.warn(`${writer.backlog} record(s) could not be written before stopping (disk full)`);
  return { ...summary, ...writer.counters, sets: [...writer.setsWritten], destroyEvents: capture ? { ...capture.counters } : null, alerts: alerts ? { ...alerts.counters } : null };
}

function rememberProcesses(seen: WeakSet<ProcessInfo>, snapshot: Snapshot): WeakSet<ProcessInfo> {
  for (const p of snapshot.processes.values()) seen.add(p);
  return seen;
}

/**
 * The spyware case: a process known from an earlier poll that opens a new endpoint has its modules
 * read again (cheaply: PlatformBackend.refreshModules), so a library loaded since (an injected DLL)
 * is in the process details this use is logged with; the writer then writes a new PR-PIDS block.
 */
export function refreshModules(
  backend: PlatformBackend,
  opened: readonly TrackedEndpoint[],
  snapshot: Snapshot,
  cache: Map<string, ProcessInfo>,
  seen: WeakSet<ProcessInfo>,
): void {
  if (!backend.refreshModules || opened.length === 0) return;
  const current = new Map<ProcessInfo, ProcessInfo>();
  for (const t of opened) {
    const before = t.process;
    if (!before || !seen.has(before)) continue;
    let now = current.get(before);
    if (now === undefined) {
      now = backend.refreshModules(before, cache) ?? before;
      current.set(before, now);
      if (now !== before && snapshot.processes.get(now.pid) === before) snapshot.processes.set(now.pid, now);
    }
    t.process = now;
  }
}

function endpointsByPid(snapshot: Snapshot): Map<number, Endpoint[]> {
  const map = new Map<number, Endpoint[]>();
  for (const e of snapshot.endpoints) {
    if (e.pid === null) continue;
    let list = map.get(e.pid);
    if (!list) map.set(e.pid, (list = []));
    list.push(e);
  }
  return map;
}

/**
 * The owners of some endpoints, one entry per process, with all of those endpoints; the endpoints
 * whose owner the OS does not name form one more entry with pid null (PR-INITIAL lists everything
 * open at start, as Port Reporter lists System's ports), last.
 */
export function groupByProcess(tracked: readonly TrackedEndpoint[]): { pid: number | null; process: ProcessInfo | null; endpoints: Endpoint[] }[] {
  const groups = new Map<string, { pid: number | null; process: ProcessInfo | null; endpoints: Endpoint[] }>();
  for (const t of tracked) {
    const key = t.endpoint.pid === null ? 'unknown' : `${t.endpoint.pid}|${t.process?.startTime?.getTime() ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { pid: t.endpoint.pid, process: t.process, endpoints: [] }));
    g.endpoints.push(t.endpoint);
  }
  return [...groups.values()].sort((a, b) => (a.pid ?? Infinity) - (b.pid ?? Infinity));
}

/** Drops cached process details of processes no longer in the snapshot, so the cache cannot grow without bound. */
function pruneCache(cache: Map<string, ProcessInfo>, snapshot: Snapshot): void {
  if (cache.size <= snapshot.processes.size * 2 + 64) return;
  for (const [key, info] of cache) {
    const live = snapshot.processes.get(info.pid);
    if (!live || live.startTime?.getTime() !== info.startTime?.getTime()) cache.delete(key);
  }
}

/** What the headers' `Operating System:` line says: the distribution's name on Linux, the edition on Windows. */
export function operatingSystemName(): string {
  if (process.platform === 'win32') return os.version() || `Windows ${os.release()}`;
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return `${m[1]} (${os.type()} ${os.release()})`;
  } catch {
    // no os-release: the kernel is all we can name
  }
  return `${os.type()} ${os.release()}`;
}
