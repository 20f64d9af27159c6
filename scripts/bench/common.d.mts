// Types of the scripts/bench/common.mjs helpers that TypeScript bench scripts import
// (scripts/bench/stats-parts.ts); the plain-JavaScript scripts need none.

/** The generated busy-server PR-PORTS log of that many megabytes (made once, kept); its path. */
export function benchLog(megabytes: number): string;

/** The median of the values (NaN for none). */
export function median(xs: readonly number[]): number;

/** The log benchmarks' input: argv[2] megabytes (else defaultMb), RUNS (env, default 3), the generated log, its bytes and GiB. */
export function benchInput(defaultMb: number): { MB: number; RUNS: number; log: string; bytes: number; gb: number };
