import * as fs from 'node:fs';
import { DataError, fileError } from '../errors';

/**
 * --targets-file: at most this many bytes. A list of 65536 targets (the most one run takes) with long
 * names fits many times over; anything larger is a mistake (a log, a disk image, /dev/zero) and would
 * otherwise be read whole into memory.
 */
export const TARGETS_FILE_MAX_BYTES = 16 << 20;

/** Text of a targets file: UTF-8 (BOM or not), or UTF-16 LE/BE with a BOM (what PowerShell 5.1's `>` writes). */
export function decodeTargetsText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return swapped.swap16().toString('utf16le');
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  return bytes.toString('utf8');
}

/** Reads `path` (`-` = stdin) up to TARGETS_FILE_MAX_BYTES; larger is a DataError (65) naming the cap. */
export function readTargetsFile(path: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  let fd: number;
  try {
    fd = path === '-' ? 0 : fs.openSync(path, 'r');
  } catch (err) {
    throw fileError(err, path);
  }
  try {
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          // A non-blocking stdin with nothing yet: wait a little instead of spinning.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
          continue;
        }
        if ((err as NodeJS.ErrnoException).code === 'EOF') break;
        throw fileError(err, path);
      }
      if (n === 0) break;
      total += n;
      if (total > TARGETS_FILE_MAX_BYTES) throw new DataError(`--targets-file ${path} is larger than ${TARGETS_FILE_MAX_BYTES >> 20} MiB, the most it may be`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
  } finally {
    if (path !== '-') fs.closeSync(fd);
  }
  return decodeTargetsText(Buffer.concat(chunks));
}
