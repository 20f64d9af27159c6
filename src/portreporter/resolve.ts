import { createReverseResolver } from '../dns/reverse';
import type { PortReporterRecord } from './record';

/**
 * --resolve: reverse DNS of remote addresses into RemoteHostName. The hosts file, then DNS, are asked
 * (src/dns/reverse.ts: cancellable, never on the thread pool), each address once (cached, including
 * failures), a bounded number at a time, each for at most --resolve-timeout; close() cancels what is left.
 * Records keep their order: a window of records waits for its names while reading goes on, so one
 * slow lookup delays output by at most the timeout and never stops the stream.
 */
export interface ResolveOptions {
  /** Give up on one address after this long (default 2000 ms); the name stays null. */
  timeoutMs?: number;
  /** Lookups in flight at once (default 16). */
  concurrency?: number;
  /** Records read ahead while names are pending (default 5000). */
  window?: number;
  /** The lookup itself (tests); default the hosts file, then DNS (src/dns/reverse.ts). */
  lookup?: (address: string) => Promise<string | null>;
  /** DNS servers to ask instead of the system's (PORTQRY_DNS_SERVERS). */
  servers?: readonly string[];
  /** Hosts file to read instead of the system's (PORTQRY_HOSTS_FILE). */
  hostsFile?: string;
}

export interface Resolver {
  /** The cached name, or a promise of it; null when there is nothing to resolve. */
  nameOf(address: string | null): string | null | Promise<string | null>;
  readonly lookups: number;
  /** Cancels pending lookups (their names stay null) so that nothing outlives the run. */
  close(): void;
}

const UNRESOLVABLE = new Set(['0.0.0.0', '::', '*', '']);

export function createResolver(options: ResolveOptions = {}): Resolver {
  const timeoutMs = options.timeoutMs ?? 2000;
  const concurrency = options.concurrency ?? 16;
  const system = options.lookup ? undefined : createReverseResolver({ timeoutMs, concurrency, servers: options.servers, hostsFile: options.hostsFile });
  const lookup = options.lookup ?? system!.reverse;
  const cache = new Map<string, string | null | Promise<string | null>>();
  const waiting: (() => void)[] = [];
  let active = 0;
  let lookups = 0;

  async function run(address: string): Promise<string | null> {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    lookups++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        lookup(address).catch(() => null),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      active--;
      waiting.shift()?.();
    }
  }

  return {
    get lookups() {
      return lookups;
    },
    close() {
      system?.close();
    },
    nameOf(address) {
      if (address === null || UNRESOLVABLE.has(address)) return null;
      const hit = cache.get(address);
      if (hit !== undefined) return hit;
      const p = run(address).then((name) => {
        cache.set(address, name);
        return name;
      });
      // Bounded: a long log can name very many distinct addresses.
      if (cache.size >= 100_000) cache.delete(cache.keys().next().value!);
      cache.set(address, p);
      return p;
    },
  };
}

interface Pending {
  batch: PortReporterRecord[];
  settled: boolean;
  done: Promise<void>;
}

/** Fills RemoteHostName, keeping record order, with a bounded read-ahead window. */
export async function* resolveInOrder(source: AsyncIterable<PortReporterRecord[]>, resolver: Resolver, window = 5000): AsyncGenerator<PortReporterRecord[]> {
  const it = source[Symbol.asyncIterator]();
  const queue: Pending[] = [];
  let queued = 0;
  let next: Promise<IteratorResult<PortReporterRecord[]>> | null = it.next();
  next.catch(() => {});
  try {
    for (;;) {
      while (queue.length > 0 && queue[0]!.settled) {
        const head = queue.shift()!;
        queued -= head.batch.length;
        yield head.batch;
      }
      if (next === null) {
        if (queue.length === 0) return;
        await queue[0]!.done;
        continue;
      }
      if (queue.length > 0 && queued >= window) {
        await queue[0]!.done;
        continue;
      }
      const current: Promise<IteratorResult<PortReporterRecord[]>> = next;
      const step = queue.length > 0 ? await Promise.race([current, queue[0]!.done.then(() => undefined)]) : await current;
      if (step === undefined) continue;
      if (step.done) {
        next = null;
        continue;
      }
      next = it.next();
      next.catch(() => {});
      const pending = lookupBatch(step.value, resolver);
      queue.push(pending);
      queued += pending.batch.length;
    }
  } finally {
    await it.return?.();
  }
}

function lookupBatch(batch: PortReporterRecord[], resolver: Resolver): Pending {
  const waits: Promise<void>[] = [];
  for (const r of batch) {
    const name = resolver.nameOf(r.RemoteAddress);
    if (name instanceof Promise) {
      waits.push(
        name.then((n) => {
          r.RemoteHostName = n;
        }),
      );
    } else {
      r.RemoteHostName = name;
    }
  }
  const pending: Pending = { batch, settled: waits.length === 0, done: Promise.resolve() };
  if (waits.length > 0) {
    pending.done = Promise.all(waits).then(() => {
      pending.settled = true;
    });
  }
  return pending;
}
