/**
 * V8's one copy of a string (its string table, as for a property name): a flat string of its own, not a
 * slice of a larger one, and two such strings compare by address where two copies compare by content
 * (the reader's process and user names, the stats tallies' values; docs/benchmarks.md, "stats: every
 * large table as columns"). A string that names an array index ("123") comes back as an equal string.
 * Kept apart from the readers so that the start path (src/cli.ts) can use it without them.
 */
export function internalized(s: string): string {
  for (const key in { [s]: 0 }) return key;
  return s;
}
