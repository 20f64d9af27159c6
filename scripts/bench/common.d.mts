// Types of the scripts/bench/common.mjs helpers that TypeScript bench scripts import
// (scripts/bench/stats-parts.ts); the plain-JavaScript scripts need none.

/** The generated busy-server PR-PORTS log of that many megabytes (made once, kept); its path. */
export function benchLog(megabytes: number): string;

/** The median of the values (NaN for none). */
export function median(xs: readonly number[]): number;
