/**
 * NETLINK_SOCK_DIAG: the pure decoder (src/platform/linux-sockdiag.ts) with messages built to the
 * kernel's layouts, and the live dump (linux-netlink.ts, koffi → libc) against /proc/net for sockets
 * this test opens, so both sources of the Linux backend give the same rows.
 */
import { once } from 'node:events';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import t from 'tap';
import { LinuxBackend } from '../../../src/platform/linux';
import { ProcNetDecoder, type ProcNetRow } from '../../../src/platform/linux-decode';
import { SockDiagReader } from '../../../src/platform/linux-netlink';
import { InetDiagDecoder, inetDiagRequest, SockDiagError } from '../../../src/platform/linux-sockdiag';
import { type InetDiagMessage, inetDiagMessage, nlmsgDone, nlmsgError } from '../../helpers/sock-diag';

const message = (m: InetDiagMessage): Buffer => inetDiagMessage(m);
const done = nlmsgDone;

function feed(decoder: InetDiagDecoder, ...batches: Buffer[][]): { rows: ProcNetRow[]; complete: boolean } {
  decoder.begin();
  let complete = false;
  for (const batch of batches) {
    const buf = Buffer.concat(batch);
    complete = decoder.feed(buf, buf.length);
  }
  return { rows: decoder.end(), complete };
}

const LO = [127, 0, 0, 1];
const V6_LO = [...Array(15).fill(0), 1];
const V6_MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];

t.test('request: SOCK_DIAG_BY_FAMILY dump of one family and protocol, every state', async (t) => {
  const req = inetDiagRequest('UDP', 6, 7);
  t.equal(req.length, 72);
  t.same([req.readUInt32LE(0), req.readUInt16LE(4), req.readUInt16LE(6), req.readUInt32LE(8)], [72, 20, 0x301, 7]);
  t.same([req[16], req[17], req.readUInt32LE(20)], [10, 17, 0xffffffff]);
  t.ok(req.subarray(24).every((b) => b === 0), 'no socket id filter');
  t.same([inetDiagRequest('TCP', 4, 1)[16], inetDiagRequest('TCP', 4, 1)[17]], [2, 6]);
});

t.test('TCP v4: listener, both ends of a connection, TIME_WAIT without inode; a socket sent twice is one row', async (t) => {
  const listener = message({ state: 0x0a, sport: 8080, src: LO, uid: 1000, inode: 100, attrs: 9 });
  const { rows, complete } = feed(
    new InetDiagDecoder('TCP', 4),
    [listener, message({ state: 1, sport: 40000, dport: 8080, src: LO, dst: LO, uid: 1000, inode: 101 })],
    [message({ state: 1, sport: 8080, dport: 40000, src: LO, dst: LO, uid: 1000, inode: 102 }), message({ state: 6, sport: 40001, dport: 8080, src: LO, dst: LO, inode: 0 }), listener, done()],
  );
  t.ok(complete);
  t.same(rows, [
    { protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: null, remotePort: null, state: 'Listen', uid: 1000, inode: 100 },
    { protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.1', remotePort: 8080, state: 'Established', uid: 1000, inode: 101 },
    { protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 40000, state: 'Established', uid: 1000, inode: 102 },
    { protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 40001, remoteAddress: '127.0.0.1', remotePort: 8080, state: 'TimeWait', uid: 0, inode: 0 },
  ]);
});

t.test('TCP v6 and UDP: ::1, v4-mapped, port 65535; UDP has no state and no remote side', async (t) => {
  const v6 = feed(new InetDiagDecoder('TCP', 6), [
    message({ family: 10, state: 0x0a, sport: 65535, src: Array(16).fill(0), inode: 7 }),
    message({ family: 10, state: 1, sport: 443, dport: 50000, src: V6_MAPPED, dst: V6_MAPPED, inode: 8 }),
    message({ family: 10, state: 8, sport: 22, dport: 50001, src: V6_LO, dst: V6_LO, inode: 9 }),
    done(),
  ]).rows;
  t.same(v6.map((r) => [r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state]), [
    ['::', 65535, null, null, 'Listen'],
    ['::ffff:127.0.0.1', 443, '::ffff:127.0.0.1', 50000, 'Established'],
    ['::1', 22, '::1', 50001, 'CloseWait'],
  ]);
  const udp = feed(new InetDiagDecoder('UDP', 4), [message({ state: 7, sport: 53, src: LO, inode: 11 }), message({ state: 1, sport: 5353, dport: 53, src: LO, dst: LO, inode: 12 }), done()]).rows;
  t.same(udp.map((r) => [r.protocol, r.localPort, r.remoteAddress, r.remotePort, r.state]), [['UDP', 53, null, null, null], ['UDP', 5353, null, null, null]]);
});

t.test('an unchanged socket is the same row object at the next dump; a changed or new one is not', async (t) => {
  const decoder = new InetDiagDecoder('TCP', 4);
  const a = message({ state: 1, sport: 40000, dport: 8080, src: LO, dst: LO, inode: 101 });
  const first = feed(decoder, [message({ state: 0x0a, sport: 8080, src: LO, inode: 100 }), a, done()]).rows;
  const second = feed(decoder, [a, message({ state: 8, sport: 8080, src: LO, inode: 100 }), message({ state: 1, sport: 40000, dport: 8080, src: LO, dst: LO, inode: 555 }), done()]).rows;
  t.equal(second[0], first[1], 'same socket, same object');
  t.not(second[1], first[0], 'state changed');
  t.equal(second[2]!.inode, 555, 'same addresses, another inode: another socket');
  t.not(second[2], first[1]);
  const third = feed(decoder, [a, done()]).rows;
  t.equal(third.length, 1, 'sockets gone from the dump are gone from the rows');
  t.equal(third[0], first[1]);
});

t.test('NLMSG_ERROR carries the errno; a truncated message is an error; no DONE means more to read', async (t) => {
  const err = nlmsgError(2); // ENOENT: no udp_diag module
  const decoder = new InetDiagDecoder('UDP', 4);
  decoder.begin();
  let caught: unknown;
  try {
    decoder.feed(err, err.length);
  } catch (e) {
    caught = e;
  }
  t.ok(caught instanceof SockDiagError && caught.errno === 2, `SockDiagError errno 2 (got ${String(caught)})`);
  const m = message({ state: 7, sport: 53, src: LO, inode: 1 });
  decoder.begin();
  t.throws(() => decoder.feed(m, 50), /malformed netlink message/);
  decoder.begin();
  t.equal(decoder.feed(m, m.length), false, 'the dump continues in the next recv');
});

const linuxOnly = process.platform !== 'linux' ? 'Linux only' : false;

t.test('live: a NETLINK_SOCK_DIAG dump lists our sockets exactly as /proc/net does', { skip: linuxOnly }, async (t) => {
  const closers: (() => void)[] = [];
  t.teardown(() => closers.forEach((c) => c()));
  const inodes = new Set<number>();
  const own = (fd: number) => inodes.add(Number(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))![1]));
  const fdOf = (h: unknown) => (h as { _handle: { fd: number } })._handle.fd;
  for (const host of ['127.0.0.1', '::1']) {
    const server = net.createServer((s) => {
      own(fdOf(s));
      closers.push(() => s.destroy());
    });
    server.listen(0, host);
    await once(server, 'listening');
    own(fdOf(server));
    closers.push(() => server.close());
    const client = net.connect((server.address() as net.AddressInfo).port, host);
    await once(client, 'connect');
    own(fdOf(client));
    closers.push(() => client.destroy());
    const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    udp.bind(0, host);
    await once(udp, 'listening');
    own((udp as unknown as { _handle: { fd: number } })._handle.fd);
    closers.push(() => udp.close());
  }
  // The server side of each connection is accepted in a later turn of the event loop: poll for it up
  // to a deadline (a fixed sleep is too short on a loaded machine and too long on an idle one).
  const deadline = performance.now() + 10_000;
  while (inodes.size < 8 && performance.now() < deadline) await new Promise((r) => setImmediate(r));
  t.equal(inodes.size, 8, 'two listeners, two connections from both ends, two UDP sockets');

  const reader = new SockDiagReader();
  const ours = (rows: ProcNetRow[]) => rows.filter((r) => inodes.has(r.inode)).map((r) => JSON.stringify(r)).sort();
  let viaProc: string[] = [];
  let viaDiag: string[] = [];
  for (const [file, protocol, family] of [['tcp', 'TCP', 4], ['tcp6', 'TCP', 6], ['udp', 'UDP', 4], ['udp6', 'UDP', 6]] as const) {
    viaProc = viaProc.concat(ours(new ProcNetDecoder(protocol, family).decode(fs.readFileSync(`/proc/net/${file}`, 'latin1'))));
    viaDiag = viaDiag.concat(ours(reader.dump(new InetDiagDecoder(protocol, family))));
  }
  t.equal(viaProc.length, 8, 'all eight sockets in /proc/net');
  t.same(viaDiag, viaProc, 'the same rows from the dump');

  // The backend: every snapshot dumps (the first one too); a backend told not to (as when netlink is
  // refused) reads /proc/net. Both see our sockets, owners included, alike.
  const backend = new LinuxBackend();
  const viaText = new LinuxBackend({ sockDiag: false });
  const view = (s: Awaited<ReturnType<LinuxBackend['snapshot']>>) =>
    s.endpoints.filter((e) => e.pid === process.pid).map((e) => `${e.protocol} ${e.localAddress} ${e.localPort} ${e.remoteAddress} ${e.remotePort} ${e.state}`).sort();
  const first = view(await backend.snapshot({ modules: false }));
  const second = view(await backend.snapshot({ modules: false }));
  const text = view(await viaText.snapshot({ modules: false }));
  t.equal(first.length, 8);
  t.same(second, first);
  t.same(text, first, '/proc/net gives the same endpoints');
});

t.test('a table whose dump fails is read from /proc from then on', { skip: linuxOnly }, async (t) => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const calls: string[] = [];
  const real = new SockDiagReader();
  const backend = new LinuxBackend({
    sockDiag: {
      dump(decoder) {
        calls.push(`${decoder.protocol}${decoder.family}`);
        if (decoder.protocol === 'TCP' && decoder.family === 4) throw new SockDiagError(2); // as without tcp_diag
        return real.dump(decoder);
      },
    },
  });
  const listed = async () => (await backend.snapshot({ modules: false })).endpoints.some((e) => e.localPort === port && e.pid === process.pid && e.state === 'Listen');
  t.ok(await listed(), 'first snapshot: TCP v4 from /proc after the failed dump');
  t.same(calls, ['TCP4', 'TCP6', 'UDP4', 'UDP6'], 'the first snapshot dumps every table');
  t.ok(await listed(), 'second snapshot');
  t.same(calls.slice(4), ['TCP6', 'UDP4', 'UDP6'], 'the failed table is not dumped again');
});

t.test('the same rows from an aligned buffer (words read in place) and a misaligned one (readUInt32LE)', async (t) => {
  const msgs: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const v6 = i % 3 === 0;
    msgs.push(
      message({
        family: v6 ? 10 : 2,
        state: [1, 6, 10, 8][i % 4]!,
        sport: 1024 + i * 37,
        dport: i % 4 === 2 ? 0 : 40000 + i,
        src: v6 ? [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 8, i & 255] : [127, 0, 0, 1 + (i % 3)],
        dst: i % 4 === 2 ? [] : v6 ? [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 + (i % 5)] : [127, 64, i >> 8, i & 255],
        uid: i % 7,
        inode: i % 10 === 0 ? 0 : 100_000 + i,
        attrs: i % 5 === 0 ? 8 : 0,
      }),
    );
  }
  msgs.push(msgs[10]!); // a socket sent twice within one dump
  const whole = Buffer.concat([...msgs, done()]);
  const aligned = Buffer.alloc(whole.length);
  whole.copy(aligned);
  const misaligned = Buffer.alloc(whole.length + 1).subarray(1);
  whole.copy(misaligned);
  t.equal(misaligned.byteOffset % 4, 1);
  for (const family of [4, 6] as const) {
    const rows = (buf: Buffer) => {
      const d = new InetDiagDecoder('TCP', family);
      d.begin();
      t.ok(d.feed(buf, buf.length), 'complete');
      return d.end().map((r) => JSON.stringify(r));
    };
    const a = rows(aligned);
    t.ok(a.length >= 99, `${a.length} IPv${family} rows`);
    t.same(rows(misaligned), a);
  }
});
