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
import { proc, tcp } from '../../helpers/fake-backend';

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
