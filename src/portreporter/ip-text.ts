/**
 * What `net.isIP` answers for a text (4, 6 or 0), without node:net. parse's and stats' worker threads use this:
 * in the Linux executable (started from a V8 startup snapshot) a worker thread that loads node:net,
 * node:tty or node:v8 aborts the process (`Assertion failed: shutdown_wrap_template_.IsEmpty()`), so
 * the worker's code must not need them (scripts/bundle.mjs, docs/benchmarks.md parse). The rules are
 * net.isIP's, proven equal on edge cases and random texts (test/unit/ip-text.test.ts):
 * - IPv4: four decimal parts 0-255 without leading zeros;
 * - IPv6: hexadecimal groups of 1-4 digits separated by ':', the last two groups possibly an IPv4
 *   address; exactly 8 groups, or at most 7 with one '::' standing for the rest; an optional zone
 *   ('%' and at least one of [0-9a-zA-Z-.:]).
 */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (isIPv4Text(text, 0, text.length)) return 4;
  return isIPv6Text(text) ? 6 : 0;
}

function isIPv4Text(s: string, from: number, to: number): boolean {
  let parts = 0;
  let i = from;
  for (;;) {
    const start = i;
    let value = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || value > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    parts++;
    if (i === to) return parts === 4;
    if (parts === 4 || s.charCodeAt(i) !== 46 /* . */) return false;
    i++;
  }
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isZoneChar(c: number): boolean {
  return (c >= 48 && c <= 58) /* 0-9 : */ || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;
}

/** Groups in s[from, to) separated by ':' (none when empty); -1 when one is not valid. An IPv4 address may end them when `v4` (it counts 2). */
function countGroups(s: string, from: number, to: number, v4: boolean): number {
  if (from === to) return 0;
  let groups = 0;
  let i = from;
  for (;;) {
    let j = i;
    while (j < to && s.charCodeAt(j) !== 58 /* : */) j++;
    const len = j - i;
    let hex = len >= 1 && len <= 4;
    for (let k = i; hex && k < j; k++) hex = isHex(s.charCodeAt(k));
    if (!hex) {
      // Only the last group may be an IPv4 address.
      if (j === to && v4 && isIPv4Text(s, i, j)) return groups + 2;
      return -1;
    }
    groups++;
    if (j === to) return groups;
    i = j + 1;
    if (i === to) return -1; // a trailing single ':'
  }
}

function isIPv6Text(s: string): boolean {
  let end = s.indexOf('%');
  if (end >= 0) {
    if (end === s.length - 1) return false;
    for (let k = end + 1; k < s.length; k++) if (!isZoneChar(s.charCodeAt(k))) return false;
  } else {
    end = s.length;
  }
  const gap = s.indexOf('::');
  if (gap < 0 || gap >= end) {
    if (end === 0) return false;
    return countGroups(s, 0, end, true) === 8;
  }
  if (s.indexOf('::', gap + 1) >= 0 && s.indexOf('::', gap + 1) < end) return false;
  const head = countGroups(s, 0, gap, false);
  if (head < 0) return false;
  const tail = countGroups(s, gap + 2, end, true);
  if (tail < 0) return false;
  // ':::' and the like: a group may not be empty next to the gap.
  return head + tail <= 7;
}
