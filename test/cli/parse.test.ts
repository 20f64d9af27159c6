import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT } from '../helpers/cli';
// In-process (runCli with test IOStreams): the executables are proven by standalone.test.ts and Wine.
import { runInProcess as runCli } from '../helpers/in-process';
import { schemaErrors, schemaKeys } from '../helpers/schema';

const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');
const OURS = path.join(FIX, 'ours', 'SRV01', 'PR-PORTS-26-11-25-22-34-17.log');
const ORIGINAL = path.join(FIX, 'original', 'TEST', 'PR-PORTS-05-07-6-13-44-4.log');
const CRITERIA = path.join(FIX, 'criteria', 'criteria.json');
const ENV = { TZ: 'UTC' };

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parse-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('parse a folder: JSONL valid against the schema, keys in order, nothing on stderr', async (t) => {
  const r = await runCli(['parse', FIX], { env: ENV });
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const records = parseJsonl(r.stdout);
  t.equal(records.length, 20);
  for (const rec of records) {
    t.same(schemaErrors('port-reporter-record.schema.json', rec), []);
    t.same(Object.keys(rec), schemaKeys('port-reporter-record.schema.json'));
  }
});

t.test('the criteria fixture is valid against its schema', async (t) => {
  t.same(schemaErrors('criteria.schema.json', JSON.parse(fs.readFileSync(CRITERIA, 'utf8'))), []);
});

t.test('a file that is not a Port Reporter log is one line naming it, exit 65', async (t) => {
  const r = await runCli(['parse', path.join(ROOT, 'package.json')]);
  t.equal(r.code, 65);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^portqry-ts: not a Port Reporter log: .*package\.json\n$/);
});

t.test('a missing input exits 66; bad option values exit 64 naming them', async (t) => {
  const r = await runCli(['parse', path.join(FIX, 'nope.log')]);
  t.equal(r.code, 66);
  t.match(r.stderr, /nope\.log/);
  for (const [args, word] of [
    [['--port', 'http'], 'http'],
    [['--utc-offset', '+25:00'], '+25:00'],
    [['--flagged-only'], '--criteria'],
    [['--resolve-timeout', '0'], '--resolve-timeout'],
  ] as const) {
    const bad = await runCli(['parse', OURS, ...args]);
    t.equal(bad.code, 64, args.join(' '));
    t.match(bad.stderr, word);
    t.equal(bad.stdout, '');
  }
  const badCriteria = await runCli(['parse', OURS, '--criteria', path.join(ROOT, 'package.json')]);
  t.equal(badCriteria.code, 65);
  t.match(badCriteria.stderr, /criteria file .*package\.json: unknown key/);
});

t.test('skipped lines: named on stderr with a summary, exit 0; --quiet silences; --strict exits 65', async (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, 'PR-PORTS-bad.log');
  const rows = Array.from({ length: 14 }, (_, i) => `05/7/6,13:44:${i},TCP,${i === 3 ? 'x' : 445},0.0.0.0,,0.0.0.0,4,System,<NT AUTHORITY\\SYSTEM>`);
  fs.writeFileSync(file, `${fs.readFileSync(ORIGINAL, 'utf8').split('05/7/6')[0]}${rows.join('\r\n')}\r\nnonsense\r\n${'bad\r\n'.repeat(11)}`);
  const r = await runCli(['parse', file, '--computer', 'X'], { env: ENV });
  t.equal(r.code, 0);
  t.equal(parseJsonl(r.stdout).length, 13);
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.length, 11);
  t.equal(lines[0], `portqry-ts: warning: ${file}:11: skipped: bad local port 'x'`);
  t.equal(lines[1], `portqry-ts: warning: ${file}:22: skipped: expected 10 comma-separated fields, found 1`);
  t.equal(lines[10], 'portqry-ts: warning: skipped 13 unreadable lines in 1 file (3 not shown); --strict makes this an error, --quiet hides it');
  const quiet = await runCli(['parse', file, '--computer', 'X', '-q'], { env: ENV });
  t.equal(quiet.code, 0);
  t.equal(quiet.stderr, '');
  const strict = await runCli(['parse', file, '--strict', '--computer', 'X'], { env: ENV });
  t.equal(strict.code, 65);
  t.equal(strict.stderr, `portqry-ts: ${file}:11: bad local port 'x'\n`);
});

t.test('criteria: Flagged and FlagReasons, --flagged-only, --fail-on-flag exits 3', async (t) => {
  const r = await runCli(['parse', OURS, '--criteria', CRITERIA], { env: ENV });
  t.equal(r.code, 0);
  const recs = parseJsonl(r.stdout);
  t.same(recs.map((x) => x.Flagged), [false, false, true, true, false, false, false]);
  t.same(recs[3]!.FlagReasons, [
    'port 4444',
    'module C:\\Users\\bob\\AppData\\Local\\Temp\\payload.dll',
    'user CONTOSO\\bob',
    'address 198.51.100.9 in 198.51.100.0/24',
    'svchost.exe runs from an unexpected folder C:\\Users\\bob\\AppData\\Local\\Temp\\svchost.exe (expected %SystemRoot%\\System32 or %SystemRoot%\\SysWOW64)',
  ]);
  const only = await runCli(['parse', OURS, '--criteria', CRITERIA, '--flagged-only', '--fail-on-flag'], { env: ENV });
  t.equal(only.code, 3);
  t.equal(only.stderr, '');
  t.same(parseJsonl(only.stdout).map((x) => x.SourceLine), [10, 11]);
  const none = await runCli(['parse', ORIGINAL, '--criteria', CRITERIA, '--fail-on-flag'], { env: ENV });
  t.equal(none.code, 0);
});

t.test('table and text show flagged rows in red on request, no escape codes otherwise', async (t) => {
  const coloured = await runCli(['parse', OURS, '--criteria', CRITERIA, '--format', 'table', '--color'], { env: ENV });
  const rows = coloured.stdout.split('\n').filter((l) => /\d{4}-\d{2}-\d{2}/.test(l));
  t.equal(rows.length, 7);
  t.same(rows.map((l) => l.includes('\x1b[31m')), [false, false, true, true, false, false, false]);
  const plain = await runCli(['parse', OURS, '--criteria', CRITERIA, '--format', 'text'], { env: ENV });
  t.notMatch(plain.stdout, /\x1b/);
  t.equal(plain.code, 0);
  t.equal(coloured.code, 0);
  t.match(plain.stdout, /^2026-11-25 23:01:00 SRV01 TCP 10\.0\.0\.5:49713 198\.51\.100\.9:4444 Established 4410 C:\\Users\\bob\\AppData\\Local\\Temp\\svchost\.exe <CONTOSO\\bob> FLAGGED: port 4444; /m);
  const text = await runCli(['parse', OURS, '--criteria', CRITERIA, '--format', 'text', '--color'], { env: ENV });
  t.match(text.stdout, /\x1b\[31m\x1b\[1m2026-11-25 22:40:02/);
});

t.test('--resolve fills RemoteHostName from the hosts file (loopback only)', async (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, 'PR-PORTS-loop.log');
  fs.writeFileSync(file, `${fs.readFileSync(ORIGINAL, 'utf8').split('05/7/6')[0]}05/7/6,13:44:5,TCP,50000,127.0.0.1,22,127.0.0.1,4,ssh.exe,<TEST\\alice>\r\n05/7/6,13:44:6,TCP,22,0.0.0.0,,0.0.0.0,4,sshd.exe,<TEST\\alice>\r\n`);
  const r = await runCli(['parse', file, '--resolve'], { env: ENV });
  t.equal(r.code, 0);
  t.same(parseJsonl(r.stdout).map((x) => x.RemoteHostName), ['localhost', null]);
  const host = await runCli(['parse', file, '--host', 'local*'], { env: ENV });
  t.same(parseJsonl(host.stdout).map((x) => x.SourceLine), [8]);
  // Host-name criteria turn resolution on by themselves.
  const criteria = path.join(dir, 'names.json');
  fs.writeFileSync(criteria, JSON.stringify({ HostNames: ['localhost'] }));
  const flagged = await runCli(['parse', file, '--criteria', criteria], { env: ENV });
  t.same(parseJsonl(flagged.stdout).map((x) => x.FlagReasons), [['host localhost'], []]);
});

t.test('stdin with -, and --computer', async (t) => {
  const r = await runCli(['parse', '-', '--computer', 'SRV9', '--format', 'jsonl'], { env: ENV, input: fs.readFileSync(ORIGINAL) });
  t.equal(r.code, 0);
  const recs = parseJsonl(r.stdout);
  t.equal(recs.length, 5);
  t.match(recs[0], { ComputerName: 'SRV9', SourceFile: '-' });
});

t.test('a generated 20 MB log streams in bounded memory', async (t) => {
  const dir = tmpdir(t);
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), dir, '20']);
  const file = path.join(dir, 'PR-PORTS-26-11-16-0-0-0.log');
  const rows = fs.readFileSync(file, 'latin1').split('\r\n').length - 8;
  const out = path.join(dir, 'out.jsonl');
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(ROOT, 'dist', 'main.cjs'), 'parse', file, '--out-file', out, '--json'], { encoding: 'utf8', env: { ...process.env, ...ENV } });
  t.equal(r.status, 0, r.stderr);
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  t.ok(rssKb < 200 * 1024, `peak RSS ${Math.round(rssKb / 1024)} MB`);
  let n = 0;
  const text = fs.readFileSync(out, 'utf8');
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  t.equal(n, rows);
});

const PWSH = [process.env.PWSH, path.join(os.homedir(), '.dotnet', 'tools', 'pwsh'), '/usr/bin/pwsh'].find((p) => p && fs.existsSync(p));

t.test('CSV for Excel, read back by PowerShell Import-Csv; JSONL by ConvertFrom-Json', { skip: PWSH || process.env.CI === 'true' ? false : 'pwsh not installed (.ci/run installs it)' }, async (t) => {
  const dir = tmpdir(t);
  const csv = path.join(dir, 'out.csv');
  const r = await runCli(['parse', OURS, '--criteria', CRITERIA, '--format', 'csv', '--out-file', csv], { env: ENV });
  t.equal(r.code, 0);
  const bytes = fs.readFileSync(csv);
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  t.match(bytes.toString('utf8'), /\r\n/);
  const ps = spawnSync(PWSH!, ['-NoProfile', '-NonInteractive', '-Command', `$r = Import-Csv -LiteralPath '${csv}'; $r.Count; $r[3].TimeLocal; $r[3].FlagReasons; $r[3].Flagged; $r[0].Services; ($r[0].psobject.Properties.Name -join ',')`], { encoding: 'utf8' });
  t.equal(ps.status, 0, ps.stderr);
  const out = ps.stdout.trim().split(/\r?\n/);
  t.equal(out[0], '7');
  t.equal(out[1], '2026-11-25 23:01:00', 'TimeLocal as an Excel date');
  t.match(out[2], /^port 4444; module /);
  t.equal(out[3], 'True');
  t.equal(out[4], 'RpcEptMapper; RpcSs');
  t.equal(out[5], schemaKeys('port-reporter-record.schema.json').join(','));
  const jsonl = path.join(dir, 'out.jsonl');
  await runCli(['parse', OURS, '--out-file', jsonl, '--json'], { env: ENV });
  const ps2 = spawnSync(PWSH!, ['-NoProfile', '-NonInteractive', '-Command', `$r = Get-Content -LiteralPath '${jsonl}' | ConvertFrom-Json; $r.Count; $r[0].Modules.Count; ($r | Where-Object LocalPort -eq 1433).Count`], { encoding: 'utf8' });
  t.same(ps2.stdout.trim().split(/\r?\n/), ['7', '3', '2']);
});

t.test('standard output redirected into an input folder is not read back (it grew for ever)', async (t) => {
  // `portqry-ts parse D:\logs > D:\logs\all.jsonl` (cmd.exe, sh): the output file is in the folder
  // being read. It used to be read as our own event log while being written, without end.
  const dir = tmpdir(t);
  fs.cpSync(path.join(FIX, 'ours', 'SRV01'), dir, { recursive: true });
  const expected = execFileSync(process.execPath, [BUNDLE, 'parse', dir, '--format', 'jsonl'], { env: { ...process.env, ...ENV } }).toString('utf8');
  t.ok(expected.length > 0);
  // Appended to (`>>`) after an earlier run: the earlier run's records are in the file being written.
  const out = path.join(dir, 'zz-all.jsonl');
  fs.writeFileSync(out, expected);
  const fd0 = fs.openSync(out, 'a');
  const r0 = spawnSync(process.execPath, [BUNDLE, 'parse', dir, '--format', 'jsonl'], { stdio: ['ignore', fd0, 'pipe'], env: { ...process.env, ...ENV }, timeout: 60_000 });
  fs.closeSync(fd0);
  t.equal(r0.status, 0, `exit 0 ${r0.signal ?? ''}`);
  t.equal(r0.stderr.toString(), '', 'nothing on stderr');
  t.ok(fs.readFileSync(out, 'utf8') === expected + expected, 'the records of the logs, once more (not those of the output)');
  fs.rmSync(out);
  // Named as an input, it is refused (exit 64), the file left as it was.
  const named = path.join(dir, 'PR-EVENTS-named.jsonl');
  fs.writeFileSync(named, '');
  const fd = fs.openSync(named, 'a');
  const r = spawnSync(process.execPath, [BUNDLE, 'parse', dir, named], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, ...ENV }, timeout: 60_000 });
  fs.closeSync(fd);
  t.equal(r.status, 64);
  t.match(r.stderr.toString(), /PR-EVENTS-named\.jsonl is both an input and the standard output/);
  t.equal(fs.readFileSync(named, 'utf8'), '');
});
