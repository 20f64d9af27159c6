import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { parseInputsFile } from '../../src/portreporter/inputs';
import { parseJsonl, ROOT, runCli } from '../helpers/cli';

// parse/stats --inputs-file: the inputs listed in a file, for lists beyond the 32K command line
// (PowerShell's Import-PortReporterLog writes one when given many files).
const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');
const OURS = path.join(FIX, 'ours', 'SRV01', 'PR-PORTS-26-11-25-22-34-17.log');
const ORIGINAL = path.join(FIX, 'original', 'TEST', 'PR-PORTS-05-07-6-13-44-4.log');
const ENV = { TZ: 'UTC' };

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-file-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('parseInputsFile: UTF-8 with and without BOM, UTF-16LE/BE with BOM, CRLF, blank lines skipped', async (t) => {
  const lines = ['C:\\logs\\PR-PORTS-1.log', '', 'D:\\é\\PR-PORTS-2.log  ', '   '];
  const text = lines.join('\r\n') + '\r\n';
  const want = ['C:\\logs\\PR-PORTS-1.log', 'D:\\é\\PR-PORTS-2.log  '];
  t.same(parseInputsFile(Buffer.from(text, 'utf8')), want);
  t.same(parseInputsFile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])), want);
  t.same(parseInputsFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])), want);
  const be = Buffer.from(text, 'utf16le').swap16();
  t.same(parseInputsFile(Buffer.concat([Buffer.from([0xfe, 0xff]), be])), want);
  t.same(parseInputsFile(Buffer.from('a\nb', 'utf8')), ['a', 'b']);
});

t.test('parse --inputs-file gives the records the same paths on the command line give, in order', async (t) => {
  const dir = tmpdir(t);
  const list = path.join(dir, 'inputs.txt');
  // UTF-16LE with BOM, as Windows PowerShell 5.1's Set-Content -Encoding Unicode writes it.
  fs.writeFileSync(list, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${ORIGINAL}\r\n${OURS}\r\n`, 'utf16le')]));
  const direct = await runCli(['parse', ORIGINAL, OURS, '--json'], { env: ENV });
  const listed = await runCli(['parse', '--inputs-file', list, '--json'], { env: ENV });
  t.equal(listed.code, 0, listed.stderr);
  t.equal(listed.stderr, '');
  t.ok(parseJsonl(direct.stdout).length > 0);
  t.equal(listed.stdout, direct.stdout);
  // Command-line inputs come first, then the file's.
  fs.writeFileSync(list, `${OURS}\n`);
  const both = await runCli(['parse', ORIGINAL, '--inputs-file', list, '--json'], { env: ENV });
  t.equal(both.stdout, direct.stdout);
});

t.test('stats --inputs-file counts what the command-line inputs count', async (t) => {
  const dir = tmpdir(t);
  const list = path.join(dir, 'inputs.txt');
  fs.writeFileSync(list, `\uFEFF${ORIGINAL}\n${OURS}\n`);
  const direct = await runCli(['stats', ORIGINAL, OURS, '--json'], { env: ENV });
  const listed = await runCli(['stats', '--inputs-file', list, '--json'], { env: ENV });
  t.equal(listed.code, 0, listed.stderr);
  t.equal(listed.stdout, direct.stdout);
});

t.test('errors: no input at all, a missing list, an empty list, a missing listed file: one line, documented code', async (t) => {
  const dir = tmpdir(t);
  const none = await runCli(['parse']);
  t.equal(none.code, 64);
  t.match(none.stderr, /no input/);
  t.equal(none.stdout, '');
  const missing = await runCli(['parse', '--inputs-file', path.join(dir, 'nope.txt')]);
  t.equal(missing.code, 66);
  t.match(missing.stderr, /nope\.txt/);
  const empty = path.join(dir, 'empty.txt');
  fs.writeFileSync(empty, '\r\n\r\n');
  const e = await runCli(['parse', '--inputs-file', empty]);
  t.equal(e.code, 64);
  t.match(e.stderr, /no path in --inputs-file/);
  const list = path.join(dir, 'list.txt');
  fs.writeFileSync(list, `${path.join(dir, 'gone.log')}\n`);
  const gone = await runCli(['parse', '--inputs-file', list]);
  t.equal(gone.code, 66);
  t.match(gone.stderr, /gone\.log/);
  for (const r of [none, missing, e, gone]) t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
