import * as dgram from 'node:dgram';
import * as net from 'node:net';
import t from 'tap';
import { runQueries } from '../../src/query/engine';
import { converse, queryPort, type QuerySettings } from '../../src/query/query-port';
import { ProbeDecodeError, type DatagramProbe, type StreamProbe } from '../../src/query/probes/types';
import type { QueryResult } from '../../src/query/query-result';
import type { ResolvedTarget } from '../../src/query/resolve';

// Real loopback peers (a UDP echo server, a silent UDP socket, a TCP line server) and the real engine.
// The probes here are test probes defined in this file, so that the engine's probe hooks are checked
// independently of the registry's real probes.

/** The part of a tap test these helpers use. */
interface TestLike {
  teardown(fn: () => void): void;
}

const loopback: ResolvedTarget = { target: '127.0.0.1', address: '127.0.0.1', hostName: null, notes: [] };

function settings(extra: Partial<QuerySettings> = {}): QuerySettings {
  return { timeoutMs: 1000, tcpAttempts: 1, udpAttempts: 1, community: 'public', probes: true, tlsPorts: new Set(), skippedProbes: new Set(), ...extra };
}

async function udpServer(t: TestLike, reply: (msg: Buffer) => Buffer | null): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => {
    const answer = reply(msg);
    if (answer) s.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => s.close());
  return s.address().port;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// A datagram probe for a made-up protocol: request "PING", answer must start with "PONG".
const pingProbe: DatagramProbe = {
  kind: 'datagram',
  name: 'test-ping',
  label: 'PING',
  ports: [],
  encode: () => Buffer.from('PING'),
  decode(reply) {
    if (!reply.subarray(0, 4).equals(Buffer.from('PONG'))) throw new ProbeDecodeError('not a PONG');
    return { Text: reply.subarray(4).toString('latin1') };
  },
};

t.test('UDP: reply to the empty datagram → LISTENING (reply)', async (t) => {
  const port = await udpServer(t, () => Buffer.from('hi'));
  const r = await queryPort(loopback, { protocol: 'UDP', port }, settings());
  t.equal(r.State, 'LISTENING');
  t.equal(r.Reason, 'reply');
  t.equal(r.Probe, null);
});

t.test('UDP: ICMP port unreachable → NOT LISTENING', async (t) => {
  const port = await freeUdpPort();
  const r = await queryPort(loopback, { protocol: 'UDP', port }, settings());
  t.equal(r.State, 'NOT LISTENING');
  t.equal(r.Reason, 'icmp-port-unreachable');
});

t.test('UDP: silence → LISTENING or FILTERED; with a probe: reply → LISTENING + ProbeData, silence → FILTERED', async (t) => {
  const silent = await udpServer(t, () => null);
  const plain = await queryPort(loopback, { protocol: 'UDP', port: silent }, settings());
  t.equal(plain.State, 'LISTENING or FILTERED');
  t.equal(plain.Reason, 'no-reply');

  const filtered = await queryPort(loopback, { protocol: 'UDP', port: silent }, settings({ forcedProbe: pingProbe }));
  t.equal(filtered.State, 'FILTERED');
  t.equal(filtered.Reason, 'probe-no-reply');
  t.equal(filtered.Probe, 'test-ping');
  t.match(filtered.ProbeError, /no reply/);

  // Answers only the real query, like a DNS server ignores an empty datagram.
  const pong = await udpServer(t, (msg) => (msg.toString() === 'PING' ? Buffer.from('PONG hello') : null));
  const live = await queryPort(loopback, { protocol: 'UDP', port: pong }, settings({ forcedProbe: pingProbe }));
  t.equal(live.State, 'LISTENING');
  t.equal(live.Reason, 'probe-reply');
  t.same(live.ProbeData, { Text: ' hello' });
  t.equal(live.ProbeError, null);
  t.equal(live.Attempts, 2);

  // A reply that is not the protocol: still LISTENING (something answered), the decode error reported.
  const junk = await udpServer(t, (msg) => (msg.length ? Buffer.from('JUNK') : null));
  const odd = await queryPort(loopback, { protocol: 'UDP', port: junk }, settings({ forcedProbe: pingProbe }));
  t.equal(odd.State, 'LISTENING');
  t.equal(odd.ProbeData, null);
  t.equal(odd.ProbeError, 'not a PONG');

  const off = await queryPort(loopback, { protocol: 'UDP', port: pong }, settings({ forcedProbe: pingProbe, probes: false }));
  t.equal(off.State, 'LISTENING or FILTERED', '--no-probe');
});

// A stream probe: reads a greeting line, sends QUIT, reads the goodbye.
const greetingProbe: StreamProbe = {
  kind: 'stream',
  name: 'test-greeting',
  label: 'greeting',
  ports: [],
  async converse(stream) {
    const hello = await stream.read({ until: (b) => b.includes(10) });
    await stream.write('QUIT\n');
    const bye = await stream.read({ until: (b) => b.includes(10) });
    return { Greeting: hello.toString().trim(), Goodbye: bye.toString().trim() };
  },
};

async function tcpServer(t: TestLike, onConnection: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

t.test('TCP LISTENING runs the stream probe on the open connection', async (t) => {
  const port = await tcpServer(t, (s) => {
    s.write('220 hello\n');
    s.on('data', (d) => {
      if (d.toString().startsWith('QUIT')) s.end('221 bye\n');
    });
  });
  const r = await queryPort(loopback, { protocol: 'TCP', port }, settings({ forcedProbe: greetingProbe }));
  t.equal(r.State, 'LISTENING');
  t.equal(r.Probe, 'test-greeting');
  t.same(r.ProbeData, { Greeting: '220 hello', Goodbye: '221 bye' });
  t.equal(r.ProbeError, null);
});

t.test('a stream probe that fails or hangs becomes ProbeError, bounded in time; the verdict stays', async (t) => {
  const silentPort = await tcpServer(t, (s) => s.on('error', () => {}));
  const throwing: StreamProbe = { ...greetingProbe, name: 'test-throw', converse: async () => { throw new ProbeDecodeError('garbled'); } };
  const r1 = await queryPort(loopback, { protocol: 'TCP', port: silentPort }, settings({ forcedProbe: throwing }));
  t.equal(r1.State, 'LISTENING');
  t.equal(r1.ProbeError, 'garbled');

  // Reads return what arrived (nothing) after the read timeout: the probe sees an empty greeting.
  const r2 = await queryPort(loopback, { protocol: 'TCP', port: silentPort }, settings({ forcedProbe: greetingProbe }));
  t.same(r2.ProbeData, { Greeting: '', Goodbye: '' });

  const hanging: StreamProbe = { ...greetingProbe, name: 'test-hang', converse: () => new Promise(() => {}) };
  const client = net.connect(silentPort, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const out = await converse(hanging, client, { host: 'x', address: '127.0.0.1', port: silentPort, community: 'public', timeoutMs: 100 });
  // Ended by converse's own deadline (the message says so), not by tap's timeout of this test.
  t.match(out.error, /no complete answer within 3000 ms/);
  t.ok(client.destroyed, 'the connection is closed after the probe');
});

t.test('a peer that floods is cut at the byte bound', async (t) => {
  const port = await tcpServer(t, (s) => {
    s.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, 65);
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
    };
    s.on('drain', pump);
    pump();
  });
  const greedy: StreamProbe = { ...greetingProbe, name: 'test-greedy', converse: async (stream) => ({ Bytes: (await stream.read({ maxBytes: 10_000_000, timeoutMs: 500 })).length }) };
  const r = await queryPort(loopback, { protocol: 'TCP', port }, settings({ forcedProbe: greedy }));
  t.ok((r.ProbeData?.Bytes as number) <= 1024 * 1024, `kept ${String(r.ProbeData?.Bytes)} bytes`);
});

t.test('engine: results in input order, one target line per target, exit code = highest', async (t) => {
  const open = await tcpServer(t, (s) => s.destroy());
  const closed = await freeUdpPort(); // free for TCP too, almost surely
  const events: string[] = [];
  const code = await runQueries(['127.0.0.1', 'no-such-host.invalid', '127.0.0.1'], [{ protocol: 'TCP', port: closed }, { protocol: 'TCP', port: open }], { ...settings(), concurrency: 3, reverseLookup: false }, {
    target: (tg) => events.push(`target ${tg.target}`),
    result: (r: QueryResult) => events.push(`${r.RemotePort === open ? 'open' : 'closed'} ${r.State}`),
    unresolved: (name) => events.push(`unresolved ${name}`),
  });
  t.same(events, ['target 127.0.0.1', 'closed NOT LISTENING', 'open LISTENING', 'unresolved no-such-host.invalid', 'target 127.0.0.1', 'closed NOT LISTENING', 'open LISTENING']);
  t.equal(code, 68);
});
