import { UsageError } from '../errors';

/**
 * Wildcard patterns (`*`, `?`, and in file globs `[abc]`, `[a-z]`, `[!a]`) matched in linear time.
 *
 * A pattern is split at its `*`s into star-free segments. The first segment must match at the start,
 * the last at the end, and each one in between is taken at its leftmost match after the previous one:
 * a `*` absorbs anything, so the leftmost choice is never worse than a later one and nothing is ever
 * retried. The cost is at most (string length × pattern length) character tests, whatever the number
 * of `*`s; a backtracking regex (`^.*a.*a.*b$`) costs string length to the power of the stars and let a
 * hostile process name in a log stall a scheduled `--fail-on-flag` check (issue 14).
 */
export interface Wildcard {
  readonly pattern: string;
  test(text: string): boolean;
}

type Token = { kind: 'char'; ch: string } | { kind: 'any' } | { kind: 'class'; negate: boolean; items: [string, string][] };

export interface WildcardOptions {
  /** Compare case-insensitively (Windows names, and every parse/stats filter). */
  caseInsensitive?: boolean;
  /** Accept `[...]` character classes (file globs); otherwise `[` is an ordinary character. */
  classes?: boolean;
  /** How to name the pattern in a usage error, e.g. "--process" or "wildcard". */
  what?: string;
}

export function compileWildcard(pattern: string, options: WildcardOptions = {}): Wildcard {
  const fold = options.caseInsensitive ? (s: string) => s.toLowerCase() : (s: string) => s;
  const segments: Token[][] = [[]];
  const chars = [...fold(pattern)];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (segments[segments.length - 1]!.length > 0 || segments.length === 1) segments.push([]);
      continue;
    }
    if (c === '?') {
      segments[segments.length - 1]!.push({ kind: 'any' });
      continue;
    }
    if (c === '[' && options.classes) {
      let j = i + 1;
      const negate = chars[j] === '!' || chars[j] === '^';
      if (negate) j++;
      const start = j;
      // A `]` right after `[` or `[!` is a member, as in POSIX globs.
      while (j < chars.length && (chars[j] !== ']' || j === start)) j++;
      if (j >= chars.length) {
        throw new UsageError(`invalid ${options.what ?? 'wildcard'} '${pattern}': '[' at position ${i + 1} has no closing ']'`);
      }
      const body = chars.slice(start, j);
      const items: [string, string][] = [];
      for (let k = 0; k < body.length; k++) {
        const lo = body[k]!;
        if (body[k + 1] === '-' && k + 2 < body.length) {
          const hi = body[k + 2]!;
          if (hi < lo) throw new UsageError(`invalid ${options.what ?? 'wildcard'} '${pattern}': range '${lo}-${hi}' is out of order`);
          items.push([lo, hi]);
          k += 2;
        } else items.push([lo, lo]);
      }
      segments[segments.length - 1]!.push({ kind: 'class', negate, items });
      i = j;
      continue;
    }
    segments[segments.length - 1]!.push({ kind: 'char', ch: c });
  }
  const starred = segments.length > 1;
  return {
    pattern,
    test(input: string): boolean {
      const text = [...fold(input)];
      if (!starred) return text.length === segments[0]!.length && matchesAt(segments[0]!, text, 0);
      const first = segments[0]!;
      const last = segments[segments.length - 1]!;
      if (first.length + last.length > text.length) return false;
      if (!matchesAt(first, text, 0)) return false;
      const end = text.length - last.length;
      if (!matchesAt(last, text, end)) return false;
      let pos = first.length;
      for (let s = 1; s < segments.length - 1; s++) {
        const seg = segments[s]!;
        let found = -1;
        for (let at = pos; at + seg.length <= end; at++) {
          if (matchesAt(seg, text, at)) {
            found = at;
            break;
          }
        }
        if (found < 0) return false;
        pos = found + seg.length;
      }
      return true;
    },
  };
}

function matchesAt(segment: readonly Token[], text: readonly string[], at: number): boolean {
  for (let k = 0; k < segment.length; k++) {
    const t = segment[k]!;
    const c = text[at + k];
    if (c === undefined) return false;
    if (t.kind === 'any') continue;
    if (t.kind === 'char') {
      if (t.ch !== c) return false;
      continue;
    }
    const inClass = t.items.some(([lo, hi]) => c >= lo && c <= hi);
    if (inClass === t.negate) return false;
  }
  return true;
}
