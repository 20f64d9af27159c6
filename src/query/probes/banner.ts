import { completeLines, decodeText, textLines } from './text';
import { ProbeDecodeError, type ProbeContext, type ProbeFields, type ProbeStream, type StreamProbe } from './types';

/** A greeting is at most this long; a server that talks more is cut off (Truncated: true). */
export const BANNER_MAX_BYTES = 4096;

/**
 * How a text protocol ends its greeting:
 * - `numeric` (FTP, SMTP): `220-…` lines continue, the first `220 …` line ends it (RFC 959 §4.2, RFC 5321 §4.2).
 * - `line` (POP3, IMAP): one line (`+OK …`, `* OK …`).
 */
export type ReplyStyle = 'numeric' | 'line';

/** True when `buffered` holds a complete reply of that style. */
export function replyComplete(buffered: Buffer, style: ReplyStyle): boolean {
  const lines = completeLines(buffered);
  if (lines.length === 0) return false;
  if (style === 'line') return true;
  const first = /^(\d{3})-/.exec(lines[0]!);
  if (!first) return true;
  return lines.some((l) => l.startsWith(`${first[1]} `) || l === first[1]);
}

/** The reply's status word: `220` for FTP/SMTP, `+OK`/`-ERR` for POP3, `OK`/`PREAUTH`/`BYE` for IMAP; null if none. */
export function replyStatus(text: string, style: ReplyStyle): string | null {
  const first = text.split('\n')[0]!.replace(/\r$/, '');
  const m = style === 'numeric' ? /^(\d{3})(?:[ -]|$)/.exec(first) : /^(\+OK|-ERR|\* (?:OK|PREAUTH|BYE))(?:\s|$)/i.exec(first);
  return m ? m[1]!.replace(/^\* /, '').toUpperCase() : null;
}

/** Fields for one reply: the text exactly as received, its status, and whether it was cut off. */
export function decodeReply(bytes: Buffer, style: ReplyStyle): { Text: string; Status: string | null; Truncated: boolean } {
  const text = decodeText(bytes);
  return { Text: text, Status: replyStatus(text, style), Truncated: !replyComplete(bytes, style) };
}

/** Reads one bounded reply; an empty read (silence until the timeout, or a closed connection) is a ProbeDecodeError. */
export async function readReply(stream: ProbeStream, style: ReplyStyle, ctx: ProbeContext, what: string): Promise<Buffer> {
  const bytes = await stream.read({ maxBytes: BANNER_MAX_BYTES, timeoutMs: ctx.timeoutMs, until: (b) => replyComplete(b, style) });
  if (bytes.length === 0) throw new ProbeDecodeError(`no ${what} within ${ctx.timeoutMs} ms`);
  return bytes;
}

/** The greeting as PortQry shows "extended information": `Data returned from port:` and the text. */
export function describeBanner(fields: ProbeFields): string[] {
  const lines = ['Data returned from port:', ''];
  if (typeof fields.Banner === 'string') lines.push(...textLines(fields.Banner));
  return lines;
}

/** A probe that reads the server's greeting and nothing else (SMTP, POP3, IMAP). */
export function greetingProbe(options: { name: string; label: string; ports: readonly number[]; style: ReplyStyle }): StreamProbe {
  return {
    kind: 'stream',
    name: options.name,
    label: options.label,
    ports: options.ports,
    async converse(stream, ctx) {
      const reply = decodeReply(await readReply(stream, options.style, ctx, `${options.label} greeting`), options.style);
      return { Banner: reply.Text, Status: reply.Status, Truncated: reply.Truncated };
    },
    announce: () => [], // PortQry reads a banner without announcing a query
    describe: describeBanner,
  };
}
