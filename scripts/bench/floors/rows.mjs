// The least reading a PR-PORTS row needs, for the floor programs (scripts/bench/floor.mjs): the file
// in 1 MiB reads, line ends and the nine commas of each row found with Buffer.indexOf (memchr), no
// strings made, no field checked. forEachRow(file, onRow) calls onRow(buf, start, end, cut, lineNo)
// for every line after the 7-line preamble; cut holds the nine comma positions (Int32Array, reused).
// forEachRow(file, onRow, { from, to }) reads the rows that start in bytes [from, to) of the file, for
// a floor that splits the file between threads: a range that does not start at 0 begins at the first
// row that starts at or after `from` (never in the preamble), and each range ends with the row that
// begins before `to`, so the ranges of a split see every row once. lineNo then counts the range's
// lines, not the file's.
// Also the helpers the counting floors share: part() builds a table key from field bytes in one
// scratch buffer, decimal() reads a number, rowTime() converts a row's date and time once per second.
import * as fs from 'node:fs';

export const scratch = Buffer.alloc(4096);
/** Copies buf[a, b) into the scratch key at k; returns the new end (a 0 byte separates parts). */
export const part = (buf, a, b, k) => {
  buf.copy(scratch, k, a, b);
  scratch[k + b - a] = 0;
  return k + b - a + 1;
};
/** The decimal number in buf[a, b) (digits only: the floors check nothing). */
export const decimal = (buf, a, b) => {
  let n = 0;
  for (let i = a; i < b; i++) n = n * 10 + buf[i] - 48;
  return n;
};

/** The current row's second, clock hour and day since 1970, and the first row's hour and day. */
export const clock = { text: Buffer.alloc(64), length: -1, second: 0, hour: 0, day: 0, firstHour: -1, firstDay: -1 };
/**
 * Sets `clock` from the row's "yy/mm/dd,h:m:s" in buf[start, timeEnd), converted only when the text
 * changes (rows of one second share it). The local time is taken as UTC: no zone conversion.
 */
export function rowTime(buf, start, timeEnd) {
  const n = timeEnd - start;
  if (n === clock.length && clock.text.compare(buf, start, timeEnd, 0, n) === 0) return;
  buf.copy(clock.text, 0, start, timeEnd);
  clock.length = n;
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, k = 0;
  for (let i = start; i < timeEnd; i++) {
    const c = buf[i] - 48;
    if (c < 0 || c > 9) k++;
    else if (k === 0) y = y * 10 + c;
    else if (k === 1) mo = mo * 10 + c;
    else if (k === 2) d = d * 10 + c;
    else if (k === 3) h = h * 10 + c;
    else if (k === 4) mi = mi * 10 + c;
    else s = s * 10 + c;
  }
  clock.second = Date.UTC(2000 + y, mo - 1, d, h, mi, s) / 1000;
  clock.hour = Math.floor(clock.second / 3600);
  clock.day = Math.floor(clock.hour / 24);
  if (clock.firstHour < 0) {
    clock.firstHour = clock.hour;
    clock.firstDay = clock.day;
  }
}

export function forEachRow(file, onRow, { from = 0, to = Infinity } = {}) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  const cut = new Int32Array(9);
  let carry = 0;
  if (from > 0) from = Math.max(from, preambleEnd(fd, buf));
  let lineNo = from === 0 ? 0 : 7;
  // File offset of buf[0]; skipping: the partial line before a range's first row is not a row.
  let base = from === 0 ? 0 : from - 1;
  let position = base;
  let skipping = from !== 0;
  for (;;) {
    const n = fs.readSync(fd, buf, carry, buf.length - carry, position);
    if (n === 0) break;
    position += n;
    const end = carry + n;
    let start = 0;
    let nl;
    while ((nl = buf.indexOf(10, start)) !== -1 && nl < end) {
      if (skipping) {
        skipping = false;
        start = nl + 1;
        continue;
      }
      if (base + start >= to) {
        fs.closeSync(fd);
        return;
      }
      lineNo++;
      if (lineNo > 7) {
        let p = start;
        for (let c = 0; c < 9; c++) {
          p = buf.indexOf(44, p);
          cut[c] = p++;
        }
        const rowEnd = buf[nl - 1] === 13 ? nl - 1 : nl;
        onRow(buf, start, rowEnd, cut, lineNo);
      }
      start = nl + 1;
    }
    buf.copy(buf, 0, start, end);
    base += start;
    carry = end - start;
  }
  fs.closeSync(fd);
}

/** The offset just after the preamble's 7 lines (within the first 1 MiB, as in every Port Reporter log). */
function preambleEnd(fd, buf) {
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  let end = 0;
  for (let line = 0; line < 7; line++) {
    const nl = buf.indexOf(10, end);
    if (nl === -1 || nl >= n) return n;
    end = nl + 1;
  }
  return end;
}
