/**
 * Issue 14, "Write errors are lost or crash" and "--out-file destroys data". Failed on the old code:
 * stdout to /dev/full printed a Node stack trace and exited 1 (for query, 1 means NOT LISTENING);
 * --out-file /dev/full exited without a message; --out-file truncated an existing file before the inputs
 * were checked, replaced existing files without asking, followed symlinks, and parse read its own
 * output file back as input.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, ROOT, runCli } from '../helpers/cli';
import { runInProcess } from '../helpers/in-process';

const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');
const OURS = path.join(FIX, 'ours', 'SRV01');

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'write-errors-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Runs the bundle with stdout on /dev/full (a device whose every write fails with ENOSPC). */
function runToDevFull(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const fd = fs.openSync('/dev/full', 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    fs.closeSync(fd);
    const err: Buffer[] = [];
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const haveDevFull = fs.existsSync('/dev/full');

t.test('stdout on a full device: one line, exit 74, no stack trace, on every command', { skip: haveDevFull ? false : '/dev/full is missing' }, async (t) => {
  const port = await closedPort();
  const commands: [string, string[]][] = [
    ['query (NOT LISTENING must not show as exit 1)', ['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '--json']],
    ['query --preset list', ['query', '--preset', 'list', '--json']],
    ['parse', ['parse', OURS, '--json']],
    ['stats', ['stats', OURS, '--json']],
    ['query -local', ['query', '-local', '--no-modules', '--json']],
    ['record --once', ['record', '--once', '--no-modules', '--json']],
  ];
  for (const [name, args] of commands) {
    const r = await runToDevFull(args);
    t.equal(r.code, 74, `${name}: exit 74`);
    t.match(r.stderr, /^portqry-ts: cannot write to standard output: no space left on device\n$/, `${name}: one line naming the failure`);
  }
});

t.test('--out-file on a full device: one line, exit 74', { skip: haveDevFull ? false : '/dev/full is missing' }, async (t) => {
  const port = await closedPort();
  for (const args of [
    ['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '--json', '--out-file', '/dev/full'],
    ['parse', OURS, '--out-file', '/dev/full'],
    ['stats', OURS, '--format', 'csv', '--statistic', 'computer', '--out-file', '/dev/full'],
  ]) {
    const r = await runCli(args, { env: { TZ: 'UTC' } });
    t.equal(r.code, 74, `${args[0]}: exit 74`);
    t.match(r.stderr, /^portqry-ts: cannot write \/dev\/full: no space left on device\n$/, `${args[0]}: one line`);
    t.equal(r.stdout, '');
  }
});

t.test('query -l on a full device: exit 74 (was 70, an internal error)', { skip: haveDevFull ? false : '/dev/full is missing' }, async (t) => {
  const port = await closedPort();
  const r = await runInProcess(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '-q', '-l', '/dev/full', '-y']);
  t.equal(r.code, 74);
  t.equal(r.stderr, 'portqry-ts: cannot write /dev/full: no space left on device\n');
});

t.test('query -l -y: a run that fails (stdout on a full device) leaves the existing log as it was', { skip: haveDevFull ? false : '/dev/full is missing' }, async (t) => {
  // Failed on the old code: the log was truncated when the run started and a partial log left in its place.
  const dir = tmpdir(t);
  const log = path.join(dir, 'pq.log');
  fs.writeFileSync(log, 'last week\r\n');
  const port = await closedPort();
  for (const args of [
    ['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '-l', log, '-y', '--json', '--out-file', '/dev/full'],
    ['query', '-local', '--no-modules', '-l', log, '-y', '--json', '--out-file', '/dev/full'],
  ]) {
    const r = await runCli(args, { env: { TZ: 'UTC' } });
    t.equal(r.code, 74, `${args[1]}: exit 74`);
    t.equal(fs.readFileSync(log, 'utf8'), 'last week\r\n', `${args[1]}: the old log is untouched`);
    t.same(fs.readdirSync(dir), ['pq.log'], `${args[1]}: no temporary file left behind`);
  }
  const fresh = path.join(dir, 'new.log');
  const failedNew = await runCli(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '-l', fresh, '--json', '--out-file', '/dev/full'], { env: { TZ: 'UTC' } });
  t.equal(failedNew.code, 74);
  t.match(fs.readFileSync(fresh, 'utf8'), /^PortQry Version 2\.0 Log File\r\n[^]*NOT LISTENING\r\n/, 'a new log is written as the run goes (PortQry: a watch can be followed); a failed run keeps what it wrote');
  fs.rmSync(fresh);
  const ok = await runCli(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '-l', log, '-y', '--json'], { env: { TZ: 'UTC' } });
  t.equal(ok.code, 1, 'NOT LISTENING');
  t.match(fs.readFileSync(log, 'utf8'), /^PortQry Version 2\.0 Log File\r\n[^]*NOT LISTENING[^]*========= end of log file =========\r\n$/, 'a run that completes replaces it');
  t.same(fs.readdirSync(dir), ['pq.log']);
});

t.test('query -l: a symbolic link is not followed, with or without -y', async (t) => {
  // Failed on the old code: -y wrote the log through the link into its target.
  const dir = tmpdir(t);
  const target = path.join(dir, 'target.txt');
  fs.writeFileSync(target, 'precious\n');
  const link = path.join(dir, 'pq.log');
  fs.symlinkSync(target, link);
  for (const extra of [[], ['-y']]) {
    const r = await runInProcess(['query', '-n', '127.0.0.1', '-e', '1', '-nr', '-l', link, '--json', ...extra]);
    t.equal(r.code, 73, `${extra.join(' ') || 'no -y'}: exit 73`);
    t.equal(r.stderr, `portqry-ts: log file '${link}' is a symbolic link; not followed\n`);
    t.equal(r.stdout, '', 'nothing queried');
  }
  t.equal(fs.readFileSync(target, 'utf8'), 'precious\n');
  t.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is left as it was');
});

t.test('in process: a stdout that fails with EIO gives 74, not a verdict', async (t) => {
  const port = await closedPort();
  const r = await runInProcess(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '--json'], { stdoutError: 'EIO' });
  t.equal(r.code, 74);
  t.match(r.stderr, /^portqry-ts: cannot write to standard output: .*EIO.*\n$/);
});

t.test('a failed run leaves an existing --out-file as it was', async (t) => {
  const dir = tmpdir(t);
  const out = path.join(dir, 'existing.txt');
  fs.writeFileSync(out, 'keep me\n');
  const r = await runInProcess(['parse', path.join(dir, 'missing.log'), '--out-file', out, '--force']);
  t.equal(r.code, 66);
  t.match(r.stderr, /missing\.log/);
  t.equal(fs.readFileSync(out, 'utf8'), 'keep me\n');
  t.same(fs.readdirSync(dir), ['existing.txt'], 'no temporary file left behind');
});

t.test('an existing --out-file is replaced only with -y/--force', async (t) => {
  const dir = tmpdir(t);
  const out = path.join(dir, 'report.jsonl');
  fs.writeFileSync(out, 'keep me\n');
  const refused = await runInProcess(['parse', OURS, '--out-file', out], { env: { TZ: 'UTC' } });
  t.equal(refused.code, 73);
  t.match(refused.stderr, /^portqry-ts: --out-file .*report\.jsonl exists; add -y or --force to replace it\n$/);
  t.equal(fs.readFileSync(out, 'utf8'), 'keep me\n');
  for (const flag of ['--force', '-y']) {
    const replaced = await runInProcess(['parse', OURS, '--out-file', out, flag], { env: { TZ: 'UTC' } });
    t.equal(replaced.code, 0, `${flag}: exit 0`);
    t.equal(replaced.stderr, '');
    t.equal(fs.readFileSync(out, 'utf8').split('\n').length - 1, 11, `${flag}: 11 records written`);
  }
  t.same(fs.readdirSync(dir), ['report.jsonl'], 'no temporary file left behind');
});

t.test('a symlink as --out-file is not followed', async (t) => {
  const dir = tmpdir(t);
  const target = path.join(dir, 'target.txt');
  fs.writeFileSync(target, 'precious\n');
  const link = path.join(dir, 'out.jsonl');
  fs.symlinkSync(target, link);
  const r = await runInProcess(['parse', OURS, '--out-file', link, '--force'], { env: { TZ: 'UTC' } });
  t.equal(r.code, 73);
  t.match(r.stderr, /^portqry-ts: --out-file .*out\.jsonl is a symbolic link; not followed\n$/);
  t.equal(fs.readFileSync(target, 'utf8'), 'precious\n');
  t.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is left as it was');
});

t.test('an --out-file inside an input folder is never read back as input', async (t) => {
  const dir = tmpdir(t);
  fs.cpSync(OURS, path.join(dir, 'SRV01'), { recursive: true });
  const counts: number[] = [];
  for (const format of ['csv', 'jsonl']) {
    const out = path.join(dir, `out.${format}`);
    for (let run = 0; run < 2; run++) {
      const r = await runInProcess(['parse', dir, '--format', format, '--out-file', out, '--force'], { env: { TZ: 'UTC' } });
      t.equal(r.code, 0, `${format} run ${run + 1}: exit 0`);
      counts.push(fs.readFileSync(out, 'utf8').trimEnd().split('\n').length);
    }
  }
  t.same(counts, [12, 12, 11, 11], 'the same rows on the second run (CSV: header + 11)');
  const named = await runInProcess(['parse', path.join(dir, 'out.jsonl'), '--out-file', path.join(dir, 'out.jsonl'), '--force']);
  t.equal(named.code, 64);
  t.match(named.stderr, /out\.jsonl is both an input and the output file/);
});
