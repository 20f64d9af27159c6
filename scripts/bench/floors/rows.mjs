// The least reading a PR-PORTS row needs, for the floor programs (scripts/bench/floor.mjs): the file
// in 1 MiB reads, line ends and the nine commas of each row found with Buffer.indexOf (memchr), no
// strings made, no field checked. forEachRow(file, onRow) calls onRow(buf, start, end, cut, lineNo)
// for every line after the 7-line preamble; cut holds the nine comma positions (Int32Array, reused).
// forEachRow(file, onRow, { from, to }) reads the rows that start in bytes [from, to) of the file, for
// a floor that splits the file between threads: a range that does not start at 0 begins at the first
// row that starts at or after `from` (never in the preamble), and each range ends with the row that
// begins before `to`, so the ranges of a split see every row once. lineNo then counts the range's
// lines, not the file's.
import * as fs from 'node:fs';

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
