/** Crash repair: a file cut back to its last whole record (what a power cut can leave behind). */
import * as fs from 'node:fs';
import { openOwnFile } from './safe-open';

/**
 * Cuts a file back to its last whole record: after the last line end for line files, after the last
 * blank line for block files (PIDS, INITIAL: a block ends with one). Returns the bytes removed.
 * Throws UnsafeLocationError (78) for a file that is not our regular file.
 */
export function repairFile(file: string, blocks: boolean): number {
  // Opened without following links and verified ours (safe-open.ts): only our own files are cut.
  const fd = openOwnFile(file, fs.constants.O_RDWR);
  if (fd === null) return 0;
  try {
    return repairOpen(fd, blocks);
  } finally {
    fs.closeSync(fd);
  }
}

function repairOpen(fd: number, blocks: boolean): number {
  const data = fs.readFileSync(fd);
  if (data.length === 0) return 0;
  let keep: number;
  if (blocks) {
    if (data.subarray(-4).toString('latin1') === '\r\n\r\n' || data.subarray(-2).toString('latin1') === '\n\n') return 0;
    const crlf = data.lastIndexOf('\r\n\r\n');
    const lf = data.lastIndexOf('\n\n');
    keep = Math.max(crlf >= 0 ? crlf + 4 : 0, lf >= 0 ? lf + 2 : 0);
  } else {
    if (data[data.length - 1] === 0x0a) return 0;
    keep = data.lastIndexOf(0x0a) + 1;
  }
  fs.ftruncateSync(fd, keep);
  return data.length - keep;
}
