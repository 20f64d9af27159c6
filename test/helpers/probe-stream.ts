import * as net from 'node:net';
import type { ProbeContext, ProbeFields, ProbeStream, StreamProbe } from '../../src/query/probes/types';

/**
 * A minimal ProbeStream over node:net for probe tests that run before (or without) the query engine:
 * bounded reads (until / maxBytes / timeout), bytes kept between reads, end of stream returns what is
 * buffered. The engine's own ProbeStream is tested end to end through the CLI.
 */
export function connectProbeStream(host: string, port: number): Promise<ProbeStream & { close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffered = Buffer.alloc(0);
    let ended = false;
    let wake: (() => void) | null = null;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      wake?.();
    });
    socket.on('end', () => {
      ended = true;
      wake?.();
    });
    socket.on('close', () => {
      ended = true;
      wake?.();
    });
    socket.once('error', (err) => {
      ended = true;
      wake?.();
      reject(err);
    });
    socket.once('connect', () =>
      resolve({
        socket,
        close: () => socket.destroy(),
        write: (data) => new Promise<void>((ok, fail) => socket.write(data, (err) => (err ? fail(err) : ok()))),
        read: ({ maxBytes = 65536, timeoutMs = 2000, until } = {}) =>
          new Promise<Buffer>((done) => {
            const take = () => {
              clearTimeout(timer);
              wake = null;
              const n = Math.min(maxBytes, buffered.length);
              const out = buffered.subarray(0, n);
              buffered = buffered.subarray(n);
              done(out);
            };
            const check = () => {
              if (buffered.length >= maxBytes || ended || (until ? until(buffered) : buffered.length > 0)) take();
            };
            const timer = setTimeout(take, timeoutMs);
            wake = check;
            check();
          }),
      }),
    );
  });
}

export function probeContext(port: number, extra: Partial<ProbeContext> = {}): ProbeContext {
  return { host: '127.0.0.1', address: '127.0.0.1', port, community: 'public', timeoutMs: 3000, ...extra };
}

/** Connects to port on 127.0.0.1 (or `extra.address`), runs the probe's conversation, closes. */
export async function runStreamProbe(probe: StreamProbe, port: number, extra: Partial<ProbeContext> = {}): Promise<ProbeFields> {
  const stream = await connectProbeStream(extra.address ?? '127.0.0.1', port);
  try {
    return await probe.converse(stream, probeContext(port, extra));
  } finally {
    stream.close();
  }
}
