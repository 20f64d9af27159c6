import type * as net from 'node:net';
import type { ProbeStream } from './probes/types';

export interface ProbeStreamLimits {
  /** Default wait of one read() for more bytes. */
  readTimeoutMs: number;
  /** Most bytes one read() returns by default. */
  maxReadBytes: number;
  /** Most bytes kept from the peer over the whole conversation; the rest is dropped. */
  maxTotalBytes: number;
}

export const DEFAULT_STREAM_LIMITS: Omit<ProbeStreamLimits, 'readTimeoutMs'> = { maxReadBytes: 64 * 1024, maxTotalBytes: 1024 * 1024 };

/**
 * A ProbeStream over a connected socket: writes, and bounded reads of what the peer sent.
 *
 * read() resolves with the bytes buffered so far (and removes them) as soon as `until` accepts the
 * buffer, `maxBytes` are buffered, the peer closed, or the wait ran out; so a silent peer gives an
 * empty buffer, not an exception. It rejects only when the connection failed with nothing buffered.
 * The socket is only listened to from the first read(): a probe that hands `socket` to tls.connect()
 * without reading gets it untouched.
 */
export class SocketProbeStream implements ProbeStream {
  private buffered: Buffer = Buffer.alloc(0);
  private received = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private attached = false;

  constructor(
    readonly socket: net.Socket,
    private readonly limits: ProbeStreamLimits,
  ) {}

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed || this.socket.writableEnded) return reject(Object.assign(new Error('connection closed'), { code: 'ERR_STREAM_DESTROYED' }));
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  async read(options: { maxBytes?: number; timeoutMs?: number; until?: (buffered: Buffer) => boolean } = {}): Promise<Buffer> {
    this.attach();
    const maxBytes = Math.max(1, options.maxBytes ?? this.limits.maxReadBytes);
    const deadline = Date.now() + (options.timeoutMs ?? this.limits.readTimeoutMs);
    for (;;) {
      const complete = this.buffered.length >= maxBytes || (this.buffered.length > 0 && options.until?.(this.buffered) === true);
      if (complete || this.ended || this.failure) break;
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    if (this.buffered.length === 0 && this.failure) throw this.failure;
    const out = this.buffered.subarray(0, maxBytes);
    this.buffered = this.buffered.subarray(out.length);
    return Buffer.from(out);
  }

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    const notify = () => this.wake?.();
    this.socket.on('data', (chunk: Buffer) => {
      const room = this.limits.maxTotalBytes - this.received;
      if (room > 0) {
        const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
        this.received += kept.length;
        this.buffered = this.buffered.length ? Buffer.concat([this.buffered, kept]) : kept;
      }
      if (this.received >= this.limits.maxTotalBytes) this.socket.pause();
      notify();
    });
    this.socket.on('end', () => {
      this.ended = true;
      notify();
    });
    this.socket.on('close', () => {
      this.ended = true;
      notify();
    });
    this.socket.on('error', (err) => {
      this.failure = err;
      notify();
    });
  }
}
