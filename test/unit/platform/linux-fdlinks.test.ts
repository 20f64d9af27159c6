/**
 * The two ways of reading /proc/PID/fd links (src/platform/linux-fdlinks.ts) must give the same
 * sockets: readlinkat through koffi into a reused buffer, and fs.readlinkSync. Checked on a fake /proc
 * tree (every kind of link, links cut short by the buffer, a descriptor closed between the listing
 * and the read) and on this process's real /proc/self/fd with real sockets open.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { socketInode, socketInodeBytes } from '../../../src/platform/linux-decode';
import { type FdLinks, fsFdLinks, libcFdLinks } from '../../../src/platform/linux-fdlinks';

const linux = process.platform === 'linux';

function inodes(links: FdLinks, fdDir: string, fds: readonly string[]): number[] {
  const found: number[] = [];
  links.socketInodes(fdDir, fds, (inode) => found.push(inode));
  return found;
}

t.test('socketInodeBytes: the bytes readlink(2) fills, decoded as socketInode decodes the string', async (t) => {
  const cases: [string, number | null][] = [
    ['socket:[219408]', 219408],
    ['socket:[0]', 0],
    ['socket:[4294967295]', 4294967295],
    ['socket:[18446744073709]', 18446744073709],
    ['pipe:[5]', null],
    ['/dev/null', null],
    ['anon_inode:[eventpoll]', null],
    ['socket:[]', null],
    ['socket:[12', null], // cut short by the buffer
    ['socket:[1a]', null],
    ['Socket:[12]', null],
    ['socket:12]', null],
    ['', null],
    ['/tmp/socket:[12]', null],
  ];
  for (const [link, want] of cases) {
    const bytes = Buffer.alloc(64, 0xff);
    const n = bytes.write(link, 'latin1');
    t.equal(socketInodeBytes(bytes, n), want, JSON.stringify(link));
    t.equal(socketInode(link), want, `socketInode agrees on ${JSON.stringify(link)}`);
  }
});

t.test('fake /proc: both readers give the same sockets, in descriptor order', { skip: !linux && 'readlinkat through libc: Linux only' }, async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fdlinks-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const fdDir = path.join(root, '4242', 'fd');
  fs.mkdirSync(fdDir, { recursive: true });
  const targets = [
    '/dev/null',
    'socket:[1001]',
    'pipe:[77]',
    'socket:[1002]',
    'anon_inode:[eventfd]',
    `/var/lib/${'long-name-'.repeat(12)}/socket:[99]`, // longer than the 64-byte buffer
    'socket:[18446744073709]',
    'socket:[]',
    'socket:[1003]',
  ];
  targets.forEach((target, i) => fs.symlinkSync(target, path.join(fdDir, String(i))));
  const fds = fs.readdirSync(fdDir);
  fds.push('999'); // listed, then closed before its link was read
  const want = inodes(fsFdLinks, `${fdDir}/`, fds);
  t.same(
    [...want].sort((a, b) => a - b),
    [1001, 1002, 1003, 18446744073709],
    'the fs reader finds the four sockets',
  );
  t.same(inodes(libcFdLinks(), `${fdDir}/`, fds), want, 'readlinkat finds the same, in the same order');
  t.same(inodes(libcFdLinks(), `${root}/4243/fd/`, ['0', '1']), [], 'a process gone: nothing');
  t.same(inodes(libcFdLinks(), `${fdDir}/`, []), [], 'no descriptors: nothing');
  const failing = libcFdLinks(() => {
    throw new Error('no libc here');
  });
  t.same(inodes(failing, `${fdDir}/`, fds), want, 'libc that cannot be loaded: read with fs, same answer');
});

t.test('real /proc/self/fd with sockets open: the same inodes both ways', { skip: !linux && 'procfs: Linux only' }, async (t) => {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as net.AddressInfo;
  const clients = await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise<net.Socket>((ok, fail) => {
          const c = net.connect(port, '127.0.0.1', () => ok(c));
          c.on('error', fail);
        }),
    ),
  );
  t.teardown(() => {
    for (const c of clients) c.destroy();
    server.close();
  });
  const dir = `/proc/${process.pid}/fd/`;
  const fds = fs.readdirSync(dir);
  const viaFs = inodes(fsFdLinks, dir, fds);
  const viaLibc = inodes(libcFdLinks(), dir, fds);
  t.ok(viaFs.length >= 21, `${viaFs.length} sockets among ${fds.length} descriptors (a listener and 20 clients at least)`);
  // readdir's own descriptor may be listed and closed again: compare what both could read.
  t.same(new Set(viaLibc), new Set(viaFs), 'the same socket inodes');
});
