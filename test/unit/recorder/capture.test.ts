import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { withoutDuplicateSets } from '../../../src/portreporter/read';
import type { LogSource } from '../../../src/portreporter/read-log';
import { LogWriter } from '../../../src/portreporter/write-log';
import { processBlock } from '../../../src/portreporter/write-format';
import { EndpointTracker, isOwnerlessTail } from '../../../src/recorder/endpoints';
import { groupByProcess } from '../../../src/recorder/recorder';
import { readPortReporterRecords } from '../../../src/portreporter/read';
import { once } from 'node:events';
import * as net from 'node:net';
import { DestroyGroupsError, type DestroyDrain, SockDiagDestroyListener } from '../../../src/platform/linux-netlink';
import { decodeDestroyMessages, type DestroyedSocket } from '../../../src/platform/linux-sockdiag';
import { DestroyCapture, destroyedEndpoint, type DestroySource, openDestroySource, socketKey } from '../../../src/recorder/destroy-capture';
import { runRecorder } from '../../../src/recorder/recorder';
import { FakeBackend, proc, tcp } from '../../helpers/fake-backend';
import { checkCriteria, compileCriteria } from '../../../src/portreporter/criteria';
import type { PortReporterRecord } from '../../../src/portreporter/record';
import { EventId, type EventLog } from '../../../src/eventlog/types';
import { CriteriaAlerts } from '../../../src/recorder/alerts';
import { schemaErrors } from '../../helpers/schema';
import { LinuxBackend } from '../../../src/platform/linux';
import { readEvents, readLogSet } from '../../helpers/recorder-logs';
import { inetDiagMessage, nlmsgDone } from '../../helpers/sock-diag';

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-capture-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('tracker: a connection whose process closed it lingers ownerless (FIN_WAIT2): the same use, closed once', async (t) => {
  const tracker = new EndpointTracker((e) => !isOwnerlessTail(e.endpoint));
  const p = proc(10);
  const snap = (endpoints: ReturnType<typeof tcp>[]) => ({ takenAt: new Date(), computerName: 'H', endpoints, processes: new Map([[p.pid, p]]) });
  const conn = { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', remotePort: 80, state: 'Established' as const };
  tracker.start(snap([]));
  t.equal(tracker.update(snap([tcp(5000, 10, conn)])).opened.length, 1);
  const orphan = tcp(5000, null, { ...conn, state: 'FinWait2' });
  const c = tracker.update(snap([orphan]));
  t.same([c.opened.length, c.closed.length, c.changed.length], [0, 0, 1], 'not new, not closed: a state change');
  t.equal(c.changed[0]!.current.endpoint.pid, 10, 'keeps its owner');
  t.equal(c.changed[0]!.current.process, p);
  const again = tracker.update(snap([orphan]));
  t.same([again.opened.length, again.closed.length, again.changed.length], [0, 0, 0]);
  t.equal(tracker.current()[0]!.endpoint.pid, 10);
  // TIME_WAIT with no owner is the kernel's tail: the use has ended.
  const end = tracker.update(snap([tcp(5000, null, { ...conn, state: 'TimeWait' })]));
  t.same([end.opened.length, end.closed.length], [0, 1]);
  t.equal(end.closed[0]!.endpoint.pid, 10);
  // An ownerless connection never seen owned is new (and counted once).
  const stranger = tracker.update(snap([tcp(6000, null, { ...conn, state: 'FinWait1' })]));
  t.equal(stranger.opened.length, 1);
});

t.test('one set, one source: a set with PR-EVENTS is not read again from its PR-PORTS and PR-INITIAL', async (t) => {
  const src = (p: string): LogSource => ({ name: p, path: p, explicit: false, open: async function* () {} });
  const names = [
    '/l/PR-EVENTS-26-12-4-8-0-0.jsonl',
    '/l/PR-INITIAL-26-12-4-8-0-0.log',
    '/l/PR-PIDS-26-12-4-8-0-0.log',
    '/l/PR-PORTS-26-12-4-8-0-0.log',
    '/l/PR-PORTS-26-12-4-9-0-0.log',
    '/l/PR-INITIAL-26-12-4-9-0-0.log',
    '/other/PR-PORTS-26-12-4-8-0-0.log',
    '/l/pr-ports-26-12-4-8-0-0-1.log',
  ];
  t.same(
    withoutDuplicateSets(names.map(src)).map((s) => s.name),
    ['/l/PR-EVENTS-26-12-4-8-0-0.jsonl', '/l/PR-PIDS-26-12-4-8-0-0.log', '/l/PR-PORTS-26-12-4-9-0-0.log', '/l/PR-INITIAL-26-12-4-9-0-0.log', '/other/PR-PORTS-26-12-4-8-0-0.log', '/l/pr-ports-26-12-4-8-0-0-1.log'],
  );
  const stdin: LogSource = { name: '-', explicit: true, open: async function* () {} };
  t.same(withoutDuplicateSets([stdin, src('/l/PR-PORTS-1.log')]).length, 2, 'nothing to drop without an event log');
});

t.test('the writer continues a set only with the same files: --jsonl on or off starts a new set', async (t) => {
  const dir = tmpDir(t);
  const rotation = { start: false, daily: false, size: false, maxBytes: 1e9 };
  const header = { computerName: 'H', operatingSystem: 'X', generatedBy: 'test' };
  const open = (jsonl: boolean, at: number) => LogWriter.open({ dir, rotation, jsonl, header, warn: () => {} }, new Date(Date.UTC(2026, 11, 4, 8, 0, at)));
  const a = open(false, 0);
  a.close(new Date());
  const b = open(true, 1);
  t.not(b.currentSuffix, a.currentSuffix, 'a --jsonl run does not continue a set without an event log');
  t.ok(fs.existsSync(b.paths.EVENTS), 'the event log exists from the start of its set');
  b.close(new Date());
  const c = open(true, 2);
  t.equal(c.currentSuffix, b.currentSuffix, 'the same kind of run continues it');
  c.close(new Date());
  const d = open(false, 3);
  t.not(d.currentSuffix, b.currentSuffix, 'a run without --jsonl does not continue a set with one');
  d.close(new Date());
});

t.test('PR-INITIAL: endpoints with no known owner get a block with an empty Process ID, read back as OwningProcess null', async (t) => {
  const dir = tmpDir(t);
  const p = proc(10);
  const known = tcp(80, 10);
  const hidden = tcp(4444, null);
  const at = new Date(Date.UTC(2026, 11, 4, 8, 0, 0));
  const groups = groupByProcess([
    { endpoint: hidden, process: null, key: 'h', firstSeen: at },
    { endpoint: known, process: p, key: 'k', firstSeen: at },
  ]);
  t.same(groups.map((g) => g.pid), [10, null], 'the ownerless group last');
  const header = { computerName: 'H', operatingSystem: 'X', generatedBy: 'test' };
  const w = LogWriter.open({ dir, rotation: { start: true, daily: false, size: false, maxBytes: 1e9 }, jsonl: false, header, warn: () => {} }, at);
  w.initial(groups, at);
  w.close(at);
  const text = fs.readFileSync(w.paths.INITIAL, 'utf8');
  t.match(text, /Process ID: \r\nRecorded: .*\r\n(?:.*\r\n)*?Image name: \r\n(?:.*\r\n)*?Ports: TCP 4444 0\.0\.0\.0 LISTENING\r\nModules \(0\):\r\n\r\n$/);
  t.equal(processBlock(null, null, [], at).split('\r\n')[1], 'Process ID: ');
  const records = [];
  for await (const r of readPortReporterRecords([w.paths.INITIAL], { utcOffsetMinutes: 0, strict: true })) records.push(r);
  t.same(records.map((r) => [r.LocalPort, r.OwningProcess, r.ProcessName]), [[80, 10, 'prog10'], [4444, null, null]]);
});

/** One SOCK_DIAG_BY_FAMILY message as the destroy groups send it: no NLM_F_MULTI, INET_DIAG_PROTOCOL when given. */
function destroyMessage(m: { family: 2 | 10; state: number; sport: number; dport: number; src: number[]; dst: number[]; uid: number; protocol?: number }): Buffer {
  const attrs = m.protocol === undefined ? undefined : Buffer.from([5, 0, 10, 0, m.protocol, 0, 0, 0]); // rtattr len 5, INET_DIAG_PROTOCOL, padded
  return inetDiagMessage({ ...m, attrs, flags: 0 });
}

const LO = [127, 0, 0, 1];
const V6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

t.test('decodeDestroyMessages: byte fixtures of the destroy groups', async (t) => {
  const other = nlmsgDone(); // passed over
  const buf = Buffer.concat([
    destroyMessage({ family: 2, state: 7, sport: 40000, dport: 8080, src: LO, dst: LO, uid: 1000, protocol: 6 }),
    destroyMessage({ family: 10, state: 7, sport: 5353, dport: 0, src: V6, dst: [], uid: 0, protocol: 17 }),
    destroyMessage({ family: 2, state: 10, sport: 8080, dport: 0, src: LO, dst: [], uid: 0 }), // no attribute: the socket's protocol
    destroyMessage({ family: 2, state: 7, sport: 0, dport: 0, src: [], dst: [], uid: 0, protocol: 6 }), // never bound: not a use
    other,
  ]);
  const rows = decodeDestroyMessages(buf, buf.length, 'TCP');
  t.same(rows, [
    { protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.1', remotePort: 8080, state: 'Closed', uid: 1000, inode: 0 },
    { protocol: 'UDP', family: 6, localAddress: '2001:db8::1', localPort: 5353, remoteAddress: null, remotePort: null, state: null, uid: 0, inode: 0 },
    { protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: null, remotePort: null, state: 'Listen', uid: 0, inode: 0 },
  ]);
  t.same(decodeDestroyMessages(buf, buf.length, null).length, 2, 'without attribute or socket protocol a message is passed over');
  t.throws(() => decodeDestroyMessages(buf, 50), /malformed netlink message/);
});

class ScriptedSource implements DestroySource {
  batches: DestroyDrain[] = [];
  closed = false;
  drain(): DestroyDrain {
    return this.batches.shift() ?? { sockets: [], overflows: 0 };
  }
  close(): void {
    this.closed = true;
  }
}

const destroyed = (lport: number, rport: number | null): DestroyedSocket => ({
  protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: lport, remoteAddress: rport === null ? null : '127.0.0.1', remotePort: rport, state: 'Closed', uid: 0, inode: 0,
});

t.test('DestroyCapture: sockets a poll saw are left to the polls; losses are warned about at most once a minute', async (t) => {
  const source = new ScriptedSource();
  const warnings: string[] = [];
  let clock = 0;
  const capture = new DestroyCapture(source, { warn: (l) => warnings.push(l), maxPending: 3, clock: () => clock });
  source.batches.push({ sockets: [destroyed(1, 2), destroyed(3, 4), destroyed(5, 6)], overflows: 0 });
  capture.tick();
  const known = socketKey(destroyedEndpoint(destroyed(1, 2)));
  const closedByPoll = destroyedEndpoint(destroyed(3, 4));
  t.same(capture.take(1, (k) => k === known, [closedByPoll]).map((p) => p.socket.localPort), [5], 'known and just-closed sockets are not logged again');
  // The announcement of a socket the previous poll closed can come late: still not logged.
  source.batches.push({ sockets: [destroyed(3, 4)], overflows: 0 });
  capture.tick();
  t.same(capture.take(2, () => false, []), []);
  t.same(warnings, []);
  // A burst: the kernel's queue overflowed twice, and one more than maxPending waited.
  source.batches.push({ sockets: [destroyed(7, 8), destroyed(9, 10), destroyed(11, 12), destroyed(13, 14)], overflows: 2 });
  capture.tick();
  t.equal(capture.take(3, () => false, []).length, 3);
  t.same(capture.counters, { announced: 8, recorded: 4, overflows: 2, dropped: 1 });
  t.equal(warnings.length, 1);
  t.match(warnings[0], /overflowed 2 time\(s\) \(ENOBUFS\) and 1 event\(s\) beyond the in-memory limit were dropped/);
  source.batches.push({ sockets: [], overflows: 1 });
  capture.tick();
  capture.take(4, () => false, []);
  t.equal(warnings.length, 1, 'not again within a minute');
  clock = 61_000;
  capture.take(5, () => false, []);
  t.equal(warnings.length, 2, 'the new loss reported after a minute');
  t.match(warnings[1], /overflowed 3 time/);
  capture.close();
  t.ok(source.closed);
});

t.test('openDestroySource: a kernel that refuses the groups turns short-lived capture off with one line', async (t) => {
  const warnings: string[] = [];
  const refused = openDestroySource((l) => warnings.push(l), 'linux', () => {
    throw new DestroyGroupsError('joining the sock_diag destroy groups failed: errno 1 (needs CAP_NET_ADMIN)', 1);
  });
  t.equal(refused, null);
  t.same(warnings, ['short-lived capture is off (needs root or CAP_NET_ADMIN): connections that open and close between two polls are not recorded']);
  t.equal(openDestroySource((l) => warnings.push(l), 'win32'), null, 'Windows: none (docs/record-capture.md: ETW design)');
  t.equal(warnings.length, 1);
});

t.test('the real destroy groups: a burst past a small receive buffer is counted as an overflow (ENOBUFS), not lost silently', { skip: process.platform !== 'linux' ? 'Linux only' : false }, async (t) => {
  const listener = new SockDiagDestroyListener({ receiveBufferBytes: 2048 });
  t.teardown(() => listener.close());
  const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  for (let i = 0; i < 100; i++) {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    await once(c, 'close');
  }
  await new Promise((r) => setTimeout(r, 200));
  const d = listener.drain();
  t.ok(d.overflows >= 1, `ENOBUFS counted (${d.overflows}); ${d.sockets.length} announcements read`);
  t.ok(d.sockets.length < 200, 'fewer than the 200 ends: some were dropped by the kernel');
  t.ok(d.sockets.some((s) => s.localPort === port || s.remotePort === port), 'what was kept decodes');
});

t.test('the recorder: a socket no poll saw is written once from its destroy event, a socket a poll saw is not written again', async (t) => {
  const dir = path.join(tmpDir(t), 'logs');
  const p = proc(10);
  const seen = tcp(6000, 10, { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', remotePort: 80, state: 'Established' });
  const states = [() => ({ endpoints: [], processes: [p] }), () => ({ endpoints: [seen], processes: [p] }), () => ({ endpoints: [], processes: [p] }), () => ({ endpoints: [], processes: [p] })];
  const backend = new FakeBackend(states);
  const source = new ScriptedSource();
  let polls = 0;
  const controller = new AbortController();
  const summary = await runRecorder({
    backend,
    intervalMs: 100,
    durationMs: null,
    logDir: dir,
    rotation: { start: true, daily: false, size: false, maxBytes: 1e9 },
    jsonl: true,
    generatedBy: 'test',
    signal: controller.signal,
    warn: (l) => t.fail(l),
    destroyEvents: source,
    users: { lookup: async (uids) => new Map(uids.map((u) => [u, `TESTHOST\\user${u}`])) },
    drainEveryMs: 10_000,
    onPoll: () => {
      polls++;
      // Before poll 3: the socket poll 2 saw is destroyed, and one no poll saw.
      if (polls === 2) source.batches.push({ sockets: [{ ...destroyed(6000, 80), uid: 0 }, { ...destroyed(7000, 81), uid: 1000 }], overflows: 0 });
      if (polls >= 4) controller.abort();
    },
  });
  t.ok(source.closed, 'closed at the end');
  t.same(summary.destroyEvents, { announced: 2, recorded: 1, overflows: 0, dropped: 0 });
  const events = readEvents(dir);
  const opened = events.filter((e) => e.Event === 'Opened');
  t.same(opened.map((e) => [e.LocalPort, e.Source, e.OwningProcess, e.UserName]), [[6000, 'poll', 10, 'TESTHOST\\alice'], [7000, 'destroy-event', null, 'TESTHOST\\user1000']]);
  t.equal(events.filter((e) => e.Event === 'Closed' && e.LocalPort === 6000).length, 1, 'the polled socket closes once');
  const rows = readLogSet(dir, 'PR-PORTS-').split('\r\n').filter((l) => /^\d\d\//.test(l));
  t.equal(rows.length, 2);
  t.match(rows[1], /,TCP,7000,127\.0\.0\.1,81,127\.0\.0\.1,,,<TESTHOST\\user1000>$/);
});

t.test('criteria: an optional Message per item, in FlagReasons; matches name their criterion', async (t) => {
  const c = compileCriteria(
    checkCriteria({ Ports: [22, { Value: '4440-4449', Message: 'a Metasploit default' }], Processes: [{ Value: 'nc', Message: 'netcat listening' }], Users: ['bob'] }, 'c.json'),
    'c.json',
  );
  const r = { LocalPort: 4444, RemotePort: null, ProcessName: 'nc', ProcessPath: '/usr/bin/nc', UserName: 'H\\root', RemoteAddress: null, LocalAddress: '0.0.0.0', Modules: [], RemoteHostName: null } as unknown as PortReporterRecord;
  t.same(c.matches(r), [
    { criterion: 'Ports[1]', reason: 'port 4444: a Metasploit default' },
    { criterion: 'Processes[0]', reason: 'process nc: netcat listening' },
  ]);
  c.flag(r);
  t.same(r.FlagReasons, ['port 4444: a Metasploit default', 'process nc: netcat listening']);
  t.throws(() => checkCriteria({ Ports: [{ Value: 1, Note: 'x' }] }, 'c.json'), /unknown key "Note" in an item/);
  t.throws(() => checkCriteria({ Processes: [{ Value: 'nc', Message: '' }] }, 'c.json'), /"Message" must be a non-empty string/);
  t.throws(() => checkCriteria({ Processes: [{ Message: 'm' }] }, 'c.json'), /"Processes" must be a list of non-empty strings/);
  t.same(schemaErrors('criteria.schema.json', { Ports: [22, { Value: '4440-4449', Message: 'm' }], Processes: [{ Value: 'nc' }] }), []);
  t.not(schemaErrors('criteria.schema.json', { Ports: [{ Value: 22, Extra: 1 }] }).length, 0);
});

t.test('alerts: one system-log line per matching endpoint, at most N a minute per criterion (injected clock)', async (t) => {
  const lines: { level: string; message: string; id?: number }[] = [];
  const eventLog: EventLog = { write: (level, message, id) => lines.push({ level, message, id }), close: () => {} };
  let now = 0;
  const alerts = new CriteriaAlerts({ criteria: compileCriteria({ Ports: [{ Value: 4444, Message: 'backdoor' }], Processes: ['nc'] }), eventLog, perMinute: 2, clock: () => now });
  const p = proc(7, { name: 'nc', user: 'H\\root' });
  const at = (port: number, pid: number | null = 7) => ({ endpoint: tcp(port, pid, { localAddress: '127.0.0.1' }), process: pid === null ? null : p, key: '' });
  t.same(alerts.check(at(4444), 'H'), ['port 4444: backdoor', 'process nc']);
  t.equal(lines.length, 1);
  t.same(lines[0], { level: 'warning', message: 'criteria matched on H: TCP 127.0.0.1:4444 LISTENING, nc PID 7, user H\\root: port 4444: backdoor; process nc', id: EventId.CriteriaMatched });
  t.same(alerts.check(at(80, null), 'H'), [], 'no match, no line');
  alerts.check(at(4444), 'H');
  now = 30_000;
  t.same(alerts.check(at(4444), 'H'), ['port 4444: backdoor', 'process nc'], 'still flagged when the line is held back');
  t.equal(lines.length, 2, 'third match within the minute: no line');
  t.same(alerts.counters, { matched: 3, alerted: 2, suppressed: 2 });
  now = 60_001;
  alerts.check(at(4444), 'H');
  t.equal(lines.length, 3, 'the window moved on');
  t.match(lines[2]!.message, /\(2 earlier match\(es\) of these criteria not sent: at most 2 a minute per criterion\)$/);
  // Criteria are limited separately: another criterion still gets its lines.
  now = 60_002;
  alerts.check(at(5000), 'H');
  t.equal(lines.length, 4);
  t.match(lines[3]!.message, /: process nc$/);
});

t.test('the recorder with criteria: matching new endpoints flagged in PR-EVENTS, the rest not', async (t) => {
  const dir = path.join(tmpDir(t), 'logs');
  const p = proc(10, { name: 'nc' });
  const q = proc(20);
  const backend = new FakeBackend([() => ({ endpoints: [tcp(22, 20)], processes: [q] }), () => ({ endpoints: [tcp(22, 20), tcp(4444, 10), tcp(8080, 20)], processes: [p, q] })]);
  const lines: string[] = [];
  const controller = new AbortController();
  const summary = await runRecorder({
    backend,
    intervalMs: 50,
    durationMs: null,
    logDir: dir,
    rotation: { start: true, daily: false, size: false, maxBytes: 1e9 },
    jsonl: true,
    generatedBy: 'test',
    signal: controller.signal,
    warn: (l) => t.fail(l),
    eventLog: { write: (_l, m) => lines.push(m), close: () => {} },
    criteria: compileCriteria({ Ports: [{ Value: 4444, Message: 'backdoor' }] }),
    onPoll: ({ polls }) => {
      if (polls >= 2) controller.abort();
    },
  });
  const events = readEvents(dir);
  t.same(events.map((e) => [e.Event, e.LocalPort, e.Flagged, e.FlagReasons]), [
    ['Initial', 22, false, []],
    ['Opened', 4444, true, ['port 4444: backdoor']],
    ['Opened', 8080, false, []],
  ]);
  t.equal(lines.length, 1);
  t.same(summary.alerts, { matched: 1, alerted: 1, suppressed: 0 });
  for (const e of events) t.same(schemaErrors('record-event.schema.json', e), []);
});

t.test('Linux refreshModules: the maps module list compared; a change gives new details and replaces the cached ones', async (t) => {
  const proc = tmpDir(t);
  fs.mkdirSync(path.join(proc, '123'), { recursive: true });
  const maps = (libs: string[]) => libs.map((l, i) => `7f00000${i}000-7f00000${i}fff r-xp 00000000 08:01 ${100 + i}  ${l}\n`).join('');
  fs.writeFileSync(path.join(proc, '123', 'maps'), maps(['/usr/lib/libc.so.6']));
  const backend = new LinuxBackend({ procRoot: proc, sockDiag: false });
  const info = { pid: 123, startTime: null, name: 'x', path: null, commandLine: null, user: null, services: [], modules: ['/usr/lib/libc.so.6'], note: null };
  const cache = new Map([['123:5', info]]);
  t.equal(backend.refreshModules(info, cache), null, 'unchanged: nothing new');
  fs.writeFileSync(path.join(proc, '123', 'maps'), maps(['/usr/lib/libc.so.6', '/tmp/libspy.so']));
  const next = backend.refreshModules(info, cache);
  t.same(next?.modules, ['/usr/lib/libc.so.6', '/tmp/libspy.so']);
  t.equal(cache.get('123:5'), next, 'the cache holds the new details');
  t.same(info.modules, ['/usr/lib/libc.so.6'], 'the old details are not changed (earlier records keep them)');
  t.equal(backend.refreshModules({ ...info, pid: 999 }, cache), null, 'an exited process keeps what was read');
});
