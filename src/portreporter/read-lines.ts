import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/**
 * Lines of a log file, decoded, in batches (one per read chunk) so that the hot path pays no
 * per-line async cost. Handles what old Windows files look like: a UTF-8 BOM, UTF-16LE with a BOM
 * (or without one, recognised by its zero high bytes), ANSI (Windows-1252) lines that are not valid
 * UTF-8, CRLF or LF, a last line without a line end, and BOMs in the middle (files concatenated with
 * `copy /b`). Memory is bounded by the chunk size plus maxLineBytes, whatever the input.
 */
export interface LineBatch {
  /**
   * Decoded lines without their line end; null stands for a line longer than maxLineBytes (content
   * dropped). With the `raw` option, the lines of raw are undefined until lineOf decodes them: a
   * PR-PORTS row read from its bytes never needs its string.
   */
  lines: (string | null | undefined)[];
  /** 1-based number of lines[0]. */
  firstLine: number;
  /** True when the batch's last line had no line end (the file ended in the middle of a line). */
  unterminated: boolean;
  /**
   * With the `raw` option, for UTF-8 input: the bytes lines[rawFirst + k] were decoded from are
   * raw[rawStarts[k], rawStarts[k + 1] - 1) (its LF excluded; a CR, a BOM still there), for k below
   * rawStarts.length - 1. The PR-PORTS row reader reads them instead of the strings (read-ports-bytes.ts).
   */
  raw?: Buffer;
  rawFirst?: number;
  rawStarts?: Int32Array;
  /** maxLineBytes, for lineOf. */
  rawMaxLine?: number;
}

/**
 * Line i of a batch as its string: one the `raw` option left undefined is decoded here from its
 * bytes, exactly as the reader decodes a UTF-8 body (the whole body's text split at LF, each line
 * over maxLineBytes null, a trailing CR and a leading BOM removed).
 */
export function lineOf(batch: LineBatch, i: number): string | null {
  const line = batch.lines[i];
  if (line !== undefined) return line;
  const k = i - batch.rawFirst!;
  const part = batch.raw!.toString('utf8', batch.rawStarts![k]!, batch.rawStarts![k + 1]! - 1);
  const decoded = part.length > batch.rawMaxLine! ? null : stripLine(part);
  batch.lines[i] = decoded;
  return decoded;
}

export interface LineReaderOptions {
  /** Longest line kept; longer ones are reported as null. Default 1 MiB. */
  maxLineBytes?: number;
  /** Number of the first line (default 1): a reader that starts at a line boundary inside a file. */
  firstLine?: number;
  /** The encoding, already known (a reader that starts inside a file): no sniffing, no BOM removed at the start. */
  encoding?: 'bytes';
  /** Also hand over the bytes of the lines (LineBatch.raw) where the input is UTF-8. */
  raw?: boolean;
}

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

const LF = 0x0a;

export async function* readLineBatches(source: AsyncIterable<Buffer | string>, options: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let lineNo = options.firstLine ?? 1;
  let encoding: 'bytes' | 'utf16le' | undefined = options.encoding;
  let carry: Buffer | undefined;
  // UTF-16: the decoder keeps a split code unit between chunks; text after the last LF waits here.
  let decoder: TextDecoder | undefined;
  let textCarry = '';
  // Inside a line that already exceeded maxLine: its bytes are dropped until the next LF.
  let overlong = false;
  let head: Buffer | undefined;
  const wantRaw = options.raw === true;

  for await (const piece of source) {
    let chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    if (encoding === undefined) {
      // Sniff on the first bytes: need at least 4 (or the end of input) to tell UTF-16 by its zeros.
      head = head ? Buffer.concat([head, chunk]) : chunk;
      if (head.length < 4) continue;
      chunk = begin(head);
      head = undefined;
    }
    const batch = decoder ? fromText(decoder.decode(chunk, { stream: true }), false) : fromBytes(chunk, false);
    if (batch) yield batch;
  }
  if (encoding === undefined && head) {
    const chunk = begin(head);
    const batch = decoder ? fromText(decoder.decode(chunk, { stream: true }), false) : fromBytes(chunk, false);
    if (batch) yield batch;
  }
  const last = decoder ? fromText(decoder.decode(), true) : fromBytes(Buffer.alloc(0), true);
  if (last) yield last;

  /** Decides the encoding from the first bytes; returns them without their BOM. */
  function begin(first: Buffer): Buffer {
    encoding = sniffEncoding(first);
    if (encoding === 'utf16le') {
      decoder = new TextDecoder('utf-16le');
      return first[0] === 0xff && first[1] === 0xfe ? first.subarray(2) : first;
    }
    return first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? first.subarray(3) : first;
  }

  function fromBytes(chunk: Buffer, end: boolean): LineBatch | undefined {
    let buf = carry && carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    carry = undefined;
    const lines: (string | null | undefined)[] = [];
    const firstLine = lineNo;
    if (overlong) {
      const nl = buf.indexOf(LF);
      if (nl < 0) {
        if (end) {
          overlong = false;
          return push([null], true);
        }
        return undefined;
      }
      overlong = false;
      lines.push(null);
      buf = buf.subarray(nl + 1);
    }
    const lastNl = buf.lastIndexOf(LF);
    const body = lastNl >= 0 ? buf.subarray(0, lastNl + 1) : buf.subarray(0, 0);
    const rest = buf.subarray(lastNl + 1);
    let raw: Buffer | undefined;
    let rawFirst = 0;
    let rawStarts: Int32Array | undefined;
    if (body.length > 0) {
      if (isUtf8(body)) {
        rawFirst = lines.length;
        if (wantRaw) {
          // The lines stay undefined until lineOf decodes them.
          raw = body;
          rawStarts = lineStarts(body);
          lines.length = rawFirst + rawStarts.length - 1;
        } else {
          splitText(body.toString('utf8'), lines, true);
        }
      } else {
        splitMixedBytes(body, lines);
      }
    }
    let unterminated = false;
    if (rest.length > 0) {
      if (end) {
        lines.push(rest.length > maxLine ? null : decodeLineBytes(rest));
        unterminated = true;
      } else if (rest.length > maxLine) {
        overlong = true;
      } else {
        // Copy: the rest would otherwise pin the whole read chunk.
        carry = Buffer.from(rest);
      }
    }
    if (lines.length === 0) return undefined;
    const batch = push(lines, unterminated, firstLine);
    if (rawStarts !== undefined) {
      batch.raw = raw;
      batch.rawFirst = rawFirst;
      batch.rawStarts = rawStarts;
      batch.rawMaxLine = maxLine;
    }
    return batch;
  }

  function fromText(text: string, end: boolean): LineBatch | undefined {
    let buf = textCarry + text;
    textCarry = '';
    const lines: (string | null)[] = [];
    const firstLine = lineNo;
    if (overlong) {
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (end && buf.length > 0) {
          overlong = false;
          return push([null], true);
        }
        return undefined;
      }
      overlong = false;
      lines.push(null);
      buf = buf.slice(nl + 1);
    }
    const lastNl = buf.lastIndexOf('\n');
    if (lastNl >= 0) splitText(buf.slice(0, lastNl + 1), lines, true);
    const rest = buf.slice(lastNl + 1);
    let unterminated = false;
    if (rest.length > 0) {
      if (end) {
        lines.push(rest.length * 2 > maxLine ? null : stripLine(rest));
        unterminated = true;
      } else if (rest.length * 2 > maxLine) {
        overlong = true;
      } else {
        textCarry = rest;
      }
    }
    return lines.length > 0 ? push(lines, unterminated, firstLine) : undefined;
  }

  function push(lines: (string | null | undefined)[], unterminated: boolean, firstLine = lineNo): LineBatch {
    lineNo = firstLine + lines.length;
    return { lines, firstLine, unterminated };
  }

  /** Splits text that ends with LF (when terminated) into lines, CR and BOMs removed, overlong lines nulled. */
  function splitText(text: string, out: (string | null | undefined)[], terminated: boolean): void {
    const parts = text.split('\n');
    if (terminated) parts.pop();
    for (const part of parts) {
      out.push(part.length > maxLine ? null : stripLine(part));
    }
  }

  /** A chunk that is not valid UTF-8 as a whole: each line is UTF-8 if it can be, else Windows-1252. */
  function splitMixedBytes(body: Buffer, out: (string | null | undefined)[]): void {
    let start = 0;
    while (start < body.length) {
      const nl = body.indexOf(LF, start);
      const end = nl < 0 ? body.length : nl;
      out.push(end - start > maxLine ? null : decodeLineBytes(body.subarray(start, end)));
      start = end + 1;
    }
  }
}

/** Where each line of body (which ends with LF) starts, and body.length after the last. */
function lineStarts(body: Buffer): Int32Array {
  let count = 0;
  for (let at = body.indexOf(LF); at >= 0; at = body.indexOf(LF, at + 1)) count++;
  const starts = new Int32Array(count + 1);
  let at = 0;
  for (let k = 0; k < count; k++) {
    starts[k] = at;
    at = body.indexOf(LF, at) + 1;
  }
  starts[count] = at;
  return starts;
}

function decodeLineBytes(bytes: Buffer): string {
  return stripLine(isUtf8(bytes) ? bytes.toString('utf8') : decodeWindows1252(bytes));
}

/** Removes a trailing CR and a leading BOM (left by concatenated files). */
function stripLine(line: string): string {
  let s = line;
  if (s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  return s;
}

export function sniffEncoding(head: Buffer): 'bytes' | 'utf16le' {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf16le';
  // No BOM but ASCII text in UTF-16LE: every second byte is zero ("P\0o\0r\0t\0").
  if (head.length >= 4 && head[0] !== 0 && head[1] === 0 && head[2] !== 0 && head[3] === 0) return 'utf16le';
  return 'bytes';
}

// Windows-1252 differs from ISO-8859-1 (Buffer's 'latin1') only in 0x80–0x9F.
const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** Decodes Windows-1252 (the ANSI code page of Western Windows systems). */
export function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}
