import * as net from 'node:net';
import t from 'tap';
import { SocketProbeStream } from '../../src/query/probe-stream';
import { PROBES } from '../../src/query/probes/registry';
import { type DatagramProbe, type ProbeContext, ProbeDecodeError, type StreamProbe } from '../../src/query/probes/types';
import { prng } from '../helpers/prng';

// Every registered probe against hostile input, seeded so a failure can be replayed (FUZZ_SEED=n):
// datagram decoders get random bytes, truncations and bit flips of their own request (which shares
// its framing with the reply in DNS, CLDAP, SNMP, NetBIOS, Kerberos ...), and must either return
// fields or throw ProbeDecodeError, quickly. Stream probes converse with a real loopback peer that
// sends random bytes and then closes or goes silent; they must finish within the read bounds and fail,
// if they fail, with ProbeDecodeError or an I/O error, never a TypeError/RangeError from a bad index.

const SEED = Number(process.env.FUZZ_SEED ?? 20251125);
const DATAGRAM_CASES = 2000;
const STREAM_CASES = 10;

function randomBytes(rand: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

const ctx: ProbeContext = { host: 'fuzz.example', address: '127.0.0.1', port: 1, community: 'public', timeoutMs: 100 };

/** Inputs for one decoder: random, the request cut at every length, and the request with bytes flipped. */
function datagramInputs(probe: DatagramProbe, rand: () => number): Buffer[] {
  const inputs: Buffer[] = [Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(512, 0xff)];
  let request: Buffer;
  try {
    request = probe.encode({ ...ctx, port: probe.ports[0] ?? 1 });
  } catch {
    request = Buffer.alloc(0);
  }
  for (let len = 0; len <= Math.min(request.length, 200); len++) inputs.push(request.subarray(0, len));
  while (inputs.length < DATAGRAM_CASES) {
    if (request.length > 0 && rand() < 0.5) {
      const mutated = Buffer.from(request);
      const flips = 1 + Math.floor(rand() * 8);
      for (let i = 0; i < flips; i++) mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
      // Replies often carry a length or count the request has as zero: make some of those huge.
      if (mutated.length >= 2 && rand() < 0.3) mutated.writeUInt16BE(0xffff, Math.floor(rand() * (mutated.length - 1)));
      inputs.push(rand() < 0.5 ? mutated : Buffer.concat([mutated, randomBytes(rand, Math.floor(rand() * 64))]));
    } else {
      inputs.push(randomBytes(rand, Math.floor(rand() * 600)));
    }
  }
  return inputs;
}

const datagramProbes = PROBES.filter((p): p is DatagramProbe => p.kind === 'datagram');
const streamProbes = PROBES.filter((p): p is StreamProbe => p.kind === 'stream');

t.test('registry: names unique', async (t) => {
  const names = PROBES.map((p) => p.name);
  t.same(names.length, new Set(names).size);
});

for (const probe of datagramProbes) {
  t.test(`datagram decode: ${probe.name}`, async (t) => {
    const rand = prng(SEED ^ hash(probe.name));
    let decoded = 0;
    let rejected = 0;
    for (const [i, input] of datagramInputs(probe, rand).entries()) {
      const started = performance.now();
      try {
        const fields = probe.decode(input, { ...ctx, port: probe.ports[0] ?? 1 });
        if (typeof fields !== 'object' || fields === null) t.fail(`case ${i}: decode returned ${typeof fields}`);
        JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
        probe.describe?.(fields);
        decoded++;
      } catch (err) {
        if (!(err instanceof ProbeDecodeError)) {
          t.fail(`case ${i} (${input.toString('hex').slice(0, 120)}): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
          continue;
        }
        rejected++;
      }
      const ms = performance.now() - started;
      if (ms > 1000) t.fail(`case ${i}: decode took ${ms.toFixed(0)} ms`);
    }
    t.pass(`${decoded} decoded, ${rejected} rejected with ProbeDecodeError`);
  });
}

function hash(s: string): number {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** A loopback peer: each connection gets the next script (bytes, then close or silence). */
async function randomPeer(t: { teardown(fn: () => void): void }, scripts: { bytes: Buffer; close: boolean }[]): Promise<number> {
  let n = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', () => {}); // read and ignore the probe's requests
    const script = scripts[n++ % scripts.length]!;
    // In a few pieces, so that probes see partial reads.
    const cut = Math.floor(script.bytes.length / 2);
    s.write(script.bytes.subarray(0, cut));
    setTimeout(() => {
      if (s.destroyed) return;
      s.write(script.bytes.subarray(cut));
      if (script.close) s.end();
    }, 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

function isIoError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && !(err instanceof TypeError) && !(err instanceof RangeError);
}

for (const probe of streamProbes) {
  t.test(`stream converse: ${probe.name}`, async (t) => {
    const rand = prng(SEED ^ hash(probe.name));
    const scripts = Array.from({ length: STREAM_CASES }, (_, i) => ({
      bytes: i === 0 ? Buffer.alloc(0) : randomBytes(rand, Math.floor(rand() * (i % 3 === 0 ? 8000 : 300))),
      close: i % 2 === 0,
    }));
    const port = await randomPeer(t, scripts);
    for (let i = 0; i < STREAM_CASES; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      const stream = new SocketProbeStream(socket, { readTimeoutMs: 100, maxReadBytes: 64 * 1024, maxTotalBytes: 1024 * 1024 });
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), 5000)));
      try {
        const out = await Promise.race([probe.converse(stream, { ...ctx, port: probe.ports[0] ?? port }), hang]);
        if (out === 'hang') t.fail(`case ${i}: converse still running after 5 s`);
        else if (typeof out !== 'object' || out === null) t.fail(`case ${i}: converse returned ${typeof out}`);
        else probe.describe?.(out);
      } catch (err) {
        if (!(err instanceof ProbeDecodeError) && !isIoError(err)) t.fail(`case ${i}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      } finally {
        clearTimeout(timer);
        socket.destroy();
      }
    }
  });
}
