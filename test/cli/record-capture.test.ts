import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT, runCli } from '../helpers/cli';
import { readEvents, readLogSet } from '../helpers/recorder-logs';
import { schemaErrors } from '../helpers/schema';

/**
 * The recorder end to end in a network namespace of its own: the test's socket actor (a python3
 * process, test/helpers/socket-actor.py) and the recorder are the only things with sockets there,
 * so every count below is exact and counted by hand.
 */
const skip =
  process.platform !== 'linux'
    ? 'Linux only'
    : process.getuid?.() !== 0
      ? 'needs root (ip netns)'
      : spawnSync('sh', ['-c', 'command -v ip && command -v python3'], { stdio: 'ignore' }).status !== 0
        ? 'needs ip and python3'
        : undefined;
if (skip) {
  if (process.env.CI === 'true') t.fail(`cannot run: ${skip}`);
  else t.pass(`skipped: ${skip}`);
  process.exit(0);
}

const ACTOR = path.join(ROOT, 'test', 'helpers', 'socket-actor.py');

interface Netns {
  name: string;
  destroy(): void;
}

export function createNetns(): Netns {
  const name = `reccap-${crypto.randomBytes(3).toString('hex')}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns add failed: ${r.stderr}`);
  spawnSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return { name, destroy: () => void spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' }) };
}

/** The socket actor inside the namespace: send() one command, get its answer's words. */
class Actor {
  readonly child: ChildProcess;
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor(ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', ACTOR], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      } else this.answers.push(line);
    });
  }

  async send(command: string): Promise<string[]> {
    this.child.stdin!.write(`${command}\n`);
    const line = this.answers.shift() ?? (await new Promise<string>((resolve) => (this.waiting = resolve)));
    const words = line.split(' ');
    if (words[0] !== 'ok') throw new Error(`socket actor: ${command}: ${line}`);
    return words.slice(1);
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

interface Recorder {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startRecorderIn(ns: string, args: string[]): Recorder {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BUNDLE, 'record', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exit };
}

async function waitFor(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-capture-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A use as a hand count names it: protocol, local port, remote port (or -), owner (pid or ?). */
function useKey(r: Record<string, unknown>): string {
  return `${r.Protocol} ${r.LocalPort} ${r.RemotePort ?? '-'} ${r.OwningProcess ?? '?'}`;
}

t.test('a real --jsonl recording: parse and stats count every port use once, PR-INITIAL lists the socket nobody owns', async (t) => {
  const ns = createNetns();
  t.teardown(() => ns.destroy());
  const actor = new Actor(ns.name);
  t.teardown(() => actor.stop());
  const [pid] = (await actor.send('pid')).map(Number);
  const dir = path.join(tmpDir(t), 'logs');

  // Open before the recorder starts: one listener, and one listener whose descriptor is in flight in a
  // UNIX socket (no process holds it: its owner cannot be read, like Port Reporter's System).
  const [, l1] = (await actor.send('listen tcp')).map(Number);
  const [hiddenId, hidden] = (await actor.send('listen tcp')).map(Number);
  await actor.send(`hide ${hiddenId}`);

  const rec = startRecorderIn(ns.name, ['-ld', dir, '--interval', '300ms', '--jsonl', '--no-modules']);
  t.teardown(() => rec.child.kill('SIGKILL'));
  await waitFor('initial events', () => readEvents(dir).length >= 2);

  // While it records: a listener, a connection to it (both ends ours), a UDP socket, and a connection
  // whose client closes first after the recorder saw it (its FIN_WAIT2 end then has no owner: the same
  // use, not a new one).
  const [, l2] = (await actor.send('listen tcp')).map(Number);
  const [, c1] = (await actor.send(`connect ${l2}`)).map(Number);
  const [, u1] = (await actor.send('listen udp')).map(Number);
  const [c2Id, c2] = (await actor.send(`connect ${l2}`)).map(Number);
  await waitFor('the opened events', () => readEvents(dir).filter((e) => e.Event === 'Opened').length >= 6);
  await actor.send(`close ${c2Id}`);
  // Several polls see the orphaned FIN_WAIT2 end.
  await new Promise((r) => setTimeout(r, 1200));
  rec.child.kill('SIGTERM');
  const { code } = await rec.exit;
  t.equal(code, 0, rec.stderr());

  const expected = [
    `TCP ${l1} - ${pid}`,
    `TCP ${hidden} - ?`,
    `TCP ${l2} - ${pid}`,
    `TCP ${c1} ${l2} ${pid}`,
    `TCP ${l2} ${c1} ${pid}`,
    `UDP ${u1} - ${pid}`,
    `TCP ${c2} ${l2} ${pid}`,
    `TCP ${l2} ${c2} ${pid}`,
  ].sort();

  for (const e of readEvents(dir)) t.same(schemaErrors('record-event.schema.json', e), [], `${e.Event} ${useKey(e)}`);

  // PR-INITIAL alone: both listeners open at start, the ownerless one included (empty Process ID).
  const initial = readLogSet(dir, 'PR-INITIAL-');
  t.match(initial, new RegExp(`Process ID: \\r\\n(?:.*\\r\\n)*?Ports: TCP ${hidden} 127\\.0\\.0\\.1 LISTENING\\r\\n`), 'the ownerless listener has a block');
  t.match(initial, new RegExp(`Process ID: ${pid}\\r\\n(?:.*\\r\\n)*?Ports: TCP ${l1} 127\\.0\\.0\\.1 LISTENING\\r\\n`));

  // The folder: PR-INITIAL, PR-PORTS, PR-PIDS and PR-EVENTS of one set; the event log wins.
  const parsed = await runCli(['parse', dir, '--json']);
  t.equal(parsed.code, 0, parsed.stderr);
  t.equal(parsed.stderr, '');
  const records = parseJsonl(parsed.stdout);
  const uses = records.filter((r) => r.Event !== 'Closed');
  t.same(uses.map(useKey).sort(), expected, 'every use once (parse of the folder)');
  t.ok(uses.every((r) => String(r.SourceFile).includes('PR-EVENTS-')), 'read from the event log of the set');
  const closed = records.filter((r) => r.Event === 'Closed').map(useKey);
  t.same(closed, [...new Set(closed)], 'no use closed twice');
  t.notOk(closed.includes(`TCP ${c2} ${l2} ${pid}`), 'the client end of the closed connection lingers (FIN_WAIT2): not closed yet');

  // Without the event log (a recording made without --jsonl reads the same): PR-INITIAL + PR-PORTS.
  const original = fs.readdirSync(dir).filter((f) => /^PR-(INITIAL|PORTS|PIDS)-/.test(f)).map((f) => path.join(dir, f));
  const parsedOriginal = await runCli(['parse', ...original, '--json']);
  t.equal(parsedOriginal.code, 0, parsedOriginal.stderr);
  t.same(parseJsonl(parsedOriginal.stdout).map(useKey).sort(), expected, 'every use once (PR-INITIAL + PR-PORTS)');

  // stats over the folder: 8 uses, 7 of them python3's (87.5 %), 1 of no known process (12.5 %).
  const stats = await runCli(['stats', dir, '--statistic', 'process-usage', '--json']);
  t.equal(stats.code, 0, stats.stderr);
  const usage = parseJsonl(stats.stdout);
  const python = usage.find((r) => r.ProcessName === 'python3');
  t.equal(python?.Records, 7, 'python3: 7 records');
  t.equal(python?.RecordPercent, 87.5);
  const unknown = usage.find((r) => r.ProcessName === null);
  t.equal(unknown?.Records, 1, 'the ownerless listener');
  t.equal(usage.reduce((n, r) => n + (r.Records as number), 0), 8, 'eight uses in all');
  const ports = await runCli(['stats', dir, '--statistic', 'local-tcp-port', '--json']);
  const l2Row = parseJsonl(ports.stdout).find((r) => r.LocalPort === l2);
  t.equal(l2Row?.Records, 3, `port ${l2}: its listener and the server ends of two connections`);
});

t.test('a module loaded after the recorder saw the process: the next use is logged with it, earlier ones without', async (t) => {
  const ns = createNetns();
  t.teardown(() => ns.destroy());
  const actor = new Actor(ns.name);
  t.teardown(() => actor.stop());
  const [pid] = (await actor.send('pid')).map(Number);
  const tmp = tmpDir(t);
  const dir = path.join(tmp, 'logs');
  // A library python3 has not loaded, under a name of its own so that nothing else maps it.
  const source = ['/usr/lib/x86_64-linux-gnu/libsqlite3.so.0', '/usr/lib/aarch64-linux-gnu/libsqlite3.so.0', '/lib/libsqlite3.so.0'].find((f) => fs.existsSync(f));
  if (!source) {
    t.fail('needs libsqlite3.so.0 (Debian package libsqlite3-0)');
    return;
  }
  const spy = path.join(tmp, 'libspy-late.so');
  fs.copyFileSync(source, spy);

  await actor.send('listen tcp');
  const rec = startRecorderIn(ns.name, ['-ld', dir, '--interval', '300ms', '--jsonl']);
  t.teardown(() => rec.child.kill('SIGKILL'));
  await waitFor('initial events', () => readEvents(dir).length >= 1);
  const [, before] = (await actor.send('listen tcp')).map(Number);
  await waitFor('the listener opened before the load', () => readEvents(dir).some((e) => e.Event === 'Opened' && e.LocalPort === before));
  // PR-PORTS times are whole seconds: the load and the next use fall in a later second.
  await new Promise((r) => setTimeout(r, 1100));
  await actor.send(`load ${spy}`);
  const [, after] = (await actor.send('listen tcp')).map(Number);
  await waitFor('the listener opened after the load', () => readEvents(dir).some((e) => e.Event === 'Opened' && e.LocalPort === after));
  rec.child.kill('SIGTERM');
  t.equal((await rec.exit).code, 0, rec.stderr());

  const events = readEvents(dir).filter((e) => e.Event !== 'Closed' && e.OwningProcess === pid);
  const mods = (port: number) => (events.find((e) => e.LocalPort === port)?.Modules ?? []) as string[];
  t.notOk(mods(before).includes(spy), 'PR-EVENTS: the use before the load has no such module');
  t.ok(mods(after).includes(spy), 'PR-EVENTS: the use after it lists the module');

  const pids = readLogSet(dir, 'PR-PIDS-');
  const blocks = pids.split('='.repeat(64)).filter((b) => b.includes(`Process ID: ${pid}\r\n`));
  t.equal(blocks.length, 2, 'PR-PIDS: a second block for the process once its modules changed');
  t.notOk(blocks[0]!.includes(spy));
  t.ok(blocks[1]!.includes(` ${spy}\r\n`));

  // parse of the original logs alone (PR-PORTS correlated with PR-PIDS): each row with the block at or before it.
  const original = fs.readdirSync(dir).filter((f) => /^PR-(PORTS|PIDS)-/.test(f)).map((f) => path.join(dir, f));
  const parsed = await runCli(['parse', ...original, '--json']);
  t.equal(parsed.code, 0, parsed.stderr);
  const rows = parseJsonl(parsed.stdout);
  const rowMods = (port: number) => (rows.find((r) => r.LocalPort === port)?.Modules ?? []) as string[];
  t.ok(rowMods(before).length > 0, 'the earlier row is correlated with a block');
  t.notOk(rowMods(before).includes(spy), 'parse: the row before the load does not show the module');
  t.ok(rowMods(after).includes(spy), 'parse: the row after it does');
});

t.test('--interval 2s and a burst of 200 connections living a few ms each: every end recorded once, the same set `ss -E` sees', async (t) => {
  const ns = createNetns();
  t.teardown(() => ns.destroy());
  const actor = new Actor(ns.name);
  t.teardown(() => actor.stop());
  const dir = path.join(tmpDir(t), 'logs');
  const [, listener] = (await actor.send('listen tcp')).map(Number);

  // The oracle: ss -E in the same namespace, line-buffered.
  const ss = spawn('ip', ['netns', 'exec', ns.name, 'stdbuf', '-oL', 'ss', '-E', '-t', '-n', '-H'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => ss.kill('SIGKILL'));
  let ssOut = '';
  ss.stdout!.on('data', (b: Buffer) => (ssOut += b.toString()));
  const rec = startRecorderIn(ns.name, ['-ld', dir, '--interval', '2s', '--jsonl', '--no-modules']);
  t.teardown(() => rec.child.kill('SIGKILL'));
  await waitFor('initial events', () => readEvents(dir).length >= 1);
  await new Promise((r) => setTimeout(r, 300)); // ss has joined the groups by now

  const [list] = await actor.send(`burst ${listener} 200`);
  const clientPorts = list!.split(',').map((p) => Number(p.split(':')[0]));
  t.equal(new Set(clientPorts).size, 200);
  // The next poll (2 s) writes them.
  await waitFor('the burst recorded', () => readEvents(dir).filter((e) => e.Event === 'Opened').length >= 400, 10_000).catch(() => {});
  rec.child.kill('SIGTERM');
  t.equal((await rec.exit).code, 0);
  t.equal(rec.stderr(), '', 'no warning: nothing lost, capture on');
  ss.kill('SIGTERM');

  const expected = clientPorts.flatMap((p) => [`TCP 127.0.0.1:${p} 127.0.0.1:${listener}`, `TCP 127.0.0.1:${listener} 127.0.0.1:${p}`]).sort();
  const events = readEvents(dir).filter((e) => e.Event !== 'Closed' && e.Protocol === 'TCP' && e.RemotePort !== null);
  const seen = events.map((e) => `TCP ${e.LocalAddress}:${e.LocalPort} ${e.RemoteAddress}:${e.RemotePort}`).sort();
  t.same(seen, expected, 'PR-EVENTS: each of the 400 ends once');
  const fromDestroy = events.filter((e) => e.Source === 'destroy-event');
  t.ok(fromDestroy.length >= 390, `recorded from destroy events (${fromDestroy.length}; the rest a poll saw)`);
  for (const e of fromDestroy.slice(0, 5)) {
    t.same(schemaErrors('record-event.schema.json', e), []);
    t.equal(e.OwningProcess, null);
    t.match(e.UserName, /\\root$/, 'the uid\'s user');
    t.equal(e.LifetimeSeconds, null);
  }

  const rows = readLogSet(dir, 'PR-PORTS-')
    .split('\r\n')
    .filter((l) => /^\d\d\/\d{1,2}\/\d{1,2},/.test(l))
    .map((l) => l.split(','));
  const rowKeys = rows.filter((r) => r[2] === 'TCP' && r[5] !== '').map((r) => `TCP ${r[4]}:${r[3]} ${r[6]}:${r[5]}`).sort();
  t.same(rowKeys, expected, 'PR-PORTS: each of the 400 ends once');

  const ssKeys = ssOut
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length >= 5 && (w[3]!.endsWith(`:${listener}`) || w[4]!.endsWith(`:${listener}`)) && w[4] !== '0.0.0.0:*')
    .map((w) => `TCP ${w[3]} ${w[4]}`)
    .sort();
  t.same(ssKeys, expected, 'ss -E saw the same 400 sockets destroyed');

  // parse/stats count them once too.
  const stats = await runCli(['stats', dir, '--statistic', 'local-tcp-port', '--json']);
  t.equal(parseJsonl(stats.stdout).find((r) => r.LocalPort === listener)?.Records, 201, 'the listener and its 200 accepted ends');
});


t.test('record --criteria: matching endpoints flagged in PR-EVENTS, one syslog line each up to the per-minute limit; parse shows the Message', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v unshare'], { stdio: 'ignore' }).status !== 0) {
    t.fail('needs unshare (util-linux)');
    return;
  }
  const ns = createNetns();
  t.teardown(() => ns.destroy());
  const actor = new Actor(ns.name);
  t.teardown(() => actor.stop());
  const tmp = tmpDir(t);
  const dir = path.join(tmp, 'logs');
  const [, watched] = (await actor.send('listen tcp')).map(Number);
  const [, other] = (await actor.send('listen tcp')).map(Number);
  const criteria = path.join(tmp, 'criteria.json');
  fs.writeFileSync(criteria, JSON.stringify({ Ports: [{ Value: watched, Message: 'the backdoor port' }] }));

  // The system log: a datagram socket of the test's, bind-mounted as /dev/log in a private mount
  // namespace (a tmpfs over /dev there: the host's /dev is not touched). python3 prints each datagram.
  const sock = path.join(tmp, 'log');
  const receiver = spawn('python3', ['-u', '-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('ready',flush=True)\nwhile True:\n  print(s.recv(65536).decode(), flush=True)`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => receiver.kill('SIGKILL'));
  let syslog = '';
  receiver.stdout!.on('data', (b: Buffer) => (syslog += b.toString()));
  await waitFor('the syslog receiver', () => syslog.startsWith('ready'));
  const sh = [
    'set -e',
    'mount --make-rprivate /',
    'mount -t tmpfs -o mode=0755 tmpfs /dev',
    'mknod -m 666 /dev/null c 1 3',
    'mknod -m 666 /dev/urandom c 1 9',
    'touch /dev/log',
    'mount --bind "$1" /dev/log',
    'shift',
    'exec "$@"',
  ].join('\n');
  const rec = spawn(
    'unshare',
    ['-m', 'sh', '-c', sh, 'sh', sock, 'ip', 'netns', 'exec', ns.name, process.execPath, BUNDLE, 'record', '-ld', dir, '--interval', '300ms', '--jsonl', '--no-modules', '--criteria', criteria, '--alerts-per-minute', '3'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  rec.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<number | null>((resolve) => rec.on('close', (code) => resolve(code)));
  t.teardown(() => rec.kill('SIGKILL'));
  await waitFor('initial events', () => readEvents(dir).length >= 2);
  // Three connections to the watched port (six ends, all matching: local or remote port) and one to the other.
  for (let i = 0; i < 3; i++) await actor.send(`connect ${watched}`);
  await actor.send(`connect ${other}`);
  await waitFor('the opened events', () => readEvents(dir).filter((e) => e.Event === 'Opened').length >= 8);
  rec.kill('SIGTERM');
  t.equal(await exit, 0, stderr);
  t.equal(stderr, '', 'nothing on stderr: the alerts went to the system log');

  const events = readEvents(dir).filter((e) => e.Event !== 'Closed');
  const matching = events.filter((e) => e.LocalPort === watched || e.RemotePort === watched);
  t.equal(matching.length, 7, 'the watched listener (open at start) and six connection ends');
  for (const e of matching) t.same([e.Flagged, e.FlagReasons], [true, [`port ${watched}: the backdoor port`]], `${e.Event} ${e.LocalPort}->${e.RemotePort}`);
  t.ok(events.filter((e) => e.LocalPort !== watched && e.RemotePort !== watched).every((e) => e.Flagged === false), 'the rest not flagged');

  const lines = syslog.split('\n').filter((l) => l.includes('[1400]'));
  t.equal(lines.length, 3, 'at most 3 lines a minute for the criterion');
  for (const l of lines) t.match(l, new RegExp(`^<28>portqry-ts\\[\\d+\\]: \\[1400\\] criteria matched on \\S+: TCP .*: port ${watched}: the backdoor port$`));

  const parsed = await runCli(['parse', dir, '--json', '--criteria', criteria, '--flagged-only']);
  t.equal(parsed.code, 0, parsed.stderr);
  const flagged = parseJsonl(parsed.stdout).filter((r) => r.Event !== 'Closed');
  t.equal(flagged.length, 7);
  t.ok(flagged.every((r) => (r.FlagReasons as string[])[0] === `port ${watched}: the backdoor port`), 'parse: the Message in FlagReasons');
});
