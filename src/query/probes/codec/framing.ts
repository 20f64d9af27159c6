import { ProbeDecodeError, type ProbeStream } from '../types';

/**
 * Request/reply over TCP for protocols that carry their UDP message behind a big-endian length
 * prefix: DNS (2 bytes, RFC 1035 §4.2.2) and Kerberos (4 bytes, RFC 4120 §7.2.2).
 */
export function frame(message: Buffer, prefixBytes: 2 | 4): Buffer {
  const prefix = Buffer.alloc(prefixBytes);
  if (prefixBytes === 2) prefix.writeUInt16BE(message.length);
  else prefix.writeUInt32BE(message.length);
  return Buffer.concat([prefix, message]);
}

/** The announced length of a framed message, or undefined while the prefix is incomplete. */
function announced(buffered: Buffer, prefixBytes: 2 | 4): number | undefined {
  if (buffered.length < prefixBytes) return undefined;
  return prefixBytes === 2 ? buffered.readUInt16BE(0) : buffered.readUInt32BE(0);
}

/** Sends one framed message and reads one framed reply of at most `maxBytes`; returns the reply without its prefix. */
export async function exchangeFramed(stream: ProbeStream, message: Buffer, prefixBytes: 2 | 4, maxBytes = 65536): Promise<Buffer> {
  await stream.write(frame(message, prefixBytes));
  const reply = await stream.read({
    maxBytes: maxBytes + prefixBytes,
    until: (b) => {
      const length = announced(b, prefixBytes);
      return length !== undefined && (b.length >= prefixBytes + length || length > maxBytes);
    },
  });
  const length = announced(reply, prefixBytes);
  if (length === undefined) throw new ProbeDecodeError(reply.length === 0 ? 'no reply' : `reply of ${reply.length} bytes is cut in its length prefix`);
  if (length > maxBytes) throw new ProbeDecodeError(`reply announces ${length} bytes, more than the ${maxBytes} read`);
  if (reply.length < prefixBytes + length) throw new ProbeDecodeError(`reply cut at ${reply.length - prefixBytes} of ${length} bytes`);
  return reply.subarray(prefixBytes, prefixBytes + length);
}
