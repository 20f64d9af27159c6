import * as net from 'node:net';
import { DEFAULT_STREAM_LIMITS, SocketProbeStream } from '../../src/query/probe-stream';
import type { ProbeContext, ProbeFields, ProbeStream, StreamProbe } from '../../src/query/probes/types';

/** The query engine's own ProbeStream over a fresh connection to host:port, for probe tests. */
export function connectProbeStream(host: string, port: number): Promise<ProbeStream & { close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const stream = new SocketProbeStream(socket, { ...DEFAULT_STREAM_LIMITS, readTimeoutMs: 3000 });
      resolve(Object.assign(stream, { close: () => socket.destroy() }));
    });
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
