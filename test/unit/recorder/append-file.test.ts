import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { AppendFile } from '../../../src/portreporter/append-file';

/** Replaces fs.writeSync for the modules under test (the CommonJS object, synced to the ESM namespace). */
function patchWriteSync(fn: (fd: number, buf: Buffer) => number): () => void {
  const cjs = createRequire(import.meta.url)('node:fs') as { writeSync: unknown };
  const real = cjs.writeSync;
  cjs.writeSync = fn;
  syncBuiltinESMExports();
  return () => {
    cjs.writeSync = real;
    syncBuiltinESMExports();
  };
}

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-append-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('header once, then whole records; size and hasRecords follow the file; reopen continues', async (t) => {
  const f = path.join(tmpDir(t), 'PR-PORTS-x.log');
  const file = new AppendFile(f, 'HEADER\r\n');
  t.equal(file.hasRecords, false);
  file.create();
  file.create();
  t.equal(fs.readFileSync(f, 'utf8'), 'HEADER\r\n', 'header written once');
  t.equal(file.hasRecords, false);
  file.append('row 1\r\n');
  t.equal(file.hasRecords, true);
  t.equal(file.size, fs.statSync(f).size);
  file.close();
  const again = new AppendFile(f, 'HEADER\r\n');
  again.append('row 2\r\n');
  again.close();
  t.equal(fs.readFileSync(f, 'utf8'), 'HEADER\r\nrow 1\r\nrow 2\r\n', 'continued, header not repeated');
  t.equal((fs.statSync(f).mode & 0o777).toString(8), '600', 'created owner-only');
});

t.test('each record is exactly one write() call', async (t) => {
  const f = path.join(tmpDir(t), 'x.log');
  const file = new AppendFile(f, 'H\n');
  file.create();
  const writes: number[] = [];
  const real = fs.writeSync;
  const restore = patchWriteSync((fd, buf) => {
    writes.push(buf.length);
    return real(fd, buf);
  });
  try {
    file.append('a record of several\nlines\n');
    file.append('b\n');
  } finally {
    restore();
  }
  t.same(writes, [26, 2], 'one write per record, whole');
  file.close();
});

t.test('a short write is cut back and reported as ENOSPC; the file keeps its whole records', async (t) => {
  const f = path.join(tmpDir(t), 'x.log');
  const file = new AppendFile(f, '');
  file.append('whole\n');
  const real = fs.writeSync;
  const restore = patchWriteSync((fd, buf) => real(fd, buf.subarray(0, 3)));
  try {
    t.throws(() => file.append('partial record\n'), { code: 'ENOSPC' });
  } finally {
    restore();
  }
  t.equal(fs.readFileSync(f, 'utf8'), 'whole\n');
  t.equal(file.size, 6);
  file.close();
});
