import * as v8 from 'node:v8';

/**
 * How much memory V8 may keep ahead of what a command's objects need, set per command at run time.
 *
 * The executable's V8 options are fixed for every command when the heap is set up (the SEA's
 * execArgv, or NODE_OPTIONS): --max-semi-space-size or --max-old-space-size there would cost every
 * command (parse +15 % CPU, stats +57 % CPU and +130 MB RSS; docs/benchmarks.md, memory). Two of V8's
 * heap-sizing options are, however, read again at every collection rather than once at heap set-up,
 * so `v8.setFlagsFromString` at the start of a command changes what that command's heap does from then
 * on (V8 src/heap/heap-controller.cc, MemoryController::GrowingFactor reads `heap_growing_percent` for
 * each new old-generation limit; src/heap/new-spaces.cc, SemiSpaceNewSpace::Grow multiplies by
 * `semi_space_growth_factor` each time the young generation grows). The figures that chose these
 * values are in docs/benchmarks.md (memory, stats), measured on whole processes:
 *
 * - long-running (the recorder): its allocation rate is low (one poll a second), so keeping the young
 *   generation at its initial size costs nothing measurable, and the peak RSS at 1,000 sockets falls
 *   by about 5 MB (RssAnon 36 → 31 MB in the executable).
 * - bounded-tables (stats): the live tables are bounded (about 45–65 MB), but V8 lets the old
 *   generation grow to about four times that between full collections; a fixed 30 % growth cut the
 *   peak RSS on 200 MB of a busy server's log from 276–305 MB to 214–239 MB for about 10 % more CPU.
 *
 * Node.js documents changing flags after start-up as unsupported in general
 * (https://nodejs.org/api/v8.html#v8setflagsfromstringflags); these two are sizing heuristics, not
 * semantics, and test/unit/runtime/heap.test.ts shows on this Node that they take effect.
 */
export const HEAP_PROFILES = {
  'long-running': ['--semi-space-growth-factor=1'],
  'bounded-tables': ['--heap-growing-percent=30'],
} as const satisfies Record<string, readonly string[]>;

export type HeapProfile = keyof typeof HEAP_PROFILES;

/** Applies a command's heap profile; main thread only (a worker must not load node:v8, see src/portreporter/ip-text.ts). */
export function useHeapProfile(profile: HeapProfile, setFlags: (flags: string) => void = v8.setFlagsFromString): void {
  for (const flag of HEAP_PROFILES[profile]) setFlags(flag);
}

/** V8's default `--semi-space-growth-factor` (src/flags/flag-definitions.h). */
const DEFAULT_SEMI_SPACE_GROWTH_FACTOR = 2;

/**
 * Holds the young generation at about `maxBytes` (both semi-spaces) once it got there, for a command
 * that runs a long loop (stats): V8 reads `--max-semi-space-size` only at heap set-up, so the cap is
 * made of the flag it reads at each growth. Returns a check to call now and then (once per batch of
 * records): at or above the cap the young generation stops growing (growth factor 1); below it (V8
 * shrank it) it may grow again (V8's default factor), so it never stays at its 1 MB start, which
 * promotes too much (stats +45–65 % CPU). Young generation sizes: docs/benchmarks.md (memory).
 */
export function youngGenerationCap(
  maxBytes: number,
  setFlags: (flags: string) => void = v8.setFlagsFromString,
  newSpaceBytes: () => number = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0,
): () => void {
  let capped = false;
  return () => {
    const atCap = newSpaceBytes() >= maxBytes;
    if (atCap === capped) return;
    capped = atCap;
    setFlags(`--semi-space-growth-factor=${atCap ? 1 : DEFAULT_SEMI_SPACE_GROWTH_FACTOR}`);
  };
}
