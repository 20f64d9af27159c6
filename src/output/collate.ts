/**
 * The order output lists addresses and names in: Unicode collation of the root locale (what
 * `localeCompare(b, 'en')` gives), computed here for printable ASCII without ICU.
 *
 * Why not localeCompare itself: its first call builds an ICU collator (17 ms on this machine, in every
 * process that sorts), each call costs ten times a code-unit comparison, and without a locale argument
 * it follows the machine's locale, so the same sockets could be listed in a different order on a
 * server set up in another language. Code-unit order (`<`) is not the same order: collation puts
 * punctuation before digits and digits before letters (":" before "." before "0"), and letters
 * without regard to case first ("a" and "A" before "b"), lower case first among otherwise equal texts.
 *
 * For printable ASCII (0x20-0x7E) the root collation (CLDR's allkeys, non-ignorable, tertiary
 * strength) is exactly: compare the texts by each character's primary weight, case folded (PRIMARY_ORDER
 * below, from ICU 78 and checked against it for every pair of characters in
 * test/unit/output/collate.test.ts); a shorter text that is a prefix comes first; texts equal at that
 * level compare by case at the first character where they differ, lower case first. Texts with any
 * other character are compared by ICU (`localeCompare(b, 'en')`), which agrees with this on ASCII, so
 * the order stays one total order.
 */

/** Printable ASCII by primary weight: every character its own weight, except a letter and its capital. */
const PRIMARY_ORDER = ' _-,;:!?.\'"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz';

/** Primary weight (1-based) of each code unit below 0x7F; 0: not printable ASCII. */
const PRIMARY = new Uint8Array(128);
for (let i = 0; i < PRIMARY_ORDER.length; i++) {
  const c = PRIMARY_ORDER.charCodeAt(i);
  PRIMARY[c] = i + 1;
  if (c >= 97 && c <= 122) PRIMARY[c - 32] = i + 1;
}

/** Root-locale collation order of two texts: negative, zero or positive, as localeCompare(b, 'en'). */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let caseOrder = 0;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) {
      // Anything before the first difference is printable ASCII too, or ICU decides.
      if (x >= 128 || PRIMARY[x] === 0) return icuCompare(a, b);
      continue;
    }
    const px = x < 128 ? PRIMARY[x]! : 0;
    const py = y < 128 ? PRIMARY[y]! : 0;
    if (px === 0 || py === 0) return icuCompare(a, b);
    if (px !== py) {
      // The primary order is decided here, unless a later character is not printable ASCII.
      return restIsAscii(a, i + 1) && restIsAscii(b, i + 1) ? px - py : icuCompare(a, b);
    }
    // The same letter in another case: decides only if nothing differs at the primary level.
    // Lower case (the larger code unit) first.
    if (caseOrder === 0) caseOrder = y - x;
  }
  if (!restIsAscii(a, n) || !restIsAscii(b, n)) return icuCompare(a, b);
  if (a.length !== b.length) return a.length - b.length;
  return caseOrder;
}

function restIsAscii(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || PRIMARY[c] === 0) return false;
  }
  return true;
}

function icuCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en');
}
