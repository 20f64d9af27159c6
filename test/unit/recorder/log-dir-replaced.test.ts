import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { EventId, type EventLevel, type EventLog } from '../../../src/eventlog/types';
import { runRecorder } from '../../../src/recorder/recorder';
import { FakeBackend, proc, tcp } from '../../helpers/fake-backend';
import { readLogSet } from '../../helpers/recorder-logs';

class MemoryEventLog implements EventLog {
  readonly messages: { level: EventLevel; message: string; eventId?: number }[] = [];
  write(level: EventLevel, message: string, eventId?: number): void {
    this.messages.push({ level, message, eventId });
  }
  close(): void {}
}

/** Records while `between(poll)` changes the folder after each poll; port 100+n opens at poll n. */
async function recordWith(logDir: string, polls: number, between: (poll: number) => void) {
  const p = proc(5);
  const backend = new FakeBackend(Array.from({ length: polls }, (_, i) => () => ({ endpoints: Array.from({ length: i + 1 }, (_, k) => tcp(100 + k, 5)), processes: [p] })));
  const controller = new AbortController();
  const warnings: string[] = [];
  const eventLog = new MemoryEventLog();
  const summary = await runRecorder({
    backend,
    intervalMs: 50,
    durationMs: null,
    logDir,
    rotation: { start: true, daily: false, size: true, maxBytes: 5_000_000 },
    jsonl: true,
    generatedBy: 'portqry-ts test',
    signal: controller.signal,
    warn: (l) => warnings.push(l),
    eventLog,
    onPoll: ({ polls: n }) => {
      between(n);
      if (n >= polls) controller.abort();
    },
  });
  return { summary, warnings, eventLog };
}

t.test('the log directory deleted while recording: noticed at the next poll, recreated 0700, a warning and an event, later rows in the new files', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-gone-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const logs = path.join(base, 'logs');
  const { warnings, eventLog } = await recordWith(logs, 4, (n) => {
    if (n === 2) fs.rmSync(logs, { recursive: true });
  });
  t.ok(fs.existsSync(logs), 'recreated');
  t.equal(fs.statSync(logs).mode & 0o777, 0o700);
  const ports = readLogSet(logs, 'PR-PORTS-');
  t.match(ports, /,TCP,102,/, 'the row of poll 3 is in the recreated folder');
  t.match(ports, /,TCP,103,/);
  t.equal(warnings.filter((w) => /log directory .* (disappeared|was replaced)/.test(w)).length, 1, `one warning: ${warnings.join(' | ')}`);
  const ev = eventLog.messages.filter((m) => m.eventId === EventId.LogDirReplaced);
  t.equal(ev.length, 1, 'one LogDirReplaced event');
  t.equal(ev[0]?.level, 'warning');
  t.match(ev[0]?.message, logs);
});

t.test('the log directory replaced (renamed away, another put in its place): nothing more written into the old files', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-swap-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const logs = path.join(base, 'logs');
  const old = path.join(base, 'logs.old');
  const { warnings } = await recordWith(logs, 4, (n) => {
    if (n === 2) {
      fs.renameSync(logs, old);
      fs.mkdirSync(logs, { mode: 0o700 });
    }
  });
  const oldPorts = readLogSet(old, 'PR-PORTS-');
  t.match(oldPorts, /,TCP,101,/, 'poll 2 went to the old folder');
  t.notMatch(oldPorts, /,TCP,10[23],/, 'nothing after the swap went into the moved-away files');
  const ports = readLogSet(logs, 'PR-PORTS-');
  t.match(ports, /,TCP,102,[\s\S]*,TCP,103,/, 'later rows in the folder now at the path');
  t.ok(warnings.some((w) => /was replaced/.test(w)), warnings.join(' | '));
});

t.test('a log file deleted while recording (the folder stays): a new set is started instead of writing into the unlinked file', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-unlinked-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const logs = path.join(base, 'logs');
  const { warnings, summary } = await recordWith(logs, 4, (n) => {
    if (n === 2) for (const f of fs.readdirSync(logs)) if (f.startsWith('PR-PORTS-')) fs.unlinkSync(path.join(logs, f));
  });
  t.match(readLogSet(logs, 'PR-PORTS-'), /,TCP,102,[\s\S]*,TCP,103,/, 'rows after the deletion are on disk');
  t.equal(summary.sets.length, 2, 'a new set');
  t.ok(warnings.some((w) => /deleted or replaced/.test(w)), warnings.join(' | '));
});
