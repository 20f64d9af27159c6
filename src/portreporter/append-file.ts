/**
 * One log file that only ever receives whole records, each in one write() to a file opened O_APPEND,
 * so a kill -9 between two writes leaves whole records; a write the OS takes only in part (a full
 * disk) is cut back to the previous size at once.
 */
import * as fs from 'node:fs';
import { openAppend } from './safe-open';

/** A file we only ever append whole records to. */
export class AppendFile {
  private fd: number | null = null;
  size = 0;
  dirty = false;

  /** `mustBeNew`: the file belongs to a set we start, so it is created with O_EXCL (an existing one is refused). */
  constructor(readonly path: string, private readonly header: string, private readonly mustBeNew = false) {}

  /** The open descriptor (null before the first write), for the writer's per-poll identity check. */
  get descriptor(): number | null {
    return this.fd;
  }

  /** True once the file holds more than its header. */
  get hasRecords(): boolean {
    return this.size > Buffer.byteLength(this.header);
  }

  open(): void {
    if (this.fd !== null) return;
    // Never follows a link; only our own regular file (safe-open.ts).
    this.fd = openAppend(this.path, this.mustBeNew);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Writes one record in one write(); the file is unchanged if it fails (header written first if new). */
  append(text: string): void {
    this.create();
    this.writeWhole(Buffer.from(text, 'utf8'));
  }

  /** Opens the file and writes its header if it is new. */
  create(): void {
    this.open();
    if (this.size === 0 && this.header) this.writeWhole(Buffer.from(this.header, 'utf8'));
  }

  private writeWhole(buf: Buffer): void {
    const before = this.size;
    let written = 0;
    try {
      written = fs.writeSync(this.fd!, buf);
    } catch (err) {
      this.cutBack(before);
      throw err;
    }
    if (written !== buf.length) {
      this.cutBack(before);
      throw Object.assign(new Error(`short write to ${this.path}: ${written} of ${buf.length} bytes`), { code: 'ENOSPC' });
    }
    this.size = before + written;
    this.dirty = true;
  }

  private cutBack(size: number): void {
    try {
      fs.ftruncateSync(this.fd!, size);
    } catch {
      // the repair at the next start cuts whatever is left after the last whole record
    }
  }

  sync(): void {
    if (this.fd !== null && this.dirty) {
      try {
        fs.fsyncSync(this.fd);
      } catch {
        // fsync can fail on a full disk; the data stays in the page cache and the next sync retries
        return;
      }
      this.dirty = false;
    }
  }

  close(): void {
    if (this.fd === null) return;
    this.sync();
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
