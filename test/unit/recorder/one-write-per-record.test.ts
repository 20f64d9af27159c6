/**
 * The recorder's crash safety rests on one write() per record to files opened O_APPEND: a kill -9
 * between two writes then leaves only whole records. append-file.test.ts proves it for AppendFile;
 * this proves it for the writer above it (a writer that sent a PIDS block or a PORTS row in two
 * append() calls, or a record spread over two files in the wrong order, passes AppendFile's test).
 */
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { LogWriter } from '../../../src/portreporter/write-log';
import { proc, tcp, udp } from '../../helpers/fake-backend';

process.env.TZ = 'UTC';

/** Every fs.writeSync while `fn` runs: the file (by its descriptor's path) and the bytes. */
function captureWrites(fn: () => void): { file: string; text: string }[] {
  const cjs = createRequire(import.meta.url)('node:fs') as { writeSync: (fd: number, buf: Buffer) => number };
  const real = cjs.writeSync;
  const writes: { file: string; text: string }[] = [];
  cjs.writeSync = (fd: number, buf: Buffer) => {
    writes.push({ file: path.basename(fs.readlinkSync(`/proc/self/fd/${fd}`)), text: Buffer.from(buf).toString('utf8') });
    return real(fd, buf);
  };
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    cjs.writeSync = real;
    syncBuiltinESMExports();
  }
  return writes;
}

const PIDS_SEPARATOR = '='.repeat(64);

/** What one whole record of each file looks like; anything else in one write() is a torn or merged record. */
function isOneRecord(file: string, text: string): boolean {
  if (file.startsWith('PR-PORTS-')) return /^[^\r\n]*\r\n$/.test(text);
  if (file.startsWith('PR-EVENTS-')) return /^[^\n]*\n$/.test(text) && typeof JSON.parse(text) === 'object';
  // PR-PIDS and PR-INITIAL: one block, from its separator to its blank line.
  return text.startsWith(PIDS_SEPARATOR) && text.endsWith('\r\n\r\n') && text.split(PIDS_SEPARATOR).length === 2;
}

t.test('the writer sends each record (PORTS row, PIDS block, INITIAL block, event line) in exactly one write()', { skip: process.platform === 'linux' ? false : 'reads /proc/self/fd (Linux)' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-onewrite-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const now = new Date(Date.UTC(2026, 11, 4, 9, 0, 0));
  const writer = LogWriter.open(
    {
      dir: path.join(dir, 'logs'),
      rotation: { start: true, daily: false, size: false, maxBytes: 0 },
      jsonl: true,
      header: { computerName: 'TEST', operatingSystem: 'Linux', generatedBy: 'portqry-ts test' },
      warn: () => {},
    },
    now,
  );
  const a = proc(100, { name: 'svchost.exe', services: ['Dnscache'], modules: ['C:\\Windows\\System32\\ntdll.dll'] });
  const b = proc(200, { name: 'sqlservr.exe' });
  const aEndpoints = [tcp(135, 100), udp(5353, 100)];
  const bEndpoints = [tcp(1433, 200), tcp(50000, 200, { remoteAddress: '127.0.0.2', remotePort: 1433, state: 'Established' })];
  const writes = captureWrites(() => {
    writer.initial([{ pid: 100, process: a, endpoints: aEndpoints }, { pid: 200, process: b, endpoints: bEndpoints }], now);
    for (const e of aEndpoints) writer.port(e, a, now, aEndpoints);
    for (const e of bEndpoints) writer.port(e, b, now, bEndpoints);
    writer.port(tcp(8080, null), null, now, []);
    for (let i = 0; i < 3; i++) writer.event({ Event: 'Opened', LocalPort: 40000 + i }, now);
    writer.flush(now);
  });
  writer.close(now);

  const kind = (file: string) => /^PR-([A-Z]+)-/.exec(file)![1]!;
  const perFile: Record<string, number> = {};
  for (const w of writes) perFile[kind(w.file)] = (perFile[kind(w.file)] ?? 0) + 1;
  t.same(perFile, { INITIAL: 2, PIDS: 2, PORTS: 5, EVENTS: 3 }, 'one write per record: 2 initial blocks, 2 PIDS blocks (one per process), 5 rows, 3 events');
  t.same(
    writes.filter((w) => !isOneRecord(w.file, w.text)).slice(0, 3),
    [],
    'every write is exactly one whole record (first offenders shown)',
  );
  t.same(
    writes.map((w) => kind(w.file)),
    ['INITIAL', 'INITIAL', 'PIDS', 'PORTS', 'PORTS', 'PIDS', 'PORTS', 'PORTS', 'PORTS', 'EVENTS', 'EVENTS', 'EVENTS'],
    "in order: a process's PIDS block before its first PORTS row",
  );
});
