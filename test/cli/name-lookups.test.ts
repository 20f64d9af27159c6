/**
 * Issue 14, "Name lookups outlive their timeout" and "Terminal escapes in query text". Failed on the
 * old code: reverse lookups went through getnameinfo on libuv's thread pool, which cannot be cancelled
 * or pointed at another server, so a run against a DNS server that never answers stayed alive long
 * after its last record, and none of the names below were found; a name from the hosts file was
 * printed raw (escape sequences included) in query's text and its -l log.
 *
 * The resolver that never answers is a loopback UDP server (test/helpers/fake-dns.ts) given to the
 * command through PORTQRY_DNS_SERVERS; its hosts file through PORTQRY_HOSTS_FILE.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { createReverseResolver, parseHostsFile } from '../../src/dns/reverse';
import { BUNDLE, parseJsonl, ROOT } from '../helpers/cli';
import { startFakeDns } from '../helpers/fake-dns';
import { runInProcess } from '../helpers/in-process';

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'name-lookups-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the bundle; resolves with the exit code, stdout, and when stdout ended and the process exited (ms after start). */
function runTimed(args: string[], env: Record<string, string>, deadlineMs: number) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; outputEndedMs: number; exitedMs: number }>((resolve, reject) => {
    const started = Date.now();
    let outputEndedMs = -1;
    const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stdout.on('end', () => (outputEndedMs = Date.now() - started));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), outputEndedMs, exitedMs: Date.now() - started });
    });
  });
}

/** A PR-PORTS log with one connection to each of 64 loopback addresses 127.0.1.1–127.0.1.64. */
function writePortsLog(dir: string): string {
  const file = path.join(dir, 'PR-PORTS-26-12-4-8-0-0.log');
  const rows = Array.from({ length: 64 }, (_, i) => `26/12/4,8:0:${i % 60},TCP,50${String(i).padStart(3, '0')},127.0.0.1,443,127.0.1.${i + 1},100,client.exe,<HOST\\bob>`);
  fs.writeFileSync(
    file,
    ['Port Reporter Version 1.01 Log File - Port usage log', '', 'Check PR-PIDS-26-12-4-8-0-0.log for corresponding process data', '', 'Log format:', 'date,time,protocol,local port,local IP address,remote port,remote IP address,PID,module,user context', '', ...rows, ''].join('\r\n'),
  );
  return file;
}

t.test('parse --resolve against a DNS server that never answers: names from it, and the process ends with its output', async (t) => {
  const dir = tmpdir(t);
  const log = writePortsLog(dir);
  const hosts = path.join(dir, 'hosts');
  fs.writeFileSync(hosts, '127.0.1.2 from-hosts-file.test\n');
  const dns = await startFakeDns({ '127.0.1.1': 'one.test.invalid' });
  t.teardown(() => dns.close());
  // resolv.conf-style options that would make the system resolver wait 90 s per name (c-ares reads RES_OPTIONS too).
  const env = { TZ: 'UTC', PORTQRY_DNS_SERVERS: dns.server, PORTQRY_HOSTS_FILE: hosts, RES_OPTIONS: 'timeout:30 attempts:3' };
  const r = await runTimed(['parse', log, '--resolve', '--resolve-timeout', '200', '--json'], env, 30_000);
  t.equal(r.signal, null, 'not killed at the 30 s deadline');
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const records = parseJsonl(r.stdout);
  t.equal(records.length, 64);
  t.same(
    records.slice(0, 3).map((x) => x.RemoteHostName),
    ['one.test.invalid', 'from-hosts-file.test', null],
    'answered by the DNS server, by the hosts file, and silence: null',
  );
  t.ok(dns.queries >= 62, `the silent server was asked (${dns.queries} queries)`);
  // The bound: 64 names, 16 at a time, 200 ms each, is 0.8 s of waiting; exit follows the output at once
  // instead of waiting for abandoned lookups (the old code: 36 s after 4 s of output).
  t.ok(r.exitedMs - r.outputEndedMs < 2000, `exited ${r.exitedMs - r.outputEndedMs} ms after its output ended`);
});

t.test('query over 64 addresses with reverse lookups against a silent server ends with its last record', async (t) => {
  const dns = await startFakeDns({ '127.0.1.5': 'five.test.invalid' });
  t.teardown(() => dns.close());
  const dir = tmpdir(t);
  const hosts = path.join(dir, 'hosts');
  fs.writeFileSync(hosts, '');
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const r = await runTimed(['query', '-n', '127.0.1.0/26', '-e', String(port), '--json'], { PORTQRY_DNS_SERVERS: dns.server, PORTQRY_HOSTS_FILE: hosts }, 30_000);
  t.equal(r.signal, null, 'not killed at the 30 s deadline');
  t.equal(r.code, 1, 'every port NOT LISTENING');
  const records = parseJsonl(r.stdout);
  t.equal(records.length, 62, 'a /26 without network and broadcast addresses');
  t.equal(records.find((x) => x.RemoteAddress === '127.0.1.5')?.HostName, 'five.test.invalid', 'the name the DNS server gave');
  t.ok(r.exitedMs - r.outputEndedMs < 2000, `exited ${r.exitedMs - r.outputEndedMs} ms after its output ended`);
});

t.test('a reverse resolver that is closed cancels its pending lookups', async (t) => {
  const dns = await startFakeDns({});
  t.teardown(() => dns.close());
  const resolver = createReverseResolver({ timeoutMs: 60_000, servers: [dns.server], hostsFile: null, concurrency: 2 });
  const pending = ['127.0.2.1', '127.0.2.2', '127.0.2.3'].map((a) => resolver.reverse(a));
  await new Promise((r) => setTimeout(r, 100));
  resolver.close();
  t.same(await Promise.all(pending), [null, null, null], 'all answered null at once, the third never asked');
  t.equal(await resolver.reverse('127.0.2.4'), null);
});

t.test('hosts file parsing', async (t) => {
  const m = parseHostsFile('# c\n127.0.0.1 localhost loopback\n::1\tip6-localhost\nnot-an-address x\n10.0.0.1 first\n10.0.0.1 second\n');
  t.same([...m], [['127.0.0.1', 'localhost'], ['::1', 'ip6-localhost'], ['10.0.0.1', 'first']]);
});

t.test('a name with terminal escapes is stripped in query text and in the -l log', async (t) => {
  const dir = tmpdir(t);
  const hosts = path.join(dir, 'hosts');
  fs.writeFileSync(hosts, '127.0.0.1 evil\x1b]0;owned\x07\x1b[31mname.test\n');
  const logFile = path.join(dir, 'pq.log');
  const r = await runInProcess(['query', '-n', '127.0.0.1', '-e', '1', '--format', 'text', '-l', logFile], { env: { PORTQRY_HOSTS_FILE: hosts } });
  t.equal(r.code, 1);
  t.match(r.stdout, /IP address resolved to evil.*name\.test/, 'the name is shown');
  t.notMatch(r.stdout, /\x1b|\x07/, 'no escape reaches the terminal');
  const log = fs.readFileSync(logFile, 'utf8');
  t.match(log, /IP address resolved to evil.*name\.test/);
  t.notMatch(log, /\x1b|\x07/, 'nor the log');
});
