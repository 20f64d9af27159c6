import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { listSets } from '../../../src/portreporter/log-set';
import { applyRetention, setsToRemove } from '../../../src/portreporter/retention';
import { parseSize } from '../../../src/recorder/options';
import { runRecorder } from '../../../src/recorder/recorder';
import { FakeBackend, proc, tcp } from '../../helpers/fake-backend';

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-keep-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'logs');
}

const set = (suffix: string, bytes: number, mtimeMs: number) => ({ suffix, files: [], bytes, mtimeMs });

t.test('setsToRemove: oldest first, whole sets, never the current one', async (t) => {
  const sets = [set('a', 100, 1), set('b', 100, 2), set('c', 100, 3), set('cur', 100, 4)];
  t.same(setsToRemove(sets, 'cur', { keep: 2, maxTotalBytes: null }).map((s) => s.suffix), ['a', 'b']);
  t.same(setsToRemove(sets, 'cur', { keep: 10, maxTotalBytes: null }), []);
  t.same(setsToRemove(sets, 'cur', { keep: null, maxTotalBytes: 250 }).map((s) => s.suffix), ['a', 'b'], '400 → 200 bytes');
  t.same(setsToRemove(sets, 'cur', { keep: 3, maxTotalBytes: 150 }).map((s) => s.suffix), ['a', 'b', 'c'], 'both limits: the stricter wins');
  t.same(setsToRemove([set('cur', 10_000, 1)], 'cur', { keep: 1, maxTotalBytes: 10 }), [], 'the current set alone is never removed, even too big');
  t.same(setsToRemove(sets, 'not-yet-listed', { keep: 1, maxTotalBytes: null }).length, 4, 'a current set not on disk yet still counts as one');
});

t.test('applyRetention on a folder: the four files of a set go together; other files stay', async (t) => {
  const dir = tmpDir(t);
  fs.mkdirSync(dir, { mode: 0o700 });
  const suffixes = ['26-12-1-0-0-0', '26-12-2-0-0-0', '26-12-3-0-0-0'];
  suffixes.forEach((s, i) => {
    for (const f of [`PR-INITIAL-${s}.log`, `PR-PORTS-${s}.log`, `PR-PIDS-${s}.log`, `PR-EVENTS-${s}.jsonl`]) {
      fs.writeFileSync(path.join(dir, f), 'x'.repeat(10));
      const when = new Date(Date.UTC(2026, 11, 1 + i));
      fs.utimesSync(path.join(dir, f), when, when);
    }
  });
  fs.writeFileSync(path.join(dir, 'README.txt'), 'not ours');
  t.same(listSets(dir).map((s) => [s.suffix, s.files.length, s.bytes]), suffixes.map((s) => [s, 4, 40]));
  const r = applyRetention(dir, suffixes[2]!, { keep: 1, maxTotalBytes: null });
  t.same(r.removed, suffixes.slice(0, 2));
  t.equal(r.bytesRemoved, 80);
  t.equal(r.bytesKept, 40);
  t.same(fs.readdirSync(dir).sort(), ['PR-EVENTS-26-12-3-0-0-0.jsonl', 'PR-INITIAL-26-12-3-0-0-0.log', 'PR-PIDS-26-12-3-0-0-0.log', 'PR-PORTS-26-12-3-0-0-0.log', 'README.txt']);
});

t.test('--keep while recording with size rotation: at most N sets on disk, the newest ones, current included', async (t) => {
  const dir = tmpDir(t);
  const p = proc(300);
  const states = Array.from({ length: 30 }, (_, i) => () => ({ endpoints: Array.from({ length: i + 1 }, (_, k) => tcp(10000 + k, 300)), processes: [p] }));
  const controller = new AbortController();
  const summary = await runRecorder({
    backend: new FakeBackend(states),
    intervalMs: 5,
    durationMs: null,
    logDir: dir,
    rotation: { start: true, daily: false, size: true, maxBytes: 2048 },
    retention: { keep: 2, maxTotalBytes: null },
    jsonl: true,
    generatedBy: 'test',
    signal: controller.signal,
    warn: () => {},
    onPoll: ({ polls }) => polls >= 30 && controller.abort(),
  });
  t.ok(summary.rotations >= 4, `${summary.rotations} rotations`);
  const left = listSets(dir).map((s) => s.suffix);
  t.equal(left.length, 2);
  t.same(left, summary.sets.slice(-2), 'the two newest sets, the current one last');
  t.equal(summary.setsRemoved, summary.sets.length - 2);
  for (const s of left) t.ok(fs.existsSync(path.join(dir, `PR-PIDS-${s}.log`)), `${s}: PORTS kept with its PIDS`);
});

t.test('--max-total: older sets from earlier runs removed at start until the folder fits', async (t) => {
  const dir = tmpDir(t);
  fs.mkdirSync(dir, { mode: 0o700 });
  for (let i = 0; i < 5; i++) {
    const f = path.join(dir, `PR-PORTS-26-11-${i + 1}-0-0-0.log`);
    fs.writeFileSync(f, `${'x'.repeat(99_998)}\r\n`);
    const when = new Date(Date.UTC(2026, 10, 1 + i));
    fs.utimesSync(f, when, when);
  }
  const controller = new AbortController();
  const summary = await runRecorder({
    backend: new FakeBackend([() => ({ endpoints: [tcp(1, 1)], processes: [proc(1)] })]),
    intervalMs: 5,
    durationMs: null,
    logDir: dir,
    rotation: { start: true, daily: false, size: false, maxBytes: 1e9 },
    retention: { keep: null, maxTotalBytes: 250_000 },
    jsonl: false,
    generatedBy: 'test',
    signal: controller.signal,
    warn: () => {},
    onPoll: ({ polls }) => polls >= 2 && controller.abort(),
  });
  const left = listSets(dir);
  t.same(left.slice(0, -1).map((s) => s.suffix), ['26-11-4-0-0-0', '26-11-5-0-0-0'], 'the two newest old sets fit beside the current one');
  t.equal(left.at(-1)!.suffix, summary.sets[0]);
  t.equal(summary.setsRemoved, 3);
  t.ok(left.reduce((n, s) => n + s.bytes, 0) <= 250_000);
});

t.test('parseSize: 500MB, 2GB, 750K, bytes; bad values are usage errors', async (t) => {
  t.equal(parseSize('--max-total', '500MB'), 500 * 1024 * 1024);
  t.equal(parseSize('--max-total', '2 GB'), 2 * 1024 ** 3);
  t.equal(parseSize('--max-total', '1.5g'), 1.5 * 1024 ** 3);
  t.equal(parseSize('--max-total', '750K'), 750 * 1024);
  t.equal(parseSize('--max-total', '4096'), 4096);
  for (const bad of ['', 'MB', '-5MB', '10 parsecs', '1']) t.throws(() => parseSize('--max-total', bad), { exitCode: 64, message: /invalid --max-total/ }, `'${bad}'`);
});
