import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { placeChange } from '../../../src/portreporter/log-place';

function setup(t: { teardown(fn: () => void): void }) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-place-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const dir = path.join(base, 'logs');
  fs.mkdirSync(dir, { mode: 0o700 });
  const st = fs.lstatSync(dir);
  const file = path.join(dir, 'PR-PORTS-x.log');
  const fd = fs.openSync(file, 'a');
  t.teardown(() => fs.closeSync(fd));
  return { base, dir, id: { path: dir, dev: st.dev, ino: st.ino }, file, fd };
}

t.test('nothing changed: null; a file not opened yet is not checked', async (t) => {
  const s = setup(t);
  t.equal(placeChange(s.id, s.dir, [{ path: s.file, fd: s.fd }, { path: path.join(s.dir, 'PR-PIDS-x.log'), fd: null }]), null);
});

t.test('the directory deleted, replaced by a directory, replaced by a file', async (t) => {
  const s = setup(t);
  fs.rmSync(s.dir, { recursive: true });
  t.same(placeChange(s.id, 'D', []), { what: 'directory', gone: true, message: 'log directory D disappeared' });
  fs.mkdirSync(s.dir);
  t.same(placeChange(s.id, 'D', []), { what: 'directory', gone: false, message: 'log directory D was replaced by another directory' });
  fs.rmdirSync(s.dir);
  fs.writeFileSync(s.dir, '');
  t.match(placeChange(s.id, 'D', []), { what: 'directory', message: /replaced by another file/ });
});

t.test('an open file unlinked, or another file (or a symlink) put at its name', async (t) => {
  const s = setup(t);
  const files = [{ path: s.file, fd: s.fd }];
  fs.unlinkSync(s.file);
  t.match(placeChange(s.id, 'D', files), { what: 'file', path: s.file, message: 'log file PR-PORTS-x.log in D was deleted or replaced while recording' });
  fs.writeFileSync(s.file, 'planted');
  t.match(placeChange(s.id, 'D', files), { what: 'file' }, 'same name, other inode');
  fs.unlinkSync(s.file);
  fs.symlinkSync('/etc/passwd', s.file);
  t.match(placeChange(s.id, 'D', files), { what: 'file' }, 'a symlink in its place');
});
