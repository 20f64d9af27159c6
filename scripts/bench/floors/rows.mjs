// The least reading a PR-PORTS row needs, for the floor programs (scripts/bench/floor.mjs): the file
// in 1 MiB reads, line ends and the nine commas of each row found with Buffer.indexOf (memchr), no
// strings made, no field checked. forEachRow(file, onRow) calls onRow(buf, start, end, cut, lineNo)
// for every line after the 7-line preamble; cut holds the nine comma positions (Int32Array, reused).
import * as fs from 'node:fs';

export function forEachRow(file, onRow) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  const cut = new Int32Array(9);
  let carry = 0;
  let lineNo = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, carry, buf.length - carry, null);
    if (n === 0) break;
    const end = carry + n;
    let start = 0;
    let nl;
    while ((nl = buf.indexOf(10, start)) !== -1 && nl < end) {
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
    carry = end - start;
  }
  fs.closeSync(fd);
}
