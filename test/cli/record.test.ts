import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT, runCli } from '../helpers/cli';
import { schemaErrors, schemaKeys } from '../helpers/schema';
import { readEvents, readLogSet } from '../helpers/recorder-logs';

// End to end on Linux with real sockets this test opens and closes, and the real /proc backend.
if (process.platform !== 'linux') {
  t.pass('Linux only');
  process.exit(0);
}

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function listen(host = '127.0.0.1'): Promise<net.Server> {
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, host);
  await new Promise((r) => server.once('listening', r));
  return server;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  return socket;
}

async function waitFor(what: string, test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Recorder {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startRecorder(args: string[]): Recorder {
  const child = spawn(process.execPath, [BUNDLE, 'record', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exit };
}

/** A tiny independent reader of PR-PORTS: the ten columns of every data row. */
function portsRows(dir: string): string[][] {
  return readLogSet(dir, 'PR-PORTS-')
    .split('\r\n')
    .filter((l) => /^\d\d\/\d{1,2}\/\d{1,2},/.test(l))
    .map((l) => l.split(','));
}

function assertWholeFiles(t: { ok(v: unknown, m: string): unknown }, dir: string): void {
  for (const f of fs.readdirSync(dir)) {
    const data = fs.readFileSync(path.join(dir, f), 'utf8');
    if (data === '') continue;
    if (f.endsWith('.jsonl')) {
      t.ok(data.endsWith('\n'), `${f} ends with a whole line`);
      for (const l of data.split('\n').filter(Boolean)) JSON.parse(l);
    } else if (f.startsWith('PR-PORTS-')) {
      t.ok(data.endsWith('\r\n'), `${f} ends with a whole line`);
    } else {
      t.ok(data.endsWith('\r\n\r\n'), `${f} ends with a whole block`);
    }
  }
}

t.test('record --once: every endpoint with its owner, this process included, valid PortOwner records', async (t) => {
  const server = await listen();
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const r = await runCli(['record', '--once', '--json']);
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const records = parseJsonl(r.stdout);
  const mine = records.find((x) => x.LocalPort === port && x.Protocol === 'TCP');
  t.ok(mine, 'our listener is there');
  t.equal(mine!.OwningProcess, process.pid);
  t.equal(mine!.State, 'Listen');
  t.equal(mine!.LocalAddress, '127.0.0.1');
  t.equal(mine!.ProcessPath, fs.realpathSync(process.execPath));
  t.equal(mine!.ProcessStartTime !== null, true);
  t.ok((mine!.Modules as string[]).some((m) => /libc\.so/.test(m)), 'loaded modules listed');
  for (const rec of records) {
    t.same(schemaErrors('port-owner.schema.json', rec), [], `valid: ${rec.Protocol} ${rec.LocalPort}`);
    t.same(Object.keys(rec), schemaKeys('port-owner.schema.json'));
  }
  const csv = await runCli(['record', '--once', '--format', 'csv', '--no-modules']);
  t.equal(csv.code, 0);
  t.match(csv.stdout.split('\r\n')[0], /^ComputerName,Protocol,LocalAddress,LocalPort,RemoteAddress,RemotePort,State,OwningProcess,ProcessName/);
});

t.test('record: new and closed endpoints of real sockets, files in the documented format, SIGTERM closes cleanly', async (t) => {
  const dir = path.join(tmpDir(t), 'logs');
  const rec = startRecorder(['-ld', dir, '--interval', '200ms', '--jsonl']);
  t.teardown(() => rec.child.kill('SIGKILL'));
  await waitFor('initial events', () => readEvents(dir).length > 0);

  const server = await listen();
  const port = (server.address() as net.AddressInfo).port;
  const client = await connect(port);
  const clientPort = client.localPort!;
  await waitFor('opened events', () => readEvents(dir).some((e) => e.Event === 'Opened' && e.LocalPort === clientPort));
  client.destroy();
  await new Promise((r) => server.close(r));
  await waitFor('closed events', () => readEvents(dir).some((e) => e.Event === 'Closed' && e.LocalPort === port));

  rec.child.kill('SIGTERM');
  const { code, signal } = await rec.exit;
  t.equal(code, 0, 'SIGTERM: flushed, closed, exit 0');
  t.equal(signal, null);
  t.equal(rec.stderr(), '', 'nothing on stderr');

  const ev = readEvents(dir);
  for (const e of ev) t.same(schemaErrors('record-event.schema.json', e), [], `${e.Event} ${e.Protocol} ${e.LocalPort}`);
  const opened = ev.filter((e) => e.Event === 'Opened' && e.OwningProcess === process.pid);
  t.ok(opened.some((e) => e.LocalPort === port && e.State === 'Listen' && e.RemotePort === null), 'listener opened');
  t.ok(opened.some((e) => e.LocalPort === clientPort && e.RemotePort === port && e.State === 'Established'), 'client connection opened');
  const closed = ev.find((e) => e.Event === 'Closed' && e.LocalPort === port && e.RemotePort === null && e.OwningProcess === process.pid)!;
  t.ok(closed, 'listener closed');
  t.ok((closed.LifetimeSeconds as number) > 0, 'with a lifetime');
  t.equal(ev.filter((e) => e.Event === 'Opened' && e.LocalPort === port && e.RemotePort === null && e.OwningProcess === process.pid).length, 1, 'opened once');

  const rows = portsRows(dir);
  const listenRow = rows.find((r) => r[2] === 'TCP' && r[3] === String(port) && r[5] === '');
  t.ok(listenRow, 'PR-PORTS row of the listener');
  t.equal(listenRow!.length, 10);
  t.equal(listenRow![4], '127.0.0.1');
  t.equal(listenRow![6], '0.0.0.0');
  t.equal(listenRow![7], String(process.pid));
  t.equal(listenRow![8], 'node');
  t.match(listenRow![9], /^<[^\\]+\\[^>]+>$/, '<HOST\\user>');
  const connRow = rows.find((r) => r[3] === String(clientPort));
  t.same(connRow?.slice(5, 7), [String(port), '127.0.0.1']);

  const pids = readLogSet(dir, 'PR-PIDS-');
  t.match(pids, /^Port Reporter Version 1\.01 Log File\r\n\r\nProcess detail log\r\n\r\nSystem Date: \w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4}\r\n/);
  t.equal(pids.match(new RegExp(`^Process ID: ${process.pid}\\r$`, 'gm'))?.length, 1, 'our process once in PR-PIDS');
  const block = pids.split('='.repeat(64)).find((b) => b.includes(`Process ID: ${process.pid}\r\n`))!;
  t.match(block, /Image name: node\r\n/);
  t.match(block, new RegExp(`Ports: .*TCP ${port} 127\\.0\\.0\\.1 LISTENING`));
  const modules = /Modules \((\d+)\):\r\n((?: .*\r\n)*)/.exec(block)!;
  t.equal(modules[2]!.split('\r\n').filter(Boolean).length, Number(modules[1]), 'Modules (N) followed by N lines');
  t.ok(fs.readdirSync(dir).some((f) => /^PR-INITIAL-\d\d-\d\d-\d{1,2}-\d{1,2}-\d{1,2}-\d{1,2}\.log$/.test(f)));
  t.equal(fs.statSync(dir).mode & 0o777, 0o700, 'log directory 0700');
  assertWholeFiles(t, dir);

  // The same files through `portqry-ts parse` (helper parse's reader): PORTS rows joined with their PIDS blocks.
  const portsFile = fs.readdirSync(dir).find((f) => f.startsWith('PR-PORTS-'))!;
  const parsed = await runCli(['parse', path.join(dir, portsFile), path.join(dir, portsFile.replace('PR-PORTS-', 'PR-PIDS-')), '--json', '--port', String(port)]);
  t.equal(parsed.code, 0, parsed.stderr);
  t.equal(parsed.stderr, '');
  const listener = parseJsonl(parsed.stdout).find((r) => r.LocalPort === port && r.RemotePort === null && r.Protocol === 'TCP');
  t.ok(listener, 'parse reads our PR-PORTS row');
  t.equal(listener?.OwningProcess, process.pid);
  t.equal(listener?.ProcessName, 'node');
  t.equal(listener?.ProcessPath, fs.realpathSync(process.execPath), 'joined with its PR-PIDS block');
  const jsonl = await runCli(['parse', dir, '--json', '--port', String(port)]);
  t.equal(jsonl.code, 0, jsonl.stderr);
  const kinds = new Set(parseJsonl(jsonl.stdout).map((r) => r.Event));
  t.ok(kinds.has('Opened') && kinds.has('Closed'), `parse reads the folder, events included (${[...kinds].join(', ')})`);
});

t.test('kill -9 at any moment leaves whole records; a torn record is repaired at the next start', async (t) => {
  const dir = path.join(tmpDir(t), 'logs');
  const rec = startRecorder(['-ld', dir, '--interval', '100ms', '--jsonl', '--rotate', 'size', '-ls', '8']);
  t.teardown(() => rec.child.kill('SIGKILL'));
  await waitFor('initial events', () => readEvents(dir).length > 0);
  // Churn: sockets opening and closing so that the recorder writes all the time, then kill -9.
  const servers: net.Server[] = [];
  for (let i = 0; i < 30; i++) {
    servers.push(await listen());
    if (i % 3 === 2) await new Promise((r) => servers.shift()!.close(r));
    await new Promise((r) => setTimeout(r, 15));
  }
  rec.child.kill('SIGKILL');
  await rec.exit;
  assertWholeFiles(t, dir);
  t.ok(fs.readdirSync(dir).filter((f) => f.startsWith('PR-PORTS-')).length >= 2, 'size rotation happened during the churn');

  // What a power cut could leave: a torn last record in each file of the newest set.
  const newest = fs.readdirSync(dir).filter((f) => f.startsWith('PR-')).sort((a, b) => fs.statSync(path.join(dir, b)).mtimeMs - fs.statSync(path.join(dir, a)).mtimeMs)[0]!;
  const suffix = /^PR-[A-Z]+-(.+)\.(?:log|jsonl)$/.exec(newest)![1]!;
  fs.appendFileSync(path.join(dir, `PR-PORTS-${suffix}.log`), '26/1/1,1:1:1,TCP,4');
  fs.appendFileSync(path.join(dir, `PR-EVENTS-${suffix}.jsonl`), '{"TimeUtc":"20');
  const again = startRecorder(['-ld', dir, '--interval', '100ms', '--jsonl', '--rotate', 'size', '-ls', '8', '--duration', '500ms']);
  const { code } = await again.exit;
  for (const s of servers) s.close();
  t.equal(code, 0);
  t.match(again.stderr(), /repaired PR-PORTS-.*partial last record/);
  t.match(again.stderr(), /repaired PR-EVENTS-/);
  assertWholeFiles(t, dir);
});

t.test('SIGINT flushes and closes too', async (t) => {
  const dir = path.join(tmpDir(t), 'logs');
  const rec = startRecorder(['-ld', dir, '--interval', '100ms', '--jsonl']);
  t.teardown(() => rec.child.kill('SIGKILL'));
  await waitFor('initial events', () => readEvents(dir).length > 0);
  rec.child.kill('SIGINT');
  const { code } = await rec.exit;
  t.equal(code, 0);
  t.equal(rec.stderr(), '');
  assertWholeFiles(t, dir);
});

t.test('full disk: reported once, records held, recording resumes when space returns', async (t) => {
  const mnt = tmpDir(t);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'rec-tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    t.pass('skipped: cannot mount a tmpfs here (needs root)');
    return;
  }
  t.teardown(() => execFileSync('umount', ['-l', mnt], { stdio: 'ignore' }));
  const dir = path.join(mnt, 'logs');
  fs.mkdirSync(dir, { mode: 0o700 });
  const filler = path.join(mnt, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch {
    // full
  }
  fs.closeSync(fd);
  // Polling only: the machine's short-lived sockets (destroy events) would fill the 512 KB disk again.
  const rec = startRecorder(['-ld', dir, '--interval', '100ms', '--jsonl', '--no-modules', '--no-destroy-events']);
  t.teardown(() => rec.child.kill('SIGKILL'));
  await waitFor('the disk-full report', () => /no space left on device/.test(rec.stderr()));
  const server = await listen();
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => setTimeout(r, 400));
  fs.rmSync(filler);
  await waitFor('the held records written', () => readEvents(dir).some((e) => e.Event === 'Opened' && e.LocalPort === port));
  await waitFor('the recovery report', () => /writing again/.test(rec.stderr()));
  server.close();
  rec.child.kill('SIGTERM');
  const { code } = await rec.exit;
  t.equal(code, 0);
  t.equal(rec.stderr().match(/no space left on device/g)?.length, 1, 'reported once');
  t.match(rec.stderr(), /write\(s\) had failed, 0 record\(s\) dropped/);
  t.ok(readEvents(dir).some((e) => e.Event === 'Initial'), 'initial events held and written');
  t.ok(portsRows(dir).some((r) => r[3] === String(port)), 'PR-PORTS row of the socket opened while the disk was full');
  assertWholeFiles(t, dir);
});

t.test('record --install --dry-run prints the steps; --unit-dir writes the unit and runs systemctl', async (t) => {
  const dry = await runCli(['record', '--install', '--dry-run', '-ld', '/var/log/portqry-ts', '--jsonl', '--format', 'text']);
  t.equal(dry.code, 0);
  t.equal(dry.stderr, '');
  t.match(dry.stdout, /^would write: \/etc\/systemd\/system\/portqry-ts-record\.service\nwould run: systemctl daemon-reload\nwould run: systemctl enable --now portqry-ts-record\.service\n$/);
  const dryJson = await runCli(['record', '--install', '--dry-run', '--json']);
  for (const rec of parseJsonl(dryJson.stdout)) t.same(schemaErrors('install-action.schema.json', rec), []);

  // A stand-in systemctl on PATH records its arguments: the real one cannot run in this container.
  const dir = tmpDir(t);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const calls = path.join(dir, 'calls.txt');
  fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$@" >> '${calls}'\n`, { mode: 0o755 });
  const unitDir = path.join(dir, 'units');
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const inst = await runCli(['record', '--install', '--unit-dir', unitDir, '-ld', '/var/log/pq logs', '-ls', '2000', '--jsonl', '--json'], { env });
  t.equal(inst.code, 0, inst.stderr);
  const unit = fs.readFileSync(path.join(unitDir, 'portqry-ts-record.service'), 'utf8');
  t.match(unit, new RegExp(`^ExecStart=${process.execPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\S+main\\.cjs record --log-dir "/var/log/pq logs" --log-size 2000 --rotate start,size --interval 1s --jsonl$`, 'm'));
  t.equal(fs.readFileSync(calls, 'utf8'), 'daemon-reload\nenable --now portqry-ts-record.service\n');
  t.same(parseJsonl(inst.stdout).map((r) => r.Succeeded), [true, true, true]);
  const un = await runCli(['record', '--uninstall', '--unit-dir', unitDir, '--format', 'text'], { env });
  t.equal(un.code, 0);
  t.notOk(fs.existsSync(path.join(unitDir, 'portqry-ts-record.service')));
  t.match(fs.readFileSync(calls, 'utf8'), /disable --now portqry-ts-record\.service\ndaemon-reload\n$/);
  t.match(un.stdout, /^ran: systemctl disable --now portqry-ts-record\.service\nremoved: /);
});

t.test("a log directory that cannot be used: '' is a usage error (64), a file or an uncreatable path an I/O error, one line, never exit 0", async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'not a directory');
  const empty = await runCli(['record', '--log-dir', '', '--duration', '1s', '--no-modules'], { cwd: dir });
  t.equal(empty.code, 64, "--log-dir ''");
  t.match(empty.stderr, /^portqry-ts: .*--log-dir.*empty/);
  t.same(fs.readdirSync(dir), ['a-file'], 'nothing written into the working directory');
  for (const [what, ld, code, message] of [
    ['a file', file, 73, /not a directory/],
    ['below a file', path.join(file, 'sub'), 73, /not a directory/],
    ['under /proc', '/proc/portqry-ts-nope/logs', 73, /cannot create/],
  ] as const) {
    const r = await runCli(['record', '--log-dir', ld, '--duration', '1s', '--no-modules'], { timeoutMs: 15_000 });
    t.equal(r.code, code, `${what}: exit ${code}`);
    t.match(r.stderr, message, `${what}: says why`);
    t.ok(r.stderr.includes(ld.startsWith(file) ? file : '/proc/portqry-ts-nope'), `${what}: names the path`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
    t.notMatch(r.stderr, /writing again|internal error/, `${what}: no false recovery, no "internal error"`);
  }
  t.equal(fs.readFileSync(file, 'utf8'), 'not a directory');
});

t.test('--keep and --max-total end to end: bad values are usage errors; three runs with --keep 2 leave the two newest sets', async (t) => {
  for (const args of [['--keep', '0'], ['--keep', 'x'], ['--max-total', '12 parsecs'], ['--max-total', '']]) {
    const r = await runCli(['record', ...args, '--duration', '1s']);
    t.equal(r.code, 64, args.join(' '));
    t.match(r.stderr, new RegExp(`^portqry-ts: invalid ${args[0]} `));
  }
  const dir = path.join(tmpDir(t), 'logs');
  const sets: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await runCli(['record', '-ld', dir, '--duration', '200ms', '--no-modules', '--keep', '2', '--max-total', '500MB', '--format', 'text']);
    t.equal(r.code, 0, r.stderr);
    sets.push(/Sets: (\S+)/.exec(r.stdout)?.[1] ?? '');
    await new Promise((r) => setTimeout(r, 1100)); // suffixes are per second
  }
  const left = [...new Set(fs.readdirSync(dir).map((f) => /^PR-[A-Z]+-(.+)\.(?:log|jsonl)$/.exec(f)?.[1]))].sort();
  t.same(left, sets.slice(1).sort(), `kept ${left.join(', ')} of ${sets.join(', ')}`);
});
