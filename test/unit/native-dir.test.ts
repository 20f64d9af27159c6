import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { installVerified } from '../../src/platform/koffi';
import { adminsOnlySddl, checkPosixPrivate, planNativeDir } from '../../src/platform/native-dir';

// Where koffi.node is extracted and how it is replaced (src/platform/native-dir.ts, koffi.ts), with
// Windows' rename semantics injected: MoveFileEx onto a file another process holds (a running copy
// that mapped it, Defender scanning it) fails with EPERM/EBUSY. The real executables are run in
// test/cli/native-load.test.ts (Linux) and test/wine/native-load.test.ts.

const buf = crypto.randomBytes(4096);
const hash = crypto.createHash('sha256').update(buf).digest('hex');
const eperm = () => Object.assign(new Error('EPERM: operation not permitted, rename'), { code: 'EPERM' });

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-native-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the folder per platform', async (t) => {
  t.equal(planNativeDir(hash, { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local', USERPROFILE: 'C:\\Users\\ann' }, 'win32').dir, `C:\\Users\\ann\\AppData\\Local\\portqry-ts\\${hash.slice(0, 16)}`);
  const system = planNativeDir(hash, { LOCALAPPDATA: 'C:\\Windows\\System32\\config\\systemprofile\\AppData\\Local', USERPROFILE: 'C:\\Windows\\System32\\config\\systemprofile' }, 'win32');
  t.same(system, { dir: `C:\\Windows\\System32\\config\\systemprofile\\AppData\\Local\\portqry-ts\\${hash.slice(0, 16)}`, scope: 'user' }, "SYSTEM: its own profile, private to SYSTEM and Administrators");
  t.equal(planNativeDir(hash, { XDG_CACHE_HOME: '/home/ann/.cache' }, 'linux').dir, `/home/ann/.cache/portqry-ts/${hash.slice(0, 16)}`);
  t.equal(planNativeDir(hash, { XDG_CACHE_HOME: 'relative' }, 'linux').dir, path.join(os.homedir(), '.cache', 'portqry-ts', hash.slice(0, 16)), 'a relative XDG_CACHE_HOME is ignored (XDG spec)');
  t.equal(planNativeDir(hash, { PORTQRY_NATIVE_DIR: '/srv/x' }, 'linux').dir, `/srv/x/${hash.slice(0, 16)}`);
  for (const p of [planNativeDir(hash, {}, 'linux').dir, planNativeDir(hash, { LOCALAPPDATA: 'C:\\L' }, 'win32').dir]) t.notMatch(p, /^\/tmp|\\Temp\\/i, 'never a shared temp folder');
});

t.test('SDDL check for the elevated folder: Administrators and SYSTEM only, protected', async (t) => {
  t.ok(adminsOnlySddl('O:BAG:SYD:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)'));
  t.ok(adminsOnlySddl('O:S-1-5-32-544D:PAI(A;OICI;FA;;;S-1-5-18)'));
  t.notOk(adminsOnlySddl('O:BAG:SYD:AI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)'), 'inherited (not protected): ProgramData grants Users');
  t.notOk(adminsOnlySddl('O:BAD:PAI(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)'), 'Users may read/execute: still refused (only admins)');
  t.notOk(adminsOnlySddl('O:S-1-5-21-1-2-3-1001D:PAI(A;OICI;FA;;;BA)'), 'owned by a user');
  t.notOk(adminsOnlySddl('O:BAD:PAI(A;OICI;FA;;;WD)'), 'Everyone');
});

t.test('POSIX checks: ours and private; others refused with one line', { skip: process.platform !== 'linux' }, async (t) => {
  const base = tmpdir(t);
  const dir = path.join(base, 'portqry-ts', 'h');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  checkPosixPrivate(dir);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700, 'an old 0755 folder of ours is tightened');
  fs.chmodSync(path.join(base, 'portqry-ts'), 0o777);
  t.throws(() => checkPosixPrivate(dir), /above the native module folder\) is writable by other users/);
  fs.chmodSync(path.join(base, 'portqry-ts'), 0o700);
  const link = path.join(base, 'link');
  fs.symlinkSync(dir, link);
  t.throws(() => checkPosixPrivate(link), /is a symbolic link: refusing to load code from it/);
  if (process.getuid?.() === 0) {
    fs.chownSync(dir, 65534, 65534);
    t.throws(() => checkPosixPrivate(dir), /is owned by uid 65534, not us \(0\): refusing to load code from it/);
  }
});

t.test('install: reuse, re-extract a swapped file, Windows rename refusals', async (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, 'koffi.node');
  t.equal(installVerified(file, buf), file);
  t.same(fs.readFileSync(file), buf);
  const ino = fs.statSync(file).ino;
  t.equal(installVerified(file, buf, () => t.fail('no rename when the file is right')), file, 'reused');
  t.equal(fs.statSync(file).ino, ino);

  fs.writeFileSync(file, Buffer.from('swapped by someone'));
  t.equal(installVerified(file, buf), file, 'wrong bytes are re-extracted');
  t.same(fs.readFileSync(file), buf);

  // Windows: EPERM twice (Defender scanning the old file), then the rename goes through.
  fs.writeFileSync(file, 'old');
  let calls = 0;
  const flaky = (a: string, b: string) => {
    if (++calls <= 2) throw eperm();
    fs.renameSync(a, b);
  };
  t.equal(installVerified(file, buf, flaky), file);
  t.equal(calls, 3);
  t.same(fs.readFileSync(file), buf);

  // A concurrent first run put the same bytes there while ours was refused: use it, drop our temp.
  fs.writeFileSync(file, 'old');
  const racing = () => {
    fs.writeFileSync(file, buf);
    throw eperm();
  };
  t.equal(installVerified(file, buf, racing), file);
  t.same(fs.readdirSync(dir).sort(), ['koffi.node'], 'no temp file left');

  // Held for good by a wrong file: our verified copy under a name of its own.
  fs.writeFileSync(file, 'held');
  const own = installVerified(file, buf, () => {
    throw eperm();
  });
  t.equal(own, path.join(dir, `koffi-${process.pid}.node`));
  t.same(fs.readFileSync(own), buf);
  t.same(fs.readdirSync(dir).sort(), ['koffi-' + process.pid + '.node', 'koffi.node']);

  // Any other error is not retried.
  t.throws(() => installVerified(path.join(dir, 'x.node'), buf, () => { throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }); }), /ENOSPC/);
  t.notOk(fs.readdirSync(dir).some((n) => n.endsWith('.tmp')), 'temp removed after a failure');
});
