import * as fs from 'node:fs';
import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';
import type { PortSpec } from './plan';
import { queryPortCb, type QuerySettings } from './query-port';
import { exitCodeForState, type QueryResult } from './query-result';
import { createReverseResolver } from '../dns/reverse';
import { resolveTarget, type ResolvedTarget } from './resolve';
import { planQueryEngine } from './socket-engine';
import { LocalResourceError } from './tcp-connect';

/** What the engine reports, always in the order PortQry would print it. */
export interface QueryEvents {
  /** A target resolved; called just before its first result. */
  target(target: ResolvedTarget): void;
  result(record: QueryResult): void;
  /** A target name did not resolve; its ports are skipped. */
  unresolved(target: string, error: PortqryError): void;
  /** How many of the total queries are done (every 64 answers and at the end). */
  progress?(done: number, total: number): void;
  /** True when nobody reads the results any more: stop starting queries. */
  stopped?(): boolean;
  /** A promise while the reader is behind (backpressure): no new queries start until it settles. */
  hold?(): Promise<void> | undefined;
}

export interface EngineOptions extends QuerySettings {
  concurrency: number;
  reverseLookup: boolean;
  /** The longest wait for one reverse lookup (default 3000 ms). */
  resolveTimeoutMs?: number;
  /** DNS servers and hosts file for reverse lookups instead of the system's (test hooks, src/dns/reverse.ts). */
  dnsServers?: readonly string[];
  hostsFile?: string;
}

/**
 * Default number of queries in flight: high enough that a 65535-port loopback scan is as fast as
 * nmap, low enough that the sockets (one per query) stay well under the soft file-descriptor limit.
 * Windows has no per-process descriptor limit for sockets.
 */
export function defaultConcurrency(): number {
  const soft = softFileLimit();
  if (soft === undefined) return 1024;
  return Math.max(16, Math.min(1024, Math.floor((soft - 100) / 2)));
}

function softFileLimit(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (!m || m[1] === 'unlimited') return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

/** The exit code of a whole run: the highest code of its answers (0 only when every answer is LISTENING). */
export function combineExitCodes(a: number, b: number): number {
  return Math.max(a, b);
}

/** What one query ended with: its record, the target's resolution error, or null when skipped. */
type Outcome = QueryResult | PortqryError | null;

/** How often one query may meet a local shortage before the run gives up. */
const MAX_RESOURCE_RETRIES = 100;

/**
 * Queries targets × ports with at most `concurrency` in flight, and reports each result in input order
 * (target by target, port by port, TCP before UDP) as soon as it and everything before it are done. A
 * slow port therefore holds back the printing, not the querying: up to `window` later queries keep
 * running and their results wait in memory. Local shortages (EMFILE, no ephemeral port) lower the
 * concurrency and retry the query instead of inventing a verdict. Returns the run's exit code.
 */
export async function runQueries(targets: readonly string[], ports: readonly PortSpec[], options: EngineOptions, events: QueryEvents): Promise<number> {
  const perTarget = ports.length;
  const total = targets.length * perTarget;
  // The engine for this run depends on its size (socket-engine.ts: koffi only pays off for a scan).
  let tcpPorts = 0;
  for (const p of ports) if (p.protocol === 'TCP') tcpPorts++;
  planQueryEngine(targets.length * tcpPorts);
  const window = Math.max(4096, options.concurrency * 4);
  const resolutions = new Map<number, Promise<ResolvedTarget | PortqryError>>();
  const resolved = new Map<number, ResolvedTarget | PortqryError>();
  const done = new Map<number, Outcome>();
  const retry: number[] = [];
  const retries = new Map<number, number>();
  let limit = Math.max(1, options.concurrency);
  let next = 0;
  let emitNext = 0;
  let inflight = 0;
  let completed = 0;
  let exitCode: number = ExitCode.Ok;
  let failure: unknown;
  let resolveRun!: () => void;
  let rejectRun!: (err: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    resolveRun = resolve;
    rejectRun = reject;
  });

  // Reverse lookups are cancelled when the run ends, so none keeps the process alive after the last record.
  const reverse = options.reverseLookup
    ? createReverseResolver({ timeoutMs: options.resolveTimeoutMs ?? 3000, servers: options.dnsServers, hostsFile: options.hostsFile })
    : null;
  const resolution = (t: number) => {
    let r = resolutions.get(t);
    if (!r) {
      r = resolveTarget(targets[t]!, reverse).then(
        (target) => {
          resolved.set(t, target);
          return target;
        },
        (err: unknown) => {
          if (!(err instanceof PortqryError)) throw err;
          resolved.set(t, err);
          return err;
        },
      );
      resolutions.set(t, r);
    }
    return r;
  };

  const emit = () => {
    while (done.has(emitNext)) {
      const outcome = done.get(emitNext)!;
      done.delete(emitNext);
      const t = Math.floor(emitNext / perTarget);
      const firstOfTarget = emitNext % perTarget === 0;
      if (outcome instanceof PortqryError) {
        if (firstOfTarget) {
          events.unresolved(targets[t]!, outcome);
          exitCode = combineExitCodes(exitCode, outcome.exitCode);
        }
      } else if (outcome) {
        if (firstOfTarget) events.target(resolved.get(t) as ResolvedTarget);
        exitCode = combineExitCodes(exitCode, exitCodeForState(outcome.State));
        events.result(outcome);
      }
      emitNext++;
      if (emitNext % perTarget === 0) {
        resolutions.delete(t);
        resolved.delete(t);
      }
    }
  };

  let pumping = false;
  const complete = (i: number, err: unknown, outcome?: Outcome) => {
    inflight--;
    if (failure !== undefined) return;
    if (err !== null && err !== undefined) {
      const tries = (retries.get(i) ?? 0) + 1;
      retries.set(i, tries);
      if (err instanceof LocalResourceError && tries <= MAX_RESOURCE_RETRIES) {
        // Out of descriptors or ports: fewer at once for the rest of the run, and this query again shortly.
        limit = Math.max(4, Math.min(limit, inflight) - 8);
        retry.push(i);
        setTimeout(pump, 50);
        return;
      }
      failure = err instanceof LocalResourceError ? new PortqryError(`${err.code}: the system keeps refusing new sockets; lower --concurrency`, ExitCode.OsError) : err;
      rejectRun(failure);
      return;
    }
    if (retries.size > 0) retries.delete(i);
    done.set(i, outcome ?? null);
    completed++;
    if ((completed & 63) === 0 || completed === total) events.progress?.(completed, total);
    emit();
    if (emitNext >= total) resolveRun();
    else pump();
  };

  const start = (target: ResolvedTarget | PortqryError, i: number) => {
    if (target instanceof PortqryError) return complete(i, null, target);
    queryPortCb(target, ports[i % perTarget]!, options, (err, record) => complete(i, err, record));
  };

  const runOne = (i: number) => {
    if (events.stopped?.()) return complete(i, null, null);
    const t = Math.floor(i / perTarget);
    const known = resolved.get(t);
    if (known) return start(known, i);
    resolution(t).then(
      (target) => start(target, i),
      (err: unknown) => complete(i, err),
    );
  };

  // Completions can arrive synchronously (a connect that fails at once); the guard keeps pump() from
  // re-entering itself, and the running loop picks up the freed slot.
  let holding = false;
  const pump = () => {
    if (pumping || holding || failure !== undefined) return;
    const hold = events.hold?.();
    if (hold) {
      holding = true;
      hold.then(
        () => {
          holding = false;
          pump();
        },
        () => {
          holding = false;
          pump();
        },
      );
      return;
    }
    pumping = true;
    try {
      while (failure === undefined && inflight < limit && (retry.length > 0 || (next < total && next < emitNext + window))) {
        const i = retry.length > 0 ? retry.shift()! : next++;
        inflight++;
        runOne(i);
      }
    } finally {
      pumping = false;
    }
  };

  if (total === 0) return exitCode;
  pump();
  try {
    await finished;
  } finally {
    reverse?.close();
  }
  return exitCode;
}
