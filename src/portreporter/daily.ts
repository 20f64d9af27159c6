/**
 * "Daily" rotation means local midnight: a new set starts with the first record written at or after
 * 00:00 local time, as an administrator reads the file names (their suffix is local time, as Port
 * Reporter's). Days are computed with the Date constructor in the local zone, so a DST day lasts 23
 * or 25 hours and still has one midnight; in a zone where midnight itself is skipped by DST the day
 * starts at the first local time after it. The next midnight is a fixed instant, compared with `>=`:
 * a backward wall-clock step does not start another set, and a forward one starts one set, not one
 * per skipped day.
 */

/** Epoch ms of the first local midnight after `date`. */
export function nextLocalMidnight(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1, 0, 0, 0, 0).getTime();
}

/** The first local midnight after the day a set was started, from its suffix (yy-MM-d-H-m-s[-n]). */
export function suffixNextMidnight(suffix: string): number {
  const [yy, mm, d] = suffix.split('-').map(Number);
  return new Date(2000 + yy!, mm! - 1, d! + 1, 0, 0, 0, 0).getTime();
}
