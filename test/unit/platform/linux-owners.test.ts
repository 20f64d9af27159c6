/**
 * SocketOwnerIndex (src/platform/linux-owners.ts): socket owners remembered between snapshots must
 * stay right when PIDs are reused, sockets move between processes, or a descriptor table changes
 * without changing size. Two kinds of tests: a fake /proc tree (directories and `socket:[N]`
 * symlinks, whose directory size never changes, like a table whose size did not change) for exact
 * control, and real processes on this machine's /proc for what the kernel really reports.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { SocketOwnerIndex } from '../../../src/platform/linux-owners';

/** A fake /proc: `pids` maps PID → socket inodes held (one fd each, plus stdin as a non-socket). */
function fakeProc(t: { teardown(fn: () => void): void }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-owners-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (dir: string, inodes: number[]) => {
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    fs.symlinkSync('/dev/null', path.join(dir, 'fd', '0'));
    inodes.forEach((inode, i) => fs.symlinkSync(`socket:[${inode}]`, path.join(dir, 'fd', String(i + 3))));
  };
  return {
    root,
    /** Creates (or replaces, as a new process would: a new directory) the process. */
    process(pid: number, inodes: number[]) {
      const dir = path.join(root, String(pid));
      // Built beside and renamed over, so the new directory gets a new inode number, as procfs gives a new process.
      const fresh = `${dir}.new`;
      write(fresh, inodes);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(fresh, dir);
    },
    /** Points descriptor `fd` of a living process at another target; the table keeps its size. */
    relink(pid: number, fd: number, target: string) {
      const link = path.join(root, String(pid), 'fd', String(fd));
      fs.rmSync(link);
      fs.symlinkSync(target, link);
    },
    exit(pid: number) {
      fs.rmSync(path.join(root, String(pid)), { recursive: true, force: true });
    },
  };
}

t.test('fake /proc: lowest PID of a shared socket; an exited holder hands over to the next', async (t) => {
  const proc = fakeProc(t);
  proc.process(300, [555]);
  proc.process(100, [555, 556]);
  proc.process(200, [557]);
  const index = new SocketOwnerIndex(proc.root);
  t.same([...index.lookup(new Set([555, 556, 557])).owners].sort(), [[555, 100], [556, 100], [557, 200]]);
  proc.exit(100);
  t.same([...index.lookup(new Set([555, 557])).owners].sort(), [[555, 300], [557, 200]], 'socket 555 now only in 300');
});

t.test('fake /proc: a reused PID does not inherit the sockets of the process it replaced', async (t) => {
  const proc = fakeProc(t);
  proc.process(100, [555]);
  const index = new SocketOwnerIndex(proc.root);
  t.same([...index.lookup(new Set([555])).owners], [[555, 100]]);
  // PID 100 exits; a new process gets PID 100, with the same number of descriptors but another socket.
  // 555 lives on in PID 200 (it had passed it on); 777 is the new process's own.
  proc.process(200, [555]);
  proc.process(100, [777]);
  const { owners } = index.lookup(new Set([555, 777]));
  t.equal(owners.get(555), 200, 'the old socket is attributed to its remaining holder, not to the new PID 100');
  t.equal(owners.get(777), 100);
});

t.test('fake /proc: a socket opened while another descriptor closed (table size unchanged) is still found', async (t) => {
  const proc = fakeProc(t);
  proc.process(100, [555]);
  proc.process(200, [600]);
  const index = new SocketOwnerIndex(proc.root);
  t.same([...index.lookup(new Set([555, 600])).owners].sort(), [[555, 100], [600, 200]]);
  // Same directory, same size: only a full re-read can see it.
  proc.relink(100, 0, 'socket:[888]');
  const { owners } = index.lookup(new Set([555, 600, 888]));
  t.equal(owners.get(888), 100);
  t.equal(owners.get(555), 100);
});

t.test('fake /proc: unchanged tables are not re-read; an inode nobody visible holds costs one walk until the next rebuild', async (t) => {
  const proc = fakeProc(t);
  proc.process(100, [555]);
  proc.process(200, [556]);
  let now = 0;
  const index = new SocketOwnerIndex(proc.root, { fullWalkMs: 60_000, now: () => now });
  index.lookup(new Set([555, 556]));
  const afterFirst = { ...index.stats };
  t.equal(afterFirst.tablesRead, 2);
  now += 1000;
  const steady = index.lookup(new Set([555, 556]));
  t.same([...steady.owners].sort(), [[555, 100], [556, 200]]);
  t.equal(steady.alive, null, 'no walk over /proc when every socket has a checked owner');
  t.same(index.stats, afterFirst, 'nothing re-read');

  // 999 is in the table but held by no process we can see (another PID namespace, another user).
  now += 1000;
  t.notOk(index.lookup(new Set([555, 556, 999])).owners.has(999));
  const walks = index.stats.walks;
  now += 1000;
  t.notOk(index.lookup(new Set([555, 556, 999])).owners.has(999));
  t.equal(index.stats.walks, walks, 'not looked for again at the next poll');
  // Until the rebuild: then it is looked for once more, and found if it has become visible.
  proc.process(300, [999]);
  now += 60_000;
  t.equal(index.lookup(new Set([555, 556, 999])).owners.get(999), 300);
  t.equal(index.stats.fullWalks, 2);
});

t.test('fake /proc: the rebuild corrects a socket handed on while the old holder opened something else', async (t) => {
  const proc = fakeProc(t);
  proc.process(100, [555]);
  proc.process(200, [600]);
  let now = 0;
  const index = new SocketOwnerIndex(proc.root, { fullWalkMs: 10_000, now: () => now });
  t.equal(index.lookup(new Set([555, 600])).owners.get(555), 100);
  // 100 hands 555 to 200 and opens a file in its place: neither table signals a change to the size check.
  proc.relink(100, 3, '/dev/null');
  proc.relink(200, 0, 'socket:[555]');
  now += 1000;
  t.equal(index.lookup(new Set([555, 600])).owners.get(555), 100, 'the documented blind spot, within the rebuild interval');
  now += 10_000;
  t.equal(index.lookup(new Set([555, 600])).owners.get(555), 200, 'corrected by the rebuild');
});

/** Socket inode of a descriptor of this process. */
function inodeOf(fd: number): number {
  const link = fs.readlinkSync(`/proc/self/fd/${fd}`);
  const m = /^socket:\[(\d+)\]$/.exec(link);
  if (!m) throw new Error(`fd ${fd} is not a socket: ${link}`);
  return Number(m[1]);
}

async function listen(): Promise<net.Server> {
  const server = net.createServer();
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  return server;
}

const serverFd = (server: net.Server) => (server as unknown as { _handle: { fd: number } })._handle.fd;
const linuxOnly = process.platform !== 'linux' ? 'Linux only' : false;

t.test('real processes: a listener passed to a child over IPC, then closed here, belongs to the child', { skip: linuxOnly }, async (t) => {
  const server = await listen();
  const inode = inodeOf(serverFd(server));
  const index = new SocketOwnerIndex('/proc');
  t.equal(index.lookup(new Set([inode])).owners.get(inode), process.pid, 'ours first');

  const child = spawn(process.execPath, ['-e', "process.on('message', (m, h) => { globalThis.keep = h; process.send('got'); }); setInterval(() => {}, 1e6)"], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  t.teardown(() => child.kill('SIGKILL'));
  child.send('server', server);
  await once(child, 'message');
  // Held by both now. The owner already known keeps it while it holds it (no flip-flop in the logs),
  // even when the PID counter wrapped and the child's PID is the lower one.
  t.equal(index.lookup(new Set([inode])).owners.get(inode), process.pid, 'held by both: still ours');

  server.close();
  await once(server, 'close');
  t.equal(index.lookup(new Set([inode])).owners.get(inode), child.pid, 'moved: the child alone holds it now');
});

t.test('real processes: a listener inherited by a child stays ours until we close it; a new socket is found at once', { skip: linuxOnly }, async (t) => {
  const server = await listen();
  const inode = inodeOf(serverFd(server));
  const child = spawn(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1e6)"], { stdio: ['ignore', 'pipe', 'inherit', serverFd(server)] });
  t.teardown(() => child.kill('SIGKILL'));
  await once(child.stdout!, 'data');
  const index = new SocketOwnerIndex('/proc');
  t.equal(index.lookup(new Set([inode])).owners.get(inode), Math.min(process.pid, child.pid!));

  const second = await listen();
  const secondInode = inodeOf(serverFd(second));
  const owners = index.lookup(new Set([inode, secondInode])).owners;
  t.equal(owners.get(secondInode), process.pid, 'a socket opened since the last lookup');

  server.close();
  await once(server, 'close');
  t.equal(index.lookup(new Set([inode, secondInode])).owners.get(inode), child.pid, 'the child, once we closed our copy');
  second.close();
});

t.test('real processes: an owner that exited is dropped at the next lookup', { skip: linuxOnly }, async (t) => {
  // A child opens its own listener and reports its port; we find its inode through the index's walk.
  // Its stderr is not inherited: under a test runner that reads our stderr through a socket, an
  // inherited fd 2 is that socket, also held by this process and the runner, so it would still have
  // a live owner after the child exits (the test failed that way under tap's terse reporter). Every
  // socket of the child is then its own: the listener and its end of the stdout socket pair.
  const child = spawn(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port));setInterval(()=>{},1e6)"], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => child.kill('SIGKILL'));
  await once(child.stdout!, 'data');
  const links = fs.readdirSync(`/proc/${child.pid}/fd`).map((fd) => fs.readlinkSync(`/proc/${child.pid}/fd/${fd}`));
  const inodes = links.filter((l) => l.startsWith('socket:[')).map((l) => Number(l.slice(8, -1)));
  t.ok(inodes.length > 0);
  const index = new SocketOwnerIndex('/proc');
  const first = index.lookup(new Set(inodes)).owners;
  t.ok(inodes.every((i) => first.get(i) === child.pid));
  child.kill('SIGKILL');
  await once(child, 'exit');
  t.equal(index.lookup(new Set(inodes)).owners.size, 0, 'the exited owner is dropped');
});
