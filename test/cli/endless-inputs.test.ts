/**
 * Issue 14, "Inputs that never end". Failed on the old code: `parse /dev/zero` read for ever (no line
 * feed, no header) instead of giving up after the header window; --targets-file read UTF-16 (what
 * PowerShell 5.1's `>` writes) as garbage, and read /dev/zero until memory ran out.
 * Deadlines are tap's per-test timeouts, not timing assertions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { decodeTargetsText } from '../../src/query/targets-file';
import { runInProcess } from '../helpers/in-process';

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'endless-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('parse /dev/zero gives up after the header window: not a Port Reporter log, exit 65', { timeout: 60_000, skip: fs.existsSync('/dev/zero') ? false : 'no /dev/zero' }, async (t) => {
  const r = await runInProcess(['parse', '/dev/zero']);
  t.equal(r.code, 65);
  t.equal(r.stderr, 'portqry-ts: not a Port Reporter log: /dev/zero\n');
  t.equal(r.stdout, '');
});

t.test('a file with no line feed gives up the same way, and a folder passes over it', { timeout: 60_000 }, async (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, 'PR-PORTS-1.log');
  fs.writeFileSync(file, Buffer.alloc(3 << 20, 0x61));
  const named = await runInProcess(['parse', file]);
  t.equal(named.code, 65);
  t.match(named.stderr, /^portqry-ts: not a Port Reporter log: .*PR-PORTS-1\.log\n$/);
  const folder = await runInProcess(['parse', dir]);
  t.equal(folder.code, 0, 'in a folder it is passed over');
  t.equal(folder.stdout, '');
});

t.test('--targets-file in UTF-16 with a BOM (PowerShell 5.1 >) and UTF-8 with a BOM', async (t) => {
  const dir = tmpdir(t);
  const le = path.join(dir, 'le.txt');
  fs.writeFileSync(le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('127.0.0.1\r\n# comment\r\n', 'utf16le')]));
  const r = await runInProcess(['query', '--targets-file', le, '-e', '1', '-nr', '--json']);
  t.equal(r.code, 1, 'queried 127.0.0.1: NOT LISTENING');
  t.equal(r.stderr, '');
  t.match(r.stdout, /"RemoteAddress":"127\.0\.0\.1"/);
  t.equal(decodeTargetsText(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('a', 'utf16le').swap16()])), 'a', 'UTF-16 BE');
  t.equal(decodeTargetsText(Buffer.from([0xef, 0xbb, 0xbf, 0x62])), 'b', 'UTF-8 BOM removed');
});

t.test('--targets-file larger than its cap (16 MiB) is refused, naming the cap', { timeout: 60_000, skip: fs.existsSync('/dev/zero') ? false : 'no /dev/zero' }, async (t) => {
  const r = await runInProcess(['query', '--targets-file', '/dev/zero', '-e', '1']);
  t.equal(r.code, 65);
  t.equal(r.stderr, 'portqry-ts: --targets-file /dev/zero is larger than 16 MiB, the most it may be\n');
});
