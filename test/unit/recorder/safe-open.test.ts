import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { foreignReason, openAppend, readOwnFile } from '../../../src/portreporter/safe-open';
import { unsafeReason } from '../../../src/portreporter/log-dir';

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-open-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const file = (extra: Partial<{ isFile: boolean; nlink: number; uid: number }> = {}) => {
  const v = { isFile: true, nlink: 1, uid: 0, ...extra };
  return { isFile: () => v.isFile, nlink: v.nlink, uid: v.uid };
};

t.test('foreignReason: only a regular file of ours with one link is written', async (t) => {
  t.equal(foreignReason(file(), 0), null);
  t.equal(foreignReason(file({ uid: 1000 }), 1000), null, 'a non-root recorder owns its files');
  t.equal(foreignReason(file({ isFile: false }), 0), 'is not a regular file');
  t.equal(foreignReason(file({ nlink: 2 }), 0), 'has 2 hard links');
  t.equal(foreignReason(file({ nlink: 0 }), 0), 'was deleted');
  t.equal(foreignReason(file({ uid: 65534 }), 0), 'is owned by uid 65534');
  t.equal(foreignReason(file({ uid: 65534 }), null), null, 'Windows: no owner in fstat, the folder ACL decides');
});

t.test('unsafeReason: sshd StrictModes rules, sticky parents above a child of ours only', async (t) => {
  const me = { uid: 1000 };
  t.equal(unsafeReason({ uid: 0, mode: 0o40755 }, me), null);
  t.equal(unsafeReason({ uid: 1000, mode: 0o40700 }, me), null);
  t.match(unsafeReason({ uid: 1001, mode: 0o40700 }, me), /owned by uid 1001/);
  t.match(unsafeReason({ uid: 0, mode: 0o40775 }, me), /writable by other users \(mode 0775\)/, 'group-writable (Ubuntu /var/log is root:syslog 0775)');
  t.match(unsafeReason({ uid: 0, mode: 0o41777 }, me), /sticky or not/, 'the log directory itself: sticky does not help');
  t.equal(unsafeReason({ uid: 0, mode: 0o41777 }, me, 1000), null, '/tmp above a directory of ours');
  t.equal(unsafeReason({ uid: 0, mode: 0o41777 }, me, 0), null, '/tmp above a root directory');
  t.match(unsafeReason({ uid: 0, mode: 0o41777 }, me, 1001), /writable/, "/tmp above someone else's directory: they can swap it");
  t.match(unsafeReason({ uid: 0, mode: 0o40777 }, me, 1000), /writable/, 'not sticky: anyone can rename our child');
});

t.test('openAppend: O_EXCL for a new file, O_NOFOLLOW always; readOwnFile refuses links too', async (t) => {
  const dir = tmpDir(t);
  const f = path.join(dir, 'a.log');
  const fd = openAppend(f, true);
  fs.writeSync(fd, 'x\n');
  fs.closeSync(fd);
  t.throws(() => openAppend(f, true), { code: 'EEXIST' }, 'a file that must be new but exists');
  fs.closeSync(openAppend(f, false));
  t.equal(readOwnFile(f)?.toString(), 'x\n');
  t.equal(readOwnFile(path.join(dir, 'none.log')), null);
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, 'secret');
  const link = path.join(dir, 'link.log');
  fs.symlinkSync(target, link);
  t.throws(() => openAppend(link, false), { exitCode: 78, message: /is a symbolic link/ });
  t.throws(() => openAppend(link, true), { code: 'EEXIST' }, 'O_EXCL: a planted link is never created through');
  t.throws(() => readOwnFile(link), { exitCode: 78, message: /symbolic link/ });
  const dangling = path.join(dir, 'dangling.log');
  fs.symlinkSync(path.join(dir, 'would-be-created'), dangling);
  t.throws(() => openAppend(dangling, false), { exitCode: 78, message: /symbolic link/ });
  t.notOk(fs.existsSync(path.join(dir, 'would-be-created')), 'a dangling link does not create its target');
  t.equal(fs.readFileSync(target, 'utf8'), 'secret');
});

t.test('a FIFO planted under a log name is refused without blocking', { skip: process.platform === 'win32' ? 'no mkfifo on Windows' : false }, async (t) => {
  const dir = tmpDir(t);
  const fifo = path.join(dir, 'PR-PORTS-x.log');
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [fifo]);
  t.throws(() => openAppend(fifo, false), { exitCode: 78, message: /FIFO|not a regular file/ });
  t.throws(() => readOwnFile(fifo), { exitCode: 78, message: /not a regular file/ });
});
