import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { EndpointTracker } from '../../../src/recorder/endpoints';
import { runRecorder, type RecorderOptions } from '../../../src/recorder/recorder';
import { newestSet } from '../../../src/portreporter/log-set';
import { schemaErrors, schemaKeys } from '../../helpers/schema';
import { FakeBackend, proc, tcp, udp } from '../../helpers/fake-backend';
import { readEvents, readLogSet } from '../../helpers/recorder-logs';

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'logs');
}

function options(backend: FakeBackend, logDir: string, extra: Partial<RecorderOptions> = {}): RecorderOptions {
  const warnings: string[] = [];
  return {
    backend,
    intervalMs: 100,
    durationMs: null,
    logDir,
    rotation: { start: true, daily: false, size: true, maxBytes: 5_000_000 },
    jsonl: true,
    generatedBy: 'portqry-ts test',
    signal: new AbortController().signal,
    warn: (l) => warnings.push(l),
    ...extra,
  };
}

/** Runs the recorder until the fake backend has served every scripted state. */
async function record(backend: FakeBackend, logDir: string, states: number, extra: Partial<RecorderOptions> = {}) {
  const controller = new AbortController();
  return runRecorder({
    ...options(backend, logDir, extra),
    signal: controller.signal,
    onPoll: ({ polls }) => {
      if (polls >= states) controller.abort();
    },
  });
}


t.test('tracker: identity includes the owning process; state changes are not new endpoints', async (t) => {
  const tracker = new EndpointTracker();
  const p = proc(10);
  const snap = (endpoints: ReturnType<typeof tcp>[], processes = [p]) => ({ takenAt: new Date(), computerName: 'H', endpoints, processes: new Map(processes.map((x) => [x.pid, x])) });
  t.equal(tracker.start(snap([tcp(80, 10)])).length, 1);
  const c1 = tracker.update(snap([tcp(80, 10), tcp(80, 10, { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', remotePort: 5000, state: 'Established' })]));
  t.equal(c1.opened.length, 1);
  t.equal(c1.closed.length, 0);
  const c2 = tracker.update(snap([tcp(80, 10), tcp(80, 10, { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', remotePort: 5000, state: 'CloseWait' })]));
  t.equal(c2.opened.length, 0);
  t.equal(c2.changed.length, 1);
  t.equal(c2.changed[0]!.previousState, 'Established');
  // Same PID, another start time: the PID was reused by a new process, so it is a new endpoint.
  const reused = proc(10, { startTime: new Date(Date.UTC(2027, 0, 1)) });
  const c3 = tracker.update(snap([tcp(80, 10)], [reused]));
  t.equal(c3.opened.length, 1);
  t.equal(c3.closed.length, 2);
});

t.test('tracker: endpoint objects shared between snapshots (as the Linux backend hands them out) diff like fresh ones', async (t) => {
  const tracker = new EndpointTracker();
  const p = proc(10);
  const q = proc(20);
  const snap = (endpoints: ReturnType<typeof tcp>[], processes = [p, q]) => ({ takenAt: new Date(), computerName: 'H', endpoints, processes: new Map(processes.map((x) => [x.pid, x])) });
  const listener = tcp(80, 10);
  const conn = tcp(80, 10, { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', remotePort: 5000, state: 'Established' });
  const other = udp(53, 20);
  t.equal(tracker.start(snap([listener, conn, other])).length, 3);
  const quiet = tracker.update(snap([listener, conn, other]));
  t.same([quiet.opened.length, quiet.closed.length, quiet.changed.length], [0, 0, 0], 'the same objects: nothing happened');
  const first = tracker.current().find((x) => x.endpoint === conn)!.firstSeen;
  // The connection changes state (a new object with the same identity), the UDP socket closes.
  const c1 = tracker.update(snap([listener, { ...conn, state: 'CloseWait' }]));
  t.same([c1.opened.length, c1.closed.length, c1.changed.length], [0, 1, 1]);
  t.equal(c1.closed[0]!.endpoint, other);
  t.equal(c1.changed[0]!.current.firstSeen, first, 'first-seen time kept across the state change');
  // Same endpoint object, but PID 10 is now another process (new start time): closed and opened.
  const reused = proc(10, { startTime: new Date(Date.UTC(2027, 0, 1)) });
  const c2 = tracker.update(snap([listener], [reused, q]));
  t.same([c2.opened.length, c2.closed.length], [1, 2]);
  t.equal(c2.opened[0]!.process, reused);
});

t.test('recorder: initial, opened once, closed with lifetime; PIDS once per process; files in the documented layout', async (t) => {
  const dir = tmpDir(t);
  const a = proc(100);
  const b = proc(200);
  const base = () => ({ endpoints: [tcp(22, 100), udp(53, 100)], processes: [a] });
  const withNew = () => ({ endpoints: [tcp(22, 100), udp(53, 100), tcp(8080, 200), tcp(8081, 200)], processes: [a, b] });
  const oneClosed = () => ({ endpoints: [tcp(22, 100), udp(53, 100), tcp(8080, 200)], processes: [a, b] });
  const tail = () => ({ endpoints: [tcp(22, 100), udp(53, 100), tcp(8080, 200), tcp(9, null, { state: 'TimeWait', remoteAddress: '127.0.0.1', remotePort: 1 })], processes: [a, b] });
  const backend = new FakeBackend([base, withNew, withNew, oneClosed, tail]);
  const summary = await record(backend, dir, 5);
  t.equal(summary.opened, 2);
  t.equal(summary.closed, 1);
  t.equal(summary.sets.length, 1);

  const initial = readLogSet(dir, 'PR-INITIAL-');
  t.match(initial, /^Port Reporter Version 1\.01 Log File\r\n\r\nService initialization log\r\n/);
  t.match(initial, /Process ID: 100\r\n[\s\S]*Ports: TCP 22 0\.0\.0\.0 LISTENING; UDP 53 0\.0\.0\.0\r\n/);

  const ports = readLogSet(dir, 'PR-PORTS-');
  const pidsName = `PR-PIDS-${summary.sets[0]}.log`;
  t.match(ports, new RegExp(`Check ${pidsName} for corresponding process data`));
  const rows = ports.split('\r\n').filter((l) => /^\d\d\/\d/.test(l));
  t.equal(rows.length, 2, 'each new endpoint once; initial ones and ownerless TIME_WAIT not in PR-PORTS');
  t.match(rows[0], /^\d\d\/\d{1,2}\/\d{1,2},\d{1,2}:\d{1,2}:\d{1,2},TCP,8080,0\.0\.0\.0,,0\.0\.0\.0,200,prog200,<TESTHOST\\alice>$/);

  const pids = readLogSet(dir, 'PR-PIDS-');
  t.equal(pids.match(/^Process ID: 200\r$/gm)?.length, 1, 'one PIDS block for the two ports of process 200');
  t.match(pids, /Modules \(2\):\r\n \/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6\r\n \/usr\/bin\/prog200\r\n\r\n/);
  t.match(pids, /Services: prog200\.service\r\n/);

  const ev = readEvents(dir);
  t.same(ev.map((e) => e.Event), ['Initial', 'Initial', 'Opened', 'Opened', 'Closed']);
  for (const e of ev) {
    t.same(schemaErrors('record-event.schema.json', e), []);
    t.same(Object.keys(e), schemaKeys('record-event.schema.json'));
  }
  const closed = ev[4]!;
  t.equal(closed.LocalPort, 8081);
  t.type(closed.LifetimeSeconds, 'number');
  t.ok((closed.LifetimeSeconds as number) >= 0.1, 'lifetime spans at least one interval');
  t.equal(closed.ProcessName, 'prog200');
  t.ok(fs.statSync(dir).mode % 0o1000 === 0o700, 'log directory is 0700');
});

t.test('rotation by size: no line lost, each PR-PORTS names its own PR-PIDS, blocks repeated per set', async (t) => {
  const dir = tmpDir(t);
  const p = proc(300);
  const states = Array.from({ length: 30 }, (_, i) => () => ({ endpoints: Array.from({ length: i + 1 }, (_, k) => tcp(10000 + k, 300)), processes: [p] }));
  const summary = await record(new FakeBackend(states), dir, 30, { rotation: { start: true, daily: false, size: true, maxBytes: 4096 } });
  t.equal(summary.opened, 29);
  t.ok(summary.rotations >= 3, `rotated ${summary.rotations} times`);
  const files = fs.readdirSync(dir);
  const portsFiles = files.filter((f) => f.startsWith('PR-PORTS-'));
  t.ok(portsFiles.length >= 3 && portsFiles.length <= summary.rotations + 1, `${portsFiles.length} PR-PORTS files`);
  const seen: number[] = [];
  for (const f of portsFiles) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const suffix = f.slice('PR-PORTS-'.length, -'.log'.length);
    t.match(text, `Check PR-PIDS-${suffix}.log for corresponding process data`);
    const pidsText = fs.readFileSync(path.join(dir, `PR-PIDS-${suffix}.log`), 'utf8');
    t.match(pidsText, /Process ID: 300\r\n/, `${f}: its PIDS file has the process block`);
    for (const m of text.matchAll(/,TCP,(\d+),/g)) seen.push(Number(m[1]));
    t.ok(fs.statSync(path.join(dir, f)).size <= 4096, 'file stays near the limit');
  }
  t.same(seen.sort((x, y) => x - y), Array.from({ length: 29 }, (_, k) => 10001 + k), 'every opened endpoint is in exactly one PR-PORTS');
  t.equal(readEvents(dir).filter((e) => e.Event === 'Opened').length, 29, 'the event log lost nothing either');
});

t.test('restart: a partial last record is cut; without --rotate start the newest set is continued', async (t) => {
  const dir = tmpDir(t);
  const p = proc(400);
  const one = () => ({ endpoints: [tcp(1, 400)], processes: [p] });
  const two = () => ({ endpoints: [tcp(1, 400), tcp(2, 400)], processes: [p] });
  const rotation = { start: false, daily: false, size: true, maxBytes: 5_000_000 };
  const first = await record(new FakeBackend([one, two]), dir, 2, { rotation });
  const suffix = first.sets[0]!;
  t.equal(newestSet(dir), suffix);
  // A torn record as a power cut could leave it (a kill -9 cannot: each record is one write).
  fs.appendFileSync(path.join(dir, `PR-PORTS-${suffix}.log`), '26/1/2,3:4:5,TCP,99');
  fs.appendFileSync(path.join(dir, `PR-PIDS-${suffix}.log`), '='.repeat(64) + '\r\nProcess ID: 77\r\nRecorded: 26');
  fs.appendFileSync(path.join(dir, `PR-EVENTS-${suffix}.jsonl`), '{"TimeUtc":"2026-');
  const warnings: string[] = [];
  const three = () => ({ endpoints: [tcp(1, 400), tcp(2, 400), tcp(3, 400)], processes: [p] });
  const second = await record(new FakeBackend([two, three]), dir, 2, { rotation, warn: (l) => warnings.push(l) });
  t.same(second.sets, [suffix], 'same set continued');
  t.ok(second.repairedBytes > 0);
  t.equal(warnings.filter((w) => /repaired/.test(w)).length, 3, 'each repair reported');
  const ports = fs.readFileSync(path.join(dir, `PR-PORTS-${suffix}.log`), 'utf8');
  t.notMatch(ports, /TCP,99/);
  t.ok(ports.endsWith('\r\n'));
  t.equal(ports.match(/,TCP,3,/g)?.length, 1, 'the new row after the repair');
  const pids = fs.readFileSync(path.join(dir, `PR-PIDS-${suffix}.log`), 'utf8');
  t.equal(pids.match(/Process ID: 400\r\n/g)?.length, 1, 'block not repeated in a continued set');
  t.notMatch(pids, /Process ID: 77/);
  for (const line of fs.readFileSync(path.join(dir, `PR-EVENTS-${suffix}.jsonl`), 'utf8').split('\n').filter(Boolean)) JSON.parse(line);
});
