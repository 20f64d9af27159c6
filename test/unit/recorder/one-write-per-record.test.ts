/**
 * "kill -9 at any moment leaves whole lines" rests on one append write() per record: a recorder that
 * wrote a record in two write() calls passed the old single-kill test and every unit test (issue 14).
 * Here every write to the log files is counted through fs.writeSync (the one call AppendFile uses) and
 * each must end exactly at a record's end.
 */
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import type { Endpoint, ProcessInfo } from '../../../src/platform/types';
import { LogWriter } from '../../../src/portreporter/write-log';

const nodeFs = createRequire(import.meta.url)('node:fs') as typeof fs;

t.test('each PORTS row, PIDS block and JSONL event is one writeSync ending at its record end', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'one-write-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const writes: { fd: number; text: string }[] = [];
  const original = nodeFs.writeSync;
  (nodeFs as { writeSync: unknown }).writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(data) || typeof data === 'string') writes.push({ fd, text: String(data) });
    return (original as (...a: unknown[]) => number)(fd, data, ...rest);
  };
  syncBuiltinESMExports();
  t.teardown(() => {
    (nodeFs as { writeSync: unknown }).writeSync = original;
    syncBuiltinESMExports();
  });

  const now = new Date(2026, 11, 4, 9, 0, 0);
  const writer = LogWriter.open(
    { dir, rotation: { start: true, daily: false, size: false, maxBytes: 1 << 30 } as never, jsonl: true, header: { computerName: 'HOST', operatingSystem: 'Linux', generatedBy: 'portqry-ts test' }, warn: () => {} },
    now,
  );
  const before = writes.length;
  const proc = { pid: 42, startTime: now, name: 'app', path: '/usr/bin/app', commandLine: 'app --serve', user: 'HOST\\bob', services: [], modules: ['/lib/libc.so.6'], note: null } as unknown as ProcessInfo;
  const endpoints: Endpoint[] = Array.from({ length: 20 }, (_, i) => ({ protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 40000 + i, remoteAddress: '127.0.0.1', remotePort: 443, state: 'Established', pid: 42, creationTime: null }) as Endpoint);
  for (const e of endpoints) {
    writer.port(e, proc, now, endpoints);
    writer.event({ Event: 'Opened', LocalPort: e.localPort }, now);
  }
  writer.flush(now);
  const counted = writes.slice(before);
  writer.close(now);
  const rows = counted.filter((w) => /^\d+\/\d+\/\d+,/.test(w.text));
  const blocks = counted.filter((w) => w.text.includes('Process ID:'));
  const events = counted.filter((w) => w.text.startsWith('{'));
  t.same([rows.length, blocks.length, events.length], [20, 1, 20], '20 rows, one PIDS block (first use of the process), 20 events: one write each');
  t.same(
    counted.filter((w) => !w.text.endsWith('\n')).map((w) => w.text.slice(0, 60)),
    [],
    'every write ends at a line end (no record split across writes)',
  );
  t.equal(rows.filter((w) => w.text.split('\n').length !== 2).length, 0, 'one PORTS row per write');
});
