/**
 * The one-shot path of the Linux backend (`record --once`: LinuxBackend.snapshotOnce, InetDiagOnceDecoder,
 * socketOwnersOnce) against the path the recorder uses (snapshot, InetDiagDecoder, SocketOwnerIndex):
 * the same rows, owners, endpoints, processes and PortOwner records, on generated dumps, a generated
 * /proc and this machine's live sockets, with sock_diag and with its /proc/net fallback.
 */
import { once } from 'node:events';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { LinuxBackend, type UserDirectory } from '../../../src/platform/linux';
import type { ProcNetRow } from '../../../src/platform/linux-decode';
import { SockDiagReader } from '../../../src/platform/linux-netlink';
import { SocketOwnerIndex, socketOwnersOnce } from '../../../src/platform/linux-owners';
import { InetDiagDecoder, InetDiagOnceDecoder, type InetDiagRowDecoder, SockDiagError } from '../../../src/platform/linux-sockdiag';
import type { Snapshot } from '../../../src/platform/types';
import { recordToJson } from '../../../src/output/record-kind';
import { sortEndpoints } from '../../../src/recorder/endpoints';
import { PortOwnerKind, portOwnerRecord } from '../../../src/recorder/port-owner';
import { inetDiagMessage, nlmsgDone, nlmsgError } from '../../helpers/sock-diag';

const linuxOnly = process.platform !== 'linux' ? 'Linux only' : false;

const message = inetDiagMessage;
const done = nlmsgDone;

/** A deterministic pseudo-random sequence (xorshift32). */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/**
 * A dump as a busy server's: thousands of sockets, many client addresses, ephemeral ports, every TCP
 * state, TIME_WAIT sockets with inode 0 (several with the same addresses), sockets the kernel sends
 * twice (in the same batch and in a later one), IPv4-mapped IPv6, attributes after some messages.
 */
function generatedDump(seed: number, family: 2 | 10, count: number): Buffer[][] {
  const r = random(seed);
  const msgs: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const listen = r(20) === 0;
    const timeWait = !listen && r(8) === 0;
    const state = listen ? 10 : timeWait ? 6 : [1, 1, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12][r(12)]!;
    const v4 = (a: number, b: number) => [127, 64 + (a & 63), b & 255, 1 + (a % 200)];
    const addr = (a: number, b: number) =>
      family === 2 ? v4(a, b) : r(3) === 0 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4(a, b)] : [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, r(3), 0, 0, a & 255, b & 255];
    msgs.push(
      message({
        family,
        state,
        sport: listen ? 1 + r(1024) : 1024 + r(60000),
        dport: listen ? 0 : timeWait && r(2) === 0 ? 80 : 1024 + r(60000),
        src: r(4) === 0 ? (family === 2 ? [0, 0, 0, 0] : Array(16).fill(0)) : addr(r(4), r(4)),
        dst: listen ? [] : addr(r(5000), r(256)),
        uid: r(3) === 0 ? 0 : 1000 + r(5),
        inode: timeWait ? 0 : 10_000 + i,
        attrs: r(5) === 0 ? 8 + 4 * r(10) : 0,
      }),
    );
    // The same TIME_WAIT socket twice, and an inode-0 socket whose addresses another one repeats.
    if (timeWait && r(4) === 0) msgs.push(msgs[msgs.length - 1]!);
    if (r(50) === 0) msgs.push(msgs[r(msgs.length)]!);
  }
  // Batches as recv() returns them (up to 64 KB), the last with NLMSG_DONE.
  const batches: Buffer[][] = [[]];
  let size = 0;
  for (const m of msgs) {
    if (size + m.length > 65536) {
      batches.push([]);
      size = 0;
    }
    batches[batches.length - 1]!.push(m);
    size += m.length;
  }
  batches[batches.length - 1]!.push(done());
  return batches;
}

function feed<R extends ProcNetRow>(decoder: InetDiagRowDecoder<R>, batches: Buffer[][]): R[] {
  decoder.begin();
  let complete = false;
  for (const batch of batches) {
    // An aligned copy, as the reader's buffer is.
    const buf = Buffer.alloc(batch.reduce((n, b) => n + b.length, 0));
    Buffer.concat(batch).copy(buf);
    complete = decoder.feed(buf, buf.length);
  }
  if (!complete) throw new Error('dump not complete');
  return decoder.end();
}

const rowJson = (r: ProcNetRow) => JSON.stringify([r.protocol, r.family, r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state, r.uid, r.inode]);

t.test('InetDiagOnceDecoder: the rows of InetDiagDecoder, in its order, on generated dumps', async (t) => {
  for (const [seed, family, protocol, count] of [
    [1, 2, 'TCP', 6000],
    [2, 10, 'TCP', 3000],
    [3, 2, 'UDP', 2000],
    [4, 10, 'UDP', 1500],
    [5, 2, 'TCP', 1],
  ] as const) {
    const batches = generatedDump(seed, family, count);
    const fam = family === 2 ? 4 : 6;
    const memo = feed(new InetDiagDecoder(protocol, fam), batches);
    const oneShot = feed(new InetDiagOnceDecoder(protocol, fam), batches);
    t.ok(memo.length >= count * 0.9, `${protocol}${fam}: ${memo.length} rows from ${count} sockets`);
    t.same(oneShot.map(rowJson), memo.map(rowJson), `${protocol}${fam}: same rows, same order`);
    t.ok(
      oneShot.every((r) => r.pid === null && r.creationTime === null),
      'each row is an Endpoint with no owner yet',
    );
  }
  // A decoder used twice (a second table read by the same object) starts afresh.
  const d = new InetDiagOnceDecoder('TCP', 4);
  const batches = generatedDump(9, 2, 500);
  const first = feed(d, batches).map(rowJson);
  t.same(feed(d, batches).map(rowJson), first, 'a second dump of the same sockets gives them again');
});

t.test('InetDiagOnceDecoder: NLMSG_ERROR and truncated messages as InetDiagDecoder', async (t) => {
  const err = nlmsgError(2);
  const d = new InetDiagOnceDecoder('UDP', 4);
  d.begin();
  let caught: unknown;
  try {
    d.feed(err, err.length);
  } catch (e) {
    caught = e;
  }
  t.ok(caught instanceof SockDiagError && caught.errno === 2, `SockDiagError errno 2 (got ${String(caught)})`);
  d.begin();
  t.throws(() => d.feed(message({ family: 2, state: 7, sport: 53, dport: 0, src: [127, 0, 0, 1], dst: [], uid: 0, inode: 1, attrs: 0 }), 50), /malformed netlink message/);
});

t.test('socketOwnersOnce: the owners a fresh SocketOwnerIndex finds, on a generated /proc', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'once-owners-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const r = random(7);
  const wanted = new Set<number>();
  for (let pid = 1; pid <= 400; pid += 1 + r(7)) {
    const fd = path.join(root, String(pid), 'fd');
    if (r(15) === 0) {
      fs.mkdirSync(path.join(root, String(pid))); // no fd directory: exited, or not ours to read
      continue;
    }
    fs.mkdirSync(fd, { recursive: true });
    const n = r(40);
    for (let i = 0; i < n; i++) {
      // Sockets, some shared between processes (lowest PID wins), pipes, files, anon inodes.
      const kind = r(10);
      const target = kind < 6 ? `socket:[${1000 + r(3000)}]` : kind === 6 ? `pipe:[${r(100)}]` : kind === 7 ? 'anon_inode:[eventfd]' : `/var/log/f${r(9)}`;
      fs.symlinkSync(target, path.join(fd, String(i)));
      if (kind < 6 && r(3) > 0) wanted.add(Number(/\d+/.exec(target)![0]));
    }
  }
  fs.mkdirSync(path.join(root, 'self'));
  fs.mkdirSync(path.join(root, 'net'));
  for (let i = 0; i < 50; i++) wanted.add(900_000 + i); // held where we cannot look: never found
  const viaIndex = new SocketOwnerIndex(root, { fullWalkMs: 0 }).lookup(wanted).owners;
  const viaOnce = socketOwnersOnce(root, wanted);
  t.ok(viaIndex.size > 500, `${viaIndex.size} owned of ${wanted.size} wanted`);
  t.same([...viaOnce].sort((a, b) => a[0] - b[0]), [...viaIndex].sort((a, b) => a[0] - b[0]), 'same inode → PID');
  // When every wanted socket is found early, the walk stops there, as the index's does.
  const few = new Set([...viaIndex.keys()].slice(0, 5));
  t.same([...socketOwnersOnce(root, few)].sort(), [...new SocketOwnerIndex(root).lookup(few).owners].sort());
});

/** Every PortOwner record of a snapshot, sorted as `record --once` writes them, as JSON. */
function records(s: Snapshot, keep: (pid: number | null) => boolean): string[] {
  return sortEndpoints(s.endpoints)
    .filter((e) => keep(e.pid))
    .map((e) => recordToJson(PortOwnerKind, portOwnerRecord(s.computerName, e, e.pid === null ? null : s.processes.get(e.pid) ?? null)));
}

t.test('live: snapshotOnce gives the endpoints, processes and records of a first snapshot', { skip: linuxOnly }, async (t) => {
  const keep: { close(): void }[] = [];
  t.teardown(() => keep.forEach((k) => k.close()));
  const accepted: net.Socket[] = [];
  t.teardown(() => accepted.forEach((s) => s.destroy()));
  for (const host of ['127.0.0.1', '::1']) {
    const server = net.createServer((s) => accepted.push(s.on('error', () => {})));
    server.listen(0, host);
    await once(server, 'listening');
    keep.push(server);
    const port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < 150; i++) {
      const c = net.connect(port, host);
      await once(c, 'connect');
      keep.push({ close: () => c.destroy() });
    }
    for (let i = 0; i < 20; i++) {
      const u = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      u.bind(0, host);
      await once(u, 'listening');
      keep.push(u);
    }
  }
  const deadline = performance.now() + 10_000;
  while (accepted.length < 300 && performance.now() < deadline) await new Promise((r) => setImmediate(r));
  t.equal(accepted.length, 300);

  // The same user names for both (the system's directory would do too; this keeps getent out).
  const users: UserDirectory = { lookup: async (uids) => new Map(uids.map((u) => [u, `user${u}`])) };
  const ours = (pid: number | null) => pid === process.pid;
  const failingTcp4 = (): Pick<SockDiagReader, 'dump'> => {
    const real = new SockDiagReader();
    return {
      dump(decoder) {
        if (decoder.protocol === 'TCP' && decoder.family === 4) throw new SockDiagError(2);
        return real.dump(decoder);
      },
    };
  };
  for (const [what, options] of [
    ['sock_diag', {}],
    ['/proc/net (sock_diag refused)', { sockDiag: false }],
    ['sock_diag refused for TCP v4 only', { sockDiag: failingTcp4() }],
  ] as const) {
    for (const modules of [false, true]) {
      const a = await new LinuxBackend({ users, ...options }).snapshot({ modules });
      const b = await new LinuxBackend({ users, ...options }).snapshotOnce({ modules });
      const mine = records(a, ours);
      t.equal(mine.length, 2 + 600 + 40, `${what}: our endpoints`);
      t.same(records(b, ours), mine, `${what}, modules ${modules}: the same records`);
      t.same(b.processes.get(process.pid), a.processes.get(process.pid), `${what}: the same process details`);
      // Every endpoint of the machine: the same set (other processes' sockets may come and go between the two).
      const all = (s: Snapshot) => new Set(records(s, () => true));
      const [sa, sb] = [all(a), all(b)];
      const differ = [...sa].filter((x) => !sb.has(x)).length + [...sb].filter((x) => !sa.has(x)).length;
      t.ok(differ <= Math.max(20, sa.size / 50), `${what}: ${sa.size} endpoints on the machine, ${differ} differ (sockets that came and went)`);
    }
  }
});
