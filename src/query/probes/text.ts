import { sanitizeLine } from '../../output/sanitize';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes from a text protocol (banners, HTTP headers) as a string, nothing stripped: UTF-8 when the bytes
 * are valid UTF-8, otherwise Latin-1 so that every byte stays visible as one character.
 */
export function decodeText(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Untrusted multi-line text as terminal-safe lines (CRLF or LF separated, a trailing newline dropped). */
export function textLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map(sanitizeLine);
}

/** The complete lines (each ended by LF, CR dropped) at the start of a buffer; a partial last line is left out. */
export function completeLines(buffered: Buffer): string[] {
  const end = buffered.lastIndexOf(0x0a);
  if (end < 0) return [];
  return buffered.subarray(0, end + 1).toString('latin1').split('\n').slice(0, -1).map((l) => l.replace(/\r$/, ''));
}
