import * as net from 'node:net';
import * as os from 'node:os';
import t from 'tap';
import { type Libc, EINPROGRESS, POLLOUT } from '../../src/query/libc-api';
import { LibcTcpEngine, libcEngine } from '../../src/query/libc-engine';
import { LocalResourceError, SourcePortInUseError, type TcpAttemptResult, tcpConnectCb } from '../../src/query/tcp-connect';

// The libc engine's driver (socket, bind, connect, the poll() loop with its worker-thread wait and
// eventfd wake-up, SO_ERROR, deadlines and retries): first over a fake libc with injected errno values
// and timing, then over the real one on loopback beside the Node engine.

const E = os.constants.errno;
type Behaviour = 'open' | 'refused' | 'drop' | 'eperm-now' | 'emfile' | 'late-refused';

/** A libc whose sockets behave per destination port. */
function fakeLibc(peers: Record<number, Behaviour>, opts: { lateMs?: number } = {}) {
  let errno = 0;
  let nextFd = 100;
  const socks = new Map<number, { port: number; readyAt: number; soError: number }>();
  const calls: string[] = [];
  const fail = (e: number) => {
    errno = e;
    return -1;
  };
  const readiness = (fd: number) => {
    const s = socks.get(fd);
    return s !== undefined && performance.now() >= s.readyAt;
  };
  const pollNow = (buf: Buffer, nfds: number) => {
    let n = 0;
    for (let i = 0; i < nfds; i++) {
      const fd = buf.readInt32LE(i * 8);
      const ready = readiness(fd);
      buf.writeInt16LE(ready ? POLLOUT : 0, i * 8 + 6);
      if (ready) n++;
    }
    return n;
  };
  const poll = Object.assign((buf: Buffer, nfds: number, timeout: number) => {
    calls.push(`poll(${timeout})`);
    return pollNow(buf, Number(nfds));
  }, {
    async(buf: Buffer, nfds: number, timeout: number, cb: (err: unknown, n: number) => void) {
      calls.push('poll.async');
      setTimeout(() => cb(null, pollNow(buf, Number(nfds))), Math.min(timeout, 5));
    },
  });
  const api: Libc = {
    errno: () => errno,
    socket: () => {
      const fd = nextFd++;
      socks.set(fd, { port: 0, readyAt: Infinity, soError: 0 });
      return fd;
    },
    bind: () => 0,
    connect: (fd: number, addr: Buffer) => {
      const port = addr.readUInt16BE(2);
      const behaviour = peers[port] ?? 'refused';
      calls.push(`connect ${port}`);
      if (behaviour === 'emfile') {
        socks.delete(fd);
        return fail(E.EMFILE);
      }
      if (behaviour === 'eperm-now') return fail(E.EPERM);
      const s = socks.get(fd)!;
      s.port = port;
      s.readyAt = behaviour === 'drop' ? Infinity : performance.now() + (behaviour === 'late-refused' ? (opts.lateMs ?? 30) : 0);
      s.soError = behaviour === 'open' ? 0 : E.ECONNREFUSED;
      return fail(EINPROGRESS);
    },
    getsockopt: (fd: number, _level: number, _name: number, value: Buffer) => {
      value.writeInt32LE(socks.get(fd)!.soError, 0);
      return 0;
    },
    setsockopt: () => 0,
    getsockname: (_fd: number, addr: Buffer) => {
      addr.writeUInt16LE(2, 0);
      addr.writeUInt16BE(40000, 2);
      Buffer.from([127, 0, 0, 1]).copy(addr, 4);
      return 0;
    },
    close: (fd: number) => {
      calls.push(`close ${fd}`);
      socks.delete(fd);
      return 0;
    },
    poll,
    eventfd: () => 99,
    read: () => fail(E.EAGAIN),
    write: () => {
      calls.push('wake');
      return 8;
    },
    inet_ntop: () => null,
  } as unknown as Libc;
  return { api, calls, open: () => socks.size };
}

function connect(engine: { tcpConnect: LibcTcpEngine['tcpConnect'] } | typeof tcpConnectCb, address: string, port: number, extra: { timeoutMs?: number; attempts?: number; sourcePort?: number } = {}): Promise<TcpAttemptResult> {
  const fn = typeof engine === 'function' ? engine : engine.tcpConnect;
  return new Promise((resolve, reject) => fn(address, port, { timeoutMs: extra.timeoutMs ?? 1000, attempts: extra.attempts ?? 1, sourcePort: extra.sourcePort }, (err, r) => (err ? reject(err) : resolve(r!))));
}

t.test('fake libc: verdicts, deadlines with retries, immediate errors, local shortage', async (t) => {
  const fake = fakeLibc({ 80: 'open', 81: 'refused', 82: 'drop', 83: 'eperm-now', 84: 'emfile', 85: 'late-refused' });
  const engine = new LibcTcpEngine(fake.api);
  const results = await Promise.all([
    connect(engine, '198.18.0.2', 80),
    connect(engine, '198.18.0.2', 81),
    connect(engine, '198.18.0.2', 82, { timeoutMs: 40, attempts: 3 }),
    connect(engine, '198.18.0.2', 83),
    connect(engine, '198.18.0.2', 85, { timeoutMs: 1000 }),
  ]);
  t.match(results[0], { state: 'LISTENING', reason: 'connected', localAddress: '127.0.0.1', localPort: 40000, attempts: 1 });
  t.match(results[1], { state: 'NOT LISTENING', reason: 'reset', localAddress: null, localPort: null, attempts: 1 });
  t.match(results[2], { state: 'FILTERED', reason: 'timeout', attempts: 3 }, 'dropped: every attempt used');
  t.ok(results[2]!.elapsedMs >= 40, 'elapsed is the last attempt\'s, at least its timeout');
  t.match(results[3], { state: 'FILTERED', reason: 'icmp-unreachable', attempts: 1 }, 'EPERM at connect(): nftables output rule');
  t.match(results[4], { state: 'NOT LISTENING', reason: 'reset' }, 'an answer after a wait on the worker thread');
  t.ok(fake.calls.includes('poll.async'), 'waits happen off the event loop');
  t.equal(fake.calls.filter((c) => c === 'connect 82').length, 3, 'three connects for the dropped port');
  await t.rejects(connect(engine, '198.18.0.2', 84), LocalResourceError, 'EMFILE: the engine retries it, no verdict');
  t.equal(fake.open(), 0, 'every socket closed');
  t.equal(engine.size, 0);
});

t.test('fake libc: a connect started during a wait wakes it (eventfd)', async (t) => {
  const fake = fakeLibc({ 82: 'drop', 81: 'refused' });
  const engine = new LibcTcpEngine(fake.api);
  const dropped = connect(engine, '198.18.0.2', 82, { timeoutMs: 300 });
  await new Promise((r) => setTimeout(r, 20));
  const started = performance.now();
  const refused = await connect(engine, '198.18.0.2', 81);
  t.match(refused, { state: 'NOT LISTENING' });
  t.ok(performance.now() - started < 250, 'answered before the other socket\'s deadline');
  t.ok(fake.calls.includes('wake'));
  t.match(await dropped, { state: 'FILTERED', reason: 'timeout' });
});

t.test('real libc on loopback: the same answers as the Node engine, IPv4 and IPv6', async (t) => {
  const engine = libcEngine();
  for (const host of ['127.0.0.1', '::1']) {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, host, r));
    const open = (server.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, host, r));
    const closed = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    for (const port of [open, closed]) {
      const [a, b] = await Promise.all([connect(engine, host, port), connect(tcpConnectCb, host, port)]);
      t.same({ ...a, elapsedMs: 0, localPort: 0 }, { ...b, elapsedMs: 0, localPort: 0 }, `${host} port ${port === open ? 'open' : 'closed'}`);
      if (port === open) t.equal(a.localAddress, host, 'LocalAddress as Node prints it');
    }
    // -sp: the source port is bound (SO_REUSEADDR, like libuv), and a port held by a listener is refused.
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, host, r));
    const held = (holder.address() as net.AddressInfo).port;
    await t.rejects(connect(engine, host, open, { sourcePort: held }), SourcePortInUseError);
    await t.rejects(connect(tcpConnectCb, host, open, { sourcePort: held }), SourcePortInUseError, 'the Node engine agrees');
    await new Promise((r) => holder.close(r));
    const viaSp = await connect(engine, host, open, { sourcePort: held });
    t.match(viaSp, { state: 'LISTENING', localPort: held }, '-sp used as the source port');
    await new Promise((r) => server.close(r));
  }
  t.equal(engine.size, 0, 'nothing left waiting');
});

t.test('fake libc: a callback that throws loses no other socket', async (t) => {
  const fake = fakeLibc({ 81: 'refused', 86: 'refused' });
  const engine = new LibcTcpEngine(fake.api);
  engine.tcpConnect('198.18.0.2', 81, { timeoutMs: 1000, attempts: 1 }, () => {
    throw new Error('from the output');
  });
  const second = new Promise<TcpAttemptResult>((resolve, reject) => engine.tcpConnect('198.18.0.2', 86, { timeoutMs: 1000, attempts: 1 }, (err, r) => (err ? reject(err) : resolve(r!))));
  t.throws(() => (engine as unknown as { tick(): void }).tick(), /from the output/);
  t.match(await second, { state: 'NOT LISTENING', reason: 'reset' }, 'the socket after it still answered');
  t.equal(fake.open(), 0);
});
