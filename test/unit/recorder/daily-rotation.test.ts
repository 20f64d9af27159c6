/**
 * Daily rotation with an injected clock: the writer is handed the wall-clock time of each record, as
 * the recorder hands it each snapshot's time. "Daily" is local midnight (src/portreporter/daily.ts);
 * the zone is Europe/Berlin (CET/CEST) so that the DST nights are real ones.
 */
process.env.TZ = 'Europe/Berlin';

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { LogWriter, type RotationPolicy } from '../../../src/portreporter/write-log';
import { FakeBackend, proc, tcp } from '../../helpers/fake-backend';
import { runRecorder } from '../../../src/recorder/recorder';

const daily: RotationPolicy = { start: false, daily: true, size: false, maxBytes: 1e9 };

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-daily-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'logs');
}

/** Writes one PORTS row (port n) at each UTC instant; returns the writer's sets and which set each port went to. */
function writeAt(dir: string, instants: string[], rotation = daily) {
  const p = proc(5);
  const w = LogWriter.open({ dir, rotation, jsonl: false, header: { computerName: 'H', operatingSystem: 'Linux', generatedBy: 'test' }, warn: () => {} }, new Date(instants[0]!));
  instants.forEach((iso, n) => {
    const at = new Date(iso);
    w.port(tcp(1000 + n, 5), p, at, [tcp(1000 + n, 5)]);
    w.flush(at);
  });
  w.close(new Date(instants.at(-1)!));
  const where: Record<number, string> = {};
  for (const f of fs.readdirSync(dir).filter((x) => x.startsWith('PR-PORTS-'))) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/,TCP,(\d+),/g)) where[Number(m[1]) - 1000] = f.slice('PR-PORTS-'.length, -4);
  }
  return { sets: [...w.setsWritten], where };
}

t.test('the zone is really Europe/Berlin here', async (t) => {
  t.equal(new Date('2026-07-01T12:00:00Z').getHours(), 14, 'CEST');
  t.equal(new Date('2026-12-01T12:00:00Z').getHours(), 13, 'CET');
});

t.test('across local midnight: a new set at 00:00 local, not at 00:00 UTC', async (t) => {
  const { sets, where } = writeAt(tmpDir(t), [
    '2026-12-04T22:59:58Z', // 23:59:58 CET, Dec 4
    '2026-12-04T23:00:01Z', // 00:00:01 CET, Dec 5: new day
    '2026-12-05T00:00:01Z', // 01:00:01 CET: UTC midnight, same local day
  ]);
  t.same(sets, ['26-12-4-23-59-58', '26-12-5-0-0-1']);
  t.same(where, { 0: '26-12-4-23-59-58', 1: '26-12-5-0-0-1', 2: '26-12-5-0-0-1' });
});

t.test('the autumn DST night (25 hours, 02:00-03:00 twice): one rotation at local midnight, none in the repeated hour', async (t) => {
  const { sets, where } = writeAt(tmpDir(t), [
    '2026-10-24T21:59:59Z', // 23:59:59 CEST, Oct 24
    '2026-10-24T22:00:01Z', // 00:00:01 CEST, Oct 25
    '2026-10-25T00:30:00Z', // 02:30 CEST
    '2026-10-25T01:30:00Z', // 02:30 CET, the same wall time again
    '2026-10-25T22:59:59Z', // 23:59:59 CET, 25 hours after midnight
    '2026-10-25T23:00:01Z', // 00:00:01 CET, Oct 26
  ]);
  t.same(sets, ['26-10-24-23-59-59', '26-10-25-0-0-1', '26-10-26-0-0-1']);
  t.same(Object.values(where), ['26-10-24-23-59-59', '26-10-25-0-0-1', '26-10-25-0-0-1', '26-10-25-0-0-1', '26-10-25-0-0-1', '26-10-26-0-0-1']);
});

t.test('the spring DST night (23 hours, 02:00-03:00 skipped): rotation at each local midnight only', async (t) => {
  const { sets } = writeAt(tmpDir(t), [
    '2026-03-28T22:59:59Z', // 23:59:59 CET, Mar 28
    '2026-03-28T23:00:01Z', // 00:00:01 CET, Mar 29
    '2026-03-29T01:00:00Z', // 03:00 CEST (02:00 CET became 03:00 CEST)
    '2026-03-29T21:59:59Z', // 23:59:59 CEST: 23 hours after midnight
    '2026-03-29T22:00:01Z', // 00:00:01 CEST, Mar 30
  ]);
  t.same(sets, ['26-03-28-23-59-59', '26-03-29-0-0-1', '26-03-30-0-0-1']);
});

t.test('a backward wall-clock step across midnight does not start another set; a jump of days starts one', async (t) => {
  const { sets } = writeAt(tmpDir(t), [
    '2026-12-04T22:59:00Z', // 23:59 Dec 4
    '2026-12-04T23:00:30Z', // 00:00:30 Dec 5: rotation
    '2026-12-04T22:59:50Z', // the clock stepped back to 23:59:50 Dec 4
    '2026-12-04T23:00:40Z', // and forward again
    '2026-12-08T10:00:00Z', // a suspended machine wakes up days later: one new set
  ]);
  t.same(sets, ['26-12-4-23-59-0', '26-12-5-0-0-30', '26-12-8-11-0-0']);
});

t.test('restart without --rotate start: the newest set is continued the same local day, a new one after midnight', async (t) => {
  const dir = tmpDir(t);
  t.same(writeAt(dir, ['2026-12-04T21:00:00Z']).sets, ['26-12-4-22-0-0']);
  t.same(writeAt(dir, ['2026-12-04T22:30:00Z']).sets, ['26-12-4-22-0-0'], '23:30 the same day: continued');
  t.same(writeAt(dir, ['2026-12-04T23:30:00Z']).sets, ['26-12-5-0-30-0'], '00:30 the next day: a new set');
});

t.test('through the recorder: the snapshot time decides (a fake backend whose clock crosses midnight)', async (t) => {
  const dir = tmpDir(t);
  const times = ['2026-12-04T22:59:59.5Z', '2026-12-04T22:59:59.8Z', '2026-12-04T23:00:00.2Z', '2026-12-04T23:00:00.6Z'];
  const p = proc(7);
  const backend = new FakeBackend(times.map((_, i) => () => ({ endpoints: Array.from({ length: i + 1 }, (_, k) => tcp(2000 + k, 7)), processes: [p] })));
  const realSnapshot = backend.snapshot.bind(backend);
  backend.snapshot = async () => ({ ...(await realSnapshot()), takenAt: new Date(times[backend.calls - 1] ?? times.at(-1)!) });
  const controller = new AbortController();
  const summary = await runRecorder({
    backend,
    intervalMs: 10,
    durationMs: null,
    logDir: dir,
    rotation: { ...daily, start: true },
    jsonl: false,
    generatedBy: 'test',
    signal: controller.signal,
    warn: () => {},
    onPoll: ({ polls }) => polls >= times.length && controller.abort(),
  });
  t.same(summary.sets, ['26-12-4-23-59-59', '26-12-5-0-0-0']);
  t.equal(summary.rotations, 1);
});
