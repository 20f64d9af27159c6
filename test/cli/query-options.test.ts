import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl } from '../helpers/cli';
// Option tests run the CLI in-process (runCli with test IOStreams): the executables are proven by
// standalone.test.ts and the Wine tests.
import { runInProcess as runCli } from '../helpers/in-process';
import { schemaErrors } from '../helpers/schema';

// The command line as users type it, on loopback: PortQry spelling, -l/-y logs, -q, presets, errors.

async function listener(t: { teardown(fn: () => void): void }): Promise<number> {
  const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qcore-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('-l writes PortQry log layout; existing log needs -y; -q still logs', async (t) => {
  const port = await listener(t);
  const dir = tempDir(t);
  const log = path.join(dir, 'pq.log');
  const r = await runCli(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '-l', log, '--json']);
  t.equal(r.code, 0);
  t.equal(parseJsonl(r.stdout)[0]!.State, 'LISTENING', 'stdout keeps its format');
  const text = fs.readFileSync(log, 'utf8');
  t.ok(text.startsWith('PortQry Version 2.0 Log File\r\n\r\nSystem Date: '), 'header');
  t.match(text, /\r\nCommand run:\r\n portqry-ts query -n 127\.0\.0\.1 -e \d+ -nr -l \S+ --json\r\n/);
  t.match(text, /\r\nLocal computer name:\r\n\r\n \S+\r\n/);
  t.match(text, /Querying target system called:\r\n\r\n 127\.0\.0\.1\r\n/);
  t.match(text, new RegExp(`TCP port ${port} \\(.*\\): LISTENING\\r\\n\\r\\n\\r\\n========= end of log file =========\\r\\n$`));
  t.notMatch(text, /[^\r]\n/, 'CRLF only');

  const again = await runCli(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '-l', log]);
  t.equal(again.code, 73, 'never prompts: refuses to overwrite');
  t.match(again.stderr, /already exists.*-y/);
  t.equal(again.stdout, '');
  t.equal(fs.readFileSync(log, 'utf8'), text, 'old log untouched');

  const quiet = await runCli(['query', '-n', '127.0.0.1', '-e', '1', '-nr', '-l', log, '-q']);
  t.equal(quiet.code, 1);
  t.equal(quiet.stdout, '');
  t.match(fs.readFileSync(log, 'utf8'), /TCP port 1 \(.*\): NOT LISTENING/, '-q overwrites, as PortQry');

  const y = await runCli(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '-l', log, '-y', '--format', 'text']);
  t.equal(y.code, 0);
  t.match(fs.readFileSync(log, 'utf8'), /: LISTENING/);
});

t.test('text output: PortQry preamble and one status line per port, in order', async (t) => {
  const port = await listener(t);
  const r = await runCli(['query', '-n', '127.0.0.1', '-o', `1,${port}`, '-nr', '--format', 'text']);
  t.equal(r.code, 1, 'one NOT LISTENING, one LISTENING: 1');
  t.equal(
    r.stdout,
    ['Querying target system called:', '', ' 127.0.0.1', '', 'querying...', '', `TCP port 1 (tcpmux service): NOT LISTENING`, '', `TCP port ${port} (${r.stdout.match(/TCP port \d+ \((.*)\): LISTENING/)![1]}): LISTENING`, '', ''].join('\n'),
  );
  const named = await runCli(['query', '-n', 'localhost', '-e', String(port), '--format', 'text']);
  t.match(named.stdout, /Attempting to resolve name to IP address\.\.\.\n\nName resolved to (127\.0\.0\.1|::1)\n\nquerying\.\.\./);
});

t.test('--preset list is a record per preset; table and csv work for query', async (t) => {
  const r = await runCli(['query', '--preset', 'list', '--json']);
  t.equal(r.code, 0);
  const presets = parseJsonl(r.stdout);
  t.ok(presets.length >= 4);
  for (const p of presets) t.same(schemaErrors('query-preset.schema.json', p), []);
  t.ok(presets.some((p) => p.Name === 'ad'));
  const port = await listener(t);
  const csv = await runCli(['query', '-n', '127.0.0.1,localhost', '-e', String(port), '-nr', '--format', 'csv']);
  t.equal(csv.code, 0);
  t.equal(csv.stdout.trim().split('\r\n').length, 3, 'header and two rows');
});

t.test('usage errors name the bad value and exit 64', async (t) => {
  for (const [args, bad] of [
    [['-n', 'h', '-r', '445:21'], '445:21'],
    [['-n', 'h', '-o', '80,x'], 'x'],
    [['-n', 'h', '-p', 'icmp'], 'icmp'],
    [['-n', 'h', '--preset', 'nope'], 'nope'],
    [['-n', '10.0.0.0/7'], '10.0.0.0/7'],
    [['-n', 'h', '--concurrency', '0'], "'0'"],
    [['-n', 'h', '-cn', '!!'], '!!'],
  ] as const) {
    const r = await runCli(['query', ...args]);
    t.equal(r.code, 64, args.join(' '));
    t.equal(r.stdout, '');
    t.ok(r.stderr.includes(bad), `${r.stderr.trim()} names ${bad}`);
  }
  const missing = await runCli(['query', '--targets-file', '/nonexistent/qcore-targets']);
  t.equal(missing.code, 66);
});

t.test('-sp: queries leave from that source port; a port in use is a usage error', async (t) => {
  const port = await listener(t);
  const free = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const r = await runCli(['query', '-n', '127.0.0.1', '-o', `${port},1`, '-sp', String(free), '-nr', '--json']);
  const records = parseJsonl(r.stdout);
  t.equal(records[0]!.State, 'LISTENING');
  t.equal(records[0]!.LocalPort, free, 'connected from the -sp port');
  t.equal(r.code, 1);
  const busy = await runCli(['query', '-n', '127.0.0.1', '-e', '1', '-sp', String(port), '-nr', '--json']);
  t.equal(busy.code, 64, 'a listener holds the port');
  t.match(busy.stderr, new RegExp(`Cannot use specified source port ${port}`));
});
