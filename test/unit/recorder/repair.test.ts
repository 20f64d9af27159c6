import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { repairFile } from '../../../src/portreporter/repair';

function tmpFile(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-repair-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'x.log');
}

t.test('repairFile leaves whole files alone and cuts a torn last record', async (t) => {
  const f = tmpFile(t);
  fs.writeFileSync(f, 'a\r\nb\r\n');
  t.equal(repairFile(f, false), 0);
  fs.appendFileSync(f, 'c,d');
  t.equal(repairFile(f, false), 3, 'line file: the bytes after the last line end');
  t.equal(fs.readFileSync(f, 'utf8'), 'a\r\nb\r\n');
  fs.writeFileSync(f, 'h\r\n\r\nblock\r\n\r\n');
  t.equal(repairFile(f, true), 0);
  fs.appendFileSync(f, 'half\r\nblo');
  t.equal(repairFile(f, true), 'half\r\nblo'.length, 'block file: back to the last blank line');
  t.equal(fs.readFileSync(f, 'utf8'), 'h\r\n\r\nblock\r\n\r\n');
  fs.writeFileSync(f, 'lf\n\nhalf');
  t.equal(repairFile(f, true), 4, 'LF-only blocks too');
  t.equal(repairFile(path.join(path.dirname(f), 'missing.log'), false), 0, 'a missing file is nothing to repair');
});
