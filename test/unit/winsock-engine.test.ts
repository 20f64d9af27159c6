import * as net from 'node:net';
import t from 'tap';
import { LocalResourceError, SourcePortInUseError, type TcpAttemptResult } from '../../src/query/tcp-connect';
import { WSA } from '../../src/query/winsock-verdict';
import { useWinsockApi, winsockTcpConnect, winsockUdpExchange } from '../../src/query/winsock-engine';
import { fakeWinsock, type FakeOptions } from '../helpers/fake-winsock';

// The Winsock engine's driver (options, connect, the select() poller, SO_ERROR, TCP_ICMP_ERROR_INFO,
// recv) over a ws2_32 with Windows' documented behaviour (test/helpers/fake-winsock.ts): the paths Wine
// cannot take (no SYN retransmissions accepted, WSAECONNRESET on a UDP receive, ICMP error info).

const PEERS: FakeOptions['peers'] = { 80: 'open', 81: 'closed', 82: 'drop', 83: 'icmp-13', 53: 'udp-reply', 54: 'udp-closed', 55: 'udp-silent' };

function tcp(port: number, extra: { timeoutMs?: number; attempts?: number; sourcePort?: number } = {}): Promise<TcpAttemptResult> {
  return new Promise((resolve, reject) =>
    winsockTcpConnect('198.18.0.2', port, { timeoutMs: extra.timeoutMs ?? 200, attempts: extra.attempts ?? 1, sourcePort: extra.sourcePort }, (err, r) => (err ? reject(err) : resolve(r!))),
  );
}

t.afterEach(() => useWinsockApi(undefined));

t.test('every option accepted (Windows 10 2004+): one round trip for a RST, ICMP named, WSAETIMEDOUT from TCP_MAXRTMS', async (t) => {
  const api = fakeWinsock({ peers: PEERS });
  useWinsockApi(api);
  t.match(await tcp(80), { state: 'LISTENING', reason: 'connected', localAddress: '127.0.0.1', attempts: 1 });
  const closed = await tcp(81);
  t.match(closed, { state: 'NOT LISTENING', reason: /^reset \(WSAECONNREFUSED in \d+ ms: RST, no SYN retransmissions\)$/ });
  t.match(await tcp(83), { state: 'FILTERED', reason: 'icmp-unreachable (ICMP type 3 code 13: communication administratively prohibited)' });
  t.match(await tcp(82, { attempts: 2 }), { state: 'FILTERED', reason: /^timeout \(WSAETIMEDOUT after \d+ ms\)$/, attempts: 2 });
  t.ok(api.calls.includes('SIO_TCP_INITIAL_RTO') && api.calls.includes('TCP_MAXRTMS') && api.calls.includes('TCP_FAIL_CONNECT_ON_ICMP_ERROR'), 'the three options are set');
  t.equal(api.open(), 1, 'every socket closed (only the poller\'s own is left)');
});

t.test('SIO_TCP_INITIAL_RTO refused: the fallback wait sees the RST that Windows reports after its SYN retries', async (t) => {
  const api = fakeWinsock({ peers: PEERS, refuse: { initialRto: WSA.EINVAL }, synRetrySpanMs: 2002 });
  useWinsockApi(api);
  const closed = await tcp(81, { timeoutMs: 100 });
  t.match(closed, { state: 'NOT LISTENING', reason: /^reset \(WSAECONNREFUSED after \d+ ms; fallback wait up to 2100 ms for Windows' SYN retries because SIO_TCP_INITIAL_RTO refused \(WSAEINVAL\)\)$/ });
  await tcp(81, { timeoutMs: 100 });
  t.equal(api.calls.filter((c) => c === 'SIO_TCP_INITIAL_RTO').length, 1, 'a refused option is not asked again');
});

t.test('every option refused: our own timer, ICMP ignored by Windows', async (t) => {
  useWinsockApi(fakeWinsock({ peers: PEERS, refuse: { initialRto: WSA.EOPNOTSUPP, maxRt: WSA.ENOPROTOOPT, failOnIcmp: WSA.ENOPROTOOPT }, synRetrySpanMs: 50 }));
  t.match(await tcp(82, { timeoutMs: 50 }), { state: 'FILTERED', reason: /^timeout \(no answer in \d+ ms; fallback wait 2050 ms because SIO_TCP_INITIAL_RTO refused \(WSAEOPNOTSUPP\)\)$/ });
  t.match(await tcp(81, { timeoutMs: 50 }), { state: 'NOT LISTENING', reason: /^reset \(WSAECONNREFUSED after/ });
});

t.test('UDP on a connected socket: a reply, WSAECONNRESET on recv (KB 263823), silence', async (t) => {
  useWinsockApi(fakeWinsock({ peers: PEERS }));
  const reply = await winsockUdpExchange('198.18.0.2', 53, Buffer.from('ping'), { timeoutMs: 200 });
  t.match(reply, { outcome: 'reply', reason: 'reply', localAddress: '127.0.0.1' });
  t.equal(reply.reply?.toString(), 'pong', 'the probe gets the reply bytes');
  t.match(await winsockUdpExchange('198.18.0.2', 54, Buffer.alloc(0), { timeoutMs: 200 }), { outcome: 'icmp-port-unreachable', reason: 'icmp-port-unreachable (WSAECONNRESET)', reply: null });
  t.match(await winsockUdpExchange('198.18.0.2', 55, Buffer.alloc(0), { timeoutMs: 50 }), { outcome: 'no-reply', reason: 'no-reply' });
});

t.test('a wait ends at its deadline even when select() never stops reporting the socket', async (t) => {
  // A wake-up with nothing to read puts the socket back with what is left of its time, 0 ms once the
  // deadline passed; the poller fires the deadlines of the waiters put back in the same dispatch, so
  // a socket reported for ever, or flooded from another address, still ends at its deadline.
  useWinsockApi(fakeWinsock({ peers: { 56: 'udp-spurious', 69: 'udp-foreign' } }));
  const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3000).unref())]);
  t.match(await within(winsockUdpExchange('198.18.0.2', 56, Buffer.alloc(0), { timeoutMs: 50 })), { outcome: 'no-reply', reason: 'no-reply' }, 'readable for ever, nothing to read');
  t.match(await within(winsockUdpExchange('198.18.0.2', 69, Buffer.alloc(0), { timeoutMs: 50, anySourcePort: true })), { outcome: 'no-reply', reason: 'no-reply' }, 'a flood from another address (TFTP: any source port)');
});

t.test('local shortages and a taken source port are errors, never verdicts', async (t) => {
  useWinsockApi(fakeWinsock({ peers: PEERS, socketFailures: { code: WSA.ENOBUFS, times: 1 }, takenPorts: [500, 4000] }));
  await t.rejects(tcp(80), new LocalResourceError('WSAENOBUFS'));
  t.match(await tcp(80), { state: 'LISTENING' }, 'the next socket works');
  await t.rejects(tcp(80, { sourcePort: 4000 }), SourcePortInUseError);
  await t.rejects(winsockUdpExchange('198.18.0.2', 53, Buffer.alloc(0), { timeoutMs: 50, sourcePort: 4000 }), SourcePortInUseError);
  const ike = await winsockUdpExchange('198.18.0.2', 53, Buffer.alloc(0), { timeoutMs: 200, preferredSourcePort: 500 });
  t.match(ike, { outcome: 'reply', note: 'sent from an ephemeral port: UDP 500 is in use here (WSAEADDRINUSE)' });
  t.not(ike.localPort, 500);
  const free = await winsockUdpExchange('198.18.0.2', 53, Buffer.alloc(0), { timeoutMs: 200, preferredSourcePort: 501 });
  t.match(free, { outcome: 'reply', localPort: 501 });
  t.equal(free.note, undefined);
});

t.test('many sockets in one select: 300 ports at once, each answered once', async (t) => {
  const peers: FakeOptions['peers'] = {};
  for (let p = 1000; p < 1300; p++) peers[p] = p % 3 === 0 ? 'open' : 'closed';
  const api = fakeWinsock({ peers });
  useWinsockApi(api);
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => tcp(1000 + i)));
  t.same(
    results.map((r) => r.state),
    Array.from({ length: 300 }, (_, i) => ((1000 + i) % 3 === 0 ? 'LISTENING' : 'NOT LISTENING')),
  );
  t.equal(api.open(), 1, 'every socket closed');
});

t.test('a stream probe after a Winsock LISTENING gets its own connection through Node; a failed one is a ProbeError, not a verdict', async (t) => {
  const server = net.createServer((s) => s.on('error', () => {}).end('hello\n')).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => server.close());
  const open = (server.address() as net.AddressInfo).port;
  const gone = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => gone.once('listening', r));
  const closed = (gone.address() as net.AddressInfo).port;
  await new Promise((r) => gone.close(r));
  // Winsock (the fake) says both are open; Node's reconnect finds the truth for the probe only.
  useWinsockApi(fakeWinsock({ peers: { [open]: 'open', [closed]: 'open' } }));
  const connect = (port: number) =>
    new Promise<TcpAttemptResult>((resolve, reject) => winsockTcpConnect('127.0.0.1', port, { timeoutMs: 500, attempts: 1, keepOpen: true }, (err, r) => (err ? reject(err) : resolve(r!))));
  const ok = await connect(open);
  t.match(ok, { state: 'LISTENING', reason: 'connected' });
  t.ok(ok.socket instanceof net.Socket, 'a connected net.Socket for the probe');
  ok.socket!.destroy();
  const failed = await connect(closed);
  t.match(failed, { state: 'LISTENING', socket: undefined, probeError: /^the probe's connection failed: NOT LISTENING \(reset\)$/ });
});
