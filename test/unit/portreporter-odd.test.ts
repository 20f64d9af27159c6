import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { ROOT } from '../helpers/cli';
import { readLineBatches } from '../../src/portreporter/read-lines';
import { readPortReporterRecords, type ReadOptions, type SkippedLine } from '../../src/portreporter/read';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { asctime, BLOCK_SEPARATOR, logHeader, portsRow, processBlock } from '../../src/portreporter/write-format';

const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');
const ORIGINAL_PORTS = fs.readFileSync(path.join(FIX, 'original', 'TEST', 'PR-PORTS-05-07-6-13-44-4.log'));
const ORIGINAL_PIDS = fs.readFileSync(path.join(FIX, 'original', 'TEST', 'PR-PIDS-05-07-6-13-44-4.log'));

function tmpdir(t: { teardown(fn: () => void): void }, name = 'TEST'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parse-odd-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sub = path.join(dir, name);
  fs.mkdirSync(sub);
  return sub;
}

async function read(inputs: string[], options: ReadOptions = {}): Promise<{ records: PortReporterRecord[]; skipped: SkippedLine[] }> {
  const skipped: SkippedLine[] = [];
  const records: PortReporterRecord[] = [];
  for await (const r of readPortReporterRecords(inputs, { utcOffsetMinutes: 0, onSkip: (s) => skipped.push(s), ...options })) records.push(r);
  return { records, skipped };
}

const comparable = (rs: PortReporterRecord[]) => rs.map(({ SourceFile, ...rest }) => rest);

t.test('the same log as UTF-16LE with BOM, UTF-8 with BOM, LF and UTF-16LE without BOM reads the same', async (t) => {
  const dir = tmpdir(t);
  const text = ORIGINAL_PORTS.toString('utf8');
  const variants: Record<string, Buffer> = {
    'utf8.log': ORIGINAL_PORTS,
    'utf16-bom.log': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    'utf8-bom.log': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ORIGINAL_PORTS]),
    'lf.log': Buffer.from(text.replace(/\r\n/g, '\n')),
    'utf16-nobom.log': Buffer.from(text, 'utf16le'),
  };
  for (const [name, bytes] of Object.entries(variants)) fs.writeFileSync(path.join(dir, name), bytes);
  const base = await read([path.join(dir, 'utf8.log')], { computer: 'X' });
  t.equal(base.records.length, 5);
  for (const name of Object.keys(variants)) {
    const r = await read([path.join(dir, name)], { computer: 'X' });
    t.same(r.skipped, [], name);
    t.same(comparable(r.records), comparable(base.records), name);
  }
});

t.test('UTF-16LE split across read chunks at odd offsets', async (t) => {
  const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ORIGINAL_PORTS.toString('utf8'), 'utf16le')]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
  const lines: (string | null | undefined)[] = [];
  for await (const b of readLineBatches(Readable.from(chunks))) lines.push(...b.lines);
  t.equal(lines[0], 'Port Reporter Version 1.01 Log File - Port usage log');
  t.equal(lines[7], '05/7/6,13:44:5,TCP,445,0.0.0.0,,0.0.0.0,4,System,<NT AUTHORITY\\SYSTEM>');
});

t.test('ANSI (Windows-1252) lines are decoded when they are not UTF-8; UTF-8 lines stay UTF-8', async (t) => {
  const dir = tmpdir(t);
  const rows = Buffer.concat([
    ORIGINAL_PORTS.subarray(0, ORIGINAL_PORTS.indexOf('05/7/6')),
    Buffer.from('05/7/6,13:44:5,TCP,445,0.0.0.0,,0.0.0.0,4,System,<TEST\\Jos', 'latin1'),
    Buffer.from([0xe9, 0x80]), // é € in Windows-1252
    Buffer.from('>\r\n', 'latin1'),
    Buffer.from('05/7/6,13:44:6,TCP,446,0.0.0.0,,0.0.0.0,4,System,<TEST\\Zoë>\r\n', 'utf8'),
  ]);
  fs.writeFileSync(path.join(dir, 'PR-PORTS-ansi.log'), rows);
  const { records, skipped } = await read([path.join(dir, 'PR-PORTS-ansi.log')]);
  t.same(skipped, []);
  t.equal(records[0]!.UserName, 'TEST\\José€');
  t.equal(records[1]!.UserName, 'TEST\\Zoë');
});

t.test('a truncated last line is skipped as truncated; a complete last line without CRLF is kept', async (t) => {
  const dir = tmpdir(t);
  const text = ORIGINAL_PORTS.toString('utf8');
  fs.writeFileSync(path.join(dir, 'cut.log'), text.slice(0, text.length - 20));
  fs.writeFileSync(path.join(dir, 'nocrlf.log'), text.slice(0, -2));
  const cut = await read([path.join(dir, 'cut.log')], { strict: true });
  t.equal(cut.records.length, 4);
  t.equal(cut.skipped.length, 1);
  t.match(cut.skipped[0], { line: 12, truncated: true, reason: /truncated last line/ });
  const whole = await read([path.join(dir, 'nocrlf.log')]);
  t.equal(whole.records.length, 5);
  t.same(whole.skipped, []);
});

t.test('files concatenated after rotation: the repeated header starts over, BOM in the middle ignored', async (t) => {
  const dir = tmpdir(t);
  const second = ORIGINAL_PORTS.toString('utf8').replace(/05\/7\/6,/g, '05/7/7,').replace('PR-PIDS-05-07-6-13-44-4.log', 'PR-PIDS-05-07-7-0-0-0.log');
  fs.writeFileSync(path.join(dir, 'all.log'), Buffer.concat([ORIGINAL_PORTS, Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(second)]));
  fs.writeFileSync(path.join(dir, 'PR-PIDS-05-07-6-13-44-4.log'), ORIGINAL_PIDS);
  fs.writeFileSync(path.join(dir, 'PR-PIDS-05-07-7-0-0-0.log'), ORIGINAL_PIDS.toString('utf8').replace(' TEST', ' TEST2'));
  const { records, skipped } = await read([path.join(dir, 'all.log')]);
  t.same(skipped, []);
  t.equal(records.length, 10);
  t.equal(records[0]!.ComputerName, 'TEST');
  t.equal(records[5]!.ComputerName, 'TEST2', 'the second header names another PR-PIDS');
  t.equal(records[5]!.TimeLocal, '2005-07-07T13:44:05');
  t.equal(records[5]!.SourceLine, 20);
});

t.test('malformed lines are skipped with file and line; --strict stops at the first', async (t) => {
  const dir = tmpdir(t);
  const text = ORIGINAL_PORTS.toString('utf8').replace('05/7/6,13:44:9,', '05/13/6,13:44:9,').replace(',UDP,137,', ',XYZ,137,') + 'garbage line\r\n';
  const file = path.join(dir, 'bad.log');
  fs.writeFileSync(file, text);
  const { records, skipped } = await read([file]);
  t.equal(records.length, 3);
  t.same(
    skipped.map((s) => [s.line, s.reason]),
    [
      [9, "bad date or time '05/13/6,13:44:9'"],
      [10, "bad protocol 'XYZ'"],
      [13, 'expected 10 comma-separated fields, found 1'],
    ],
  );
  t.equal(skipped[0]!.file, file);
  await t.rejects(read([file], { strict: true }), { message: `${file}:9: bad date or time '05/13/6,13:44:9'`, exitCode: 65 });
});

t.test('not a Port Reporter log: an error for a named file, passed over in a folder', async (t) => {
  const dir = tmpdir(t);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello\r\n');
  fs.writeFileSync(path.join(dir, 'empty.log'), '');
  fs.writeFileSync(path.join(dir, 'PR-PORTS-05-07-6-13-44-4.log'), ORIGINAL_PORTS);
  await t.rejects(read([path.join(dir, 'notes.txt')]), { message: `not a Port Reporter log: ${path.join(dir, 'notes.txt')}`, exitCode: 65 });
  await t.rejects(read([path.join(dir, 'empty.log')]), { exitCode: 65, message: /not a Port Reporter log/ });
  const { records } = await read([dir]);
  t.equal(records.length, 5);
});

t.test('inputs: globs expanded by the tool, ** across folders, natural order, stdin', async (t) => {
  const root = tmpdir(t, 'logs');
  for (const [sub, suffix, day] of [
    ['A', '05-07-10-0-0-0', '10'],
    ['A', '05-07-9-0-0-0', '9'],
    ['B', '05-07-11-0-0-0', '11'],
  ] as const) {
    fs.mkdirSync(path.join(root, sub), { recursive: true });
    fs.writeFileSync(path.join(root, sub, `PR-PORTS-${suffix}.log`), ORIGINAL_PORTS.toString('utf8').replace(/05\/7\/6,/g, `05/7/${day},`));
  }
  fs.writeFileSync(path.join(root, 'A', 'readme.txt'), 'not a log');
  const days = (rs: PortReporterRecord[]) => [...new Set(rs.map((r) => r.TimeLocal!.slice(8, 10)))];
  t.same(days((await read([path.join(root, 'A', 'PR-PORTS-*.log')])).records), ['09', '10'], 'natural order: 9 before 10');
  t.same(days((await read([path.join(root, '**', 'PR-PORTS-05-07-1?-*.log')])).records), ['10', '11']);
  t.same(days((await read([path.join(root, '*')])).records), ['09', '10', '11'], 'a glob matching folders reads them, skips non-logs');
  const globbed = await read([path.join(root, 'A', '*.log')]);
  t.equal(globbed.records[0]!.ComputerName, 'A', 'folder name when no PR-PIDS says');
  await t.rejects(read([path.join(root, 'nothing-*.log')]), { exitCode: 66, message: /no file matches/ });
  const stdin = await read(['-'], { stdin: Readable.from([ORIGINAL_PORTS]), computer: 'FROM-STDIN' });
  t.equal(stdin.records.length, 5);
  t.match(stdin.records[0], { SourceFile: '-', ComputerName: 'FROM-STDIN' });
});

t.test('fuzz: random bytes, cut lines and huge lines end in errors or skips, never a crash', async (t) => {
  const dir = tmpdir(t);
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const lines = ORIGINAL_PORTS.toString('latin1').split('\r\n');
  for (let i = 0; i < 60; i++) {
    let bytes: Buffer;
    if (i % 3 === 0) {
      bytes = Buffer.alloc(1 + rand(5000));
      for (let j = 0; j < bytes.length; j++) bytes[j] = rand(256);
      if (i % 2 === 0) bytes = Buffer.concat([ORIGINAL_PORTS.subarray(0, 300), bytes]);
    } else if (i % 3 === 1) {
      // Lines cut at random places and shuffled, header kept.
      const cut = lines.map((l) => (rand(3) === 0 ? l.slice(0, rand(l.length + 1)) : l));
      bytes = Buffer.from(cut.join(rand(2) ? '\r\n' : '\n'), 'latin1');
    } else {
      bytes = Buffer.concat([ORIGINAL_PORTS, Buffer.alloc(200_000 + rand(100_000), rand(2) ? 0x41 : 0x2c), Buffer.from('\r\n'), ORIGINAL_PORTS.subarray(200)]);
    }
    const file = path.join(dir, `fuzz-${i}.log`);
    fs.writeFileSync(file, bytes);
    try {
      await read([file], { maxLineBytes: 100_000 });
    } catch (err) {
      t.equal((err as { exitCode?: number }).exitCode, 65, `fuzz ${i}: only "not a Port Reporter log"`);
    }
  }
  t.pass('no crash');
});

t.test('a huge line is dropped without holding it in memory', async (t) => {
  // 64 MiB of one line, streamed: memory must not grow with it.
  const chunk = Buffer.alloc(1 << 20, 0x41);
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent === 0) this.push(ORIGINAL_PORTS);
      if (sent++ < 64) this.push(chunk);
      else {
        this.push(Buffer.from('\r\n05/7/6,13:44:5,TCP,445,0.0.0.0,,0.0.0.0,4,System,<NT AUTHORITY\\SYSTEM>\r\n'));
        this.push(null);
      }
    },
  });
  const before = process.memoryUsage().rss;
  let peak = before;
  const skipped: SkippedLine[] = [];
  const records: PortReporterRecord[] = [];
  for await (const r of readPortReporterRecords(['-'], { stdin: source, utcOffsetMinutes: 0, onSkip: (s) => skipped.push(s) })) {
    records.push(r);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  t.equal(records.length, 6);
  t.match(skipped, [{ line: 13, reason: 'line too long' }]);
  t.ok(peak - before < 48 << 20, `rss grew by ${((peak - before) / 1048576).toFixed(1)} MiB`);
});

t.test('round trip with the recorder: what write-format.ts writes, the reader reads back', async (t) => {
  const dir = tmpdir(t, 'HOSTX');
  const started = new Date(2026, 10, 25, 22, 34, 17);
  const seen = new Date(2026, 10, 25, 22, 40, 2);
  const info = { started, computerName: 'HOSTX', operatingSystem: 'Linux 6.1', generatedBy: 'portqry-ts 0.1.0', pidsFile: 'PR-PIDS-26-11-25-22-34-17.log' };
  const proc = {
    pid: 4410, startTime: new Date('2026-11-25T22:39:50Z'), name: 'curl', path: '/usr/bin/curl', commandLine: 'curl https://example.test/',
    user: 'HOSTX\\alice', services: ['session-2.scope'], modules: ['/usr/lib/x86_64-linux-gnu/libcurl.so.4'], note: null,
  };
  const conn = { protocol: 'TCP' as const, family: 4 as const, localAddress: '10.0.0.5', localPort: 49712, remoteAddress: '203.0.113.7', remotePort: 443, state: 'Established' as const, pid: 4410, creationTime: null };
  const v6listen = { protocol: 'TCP' as const, family: 6 as const, localAddress: '::', localPort: 22, remoteAddress: null, remotePort: null, state: 'Listen' as const, pid: 4410, creationTime: null };
  const udp = { protocol: 'UDP' as const, family: 4 as const, localAddress: '0.0.0.0', localPort: 68, remoteAddress: null, remotePort: null, state: null, pid: null, creationTime: null };
  fs.writeFileSync(path.join(dir, 'PR-PORTS-26-11-25-22-34-17.log'), logHeader('PORTS', info) + portsRow(conn, proc, seen) + portsRow(v6listen, proc, seen) + portsRow(udp, null, seen));
  fs.writeFileSync(path.join(dir, 'PR-PIDS-26-11-25-22-34-17.log'), logHeader('PIDS', info) + processBlock(4410, proc, [conn, v6listen], seen));
  fs.writeFileSync(path.join(dir, 'PR-INITIAL-26-11-25-22-34-17.log'), logHeader('INITIAL', info) + processBlock(4410, proc, [conn, v6listen], started));
  const { records, skipped } = await read([dir], { utcOffsetMinutes: undefined });
  t.same(skipped, []);
  t.equal(asctime(started).length, 24);
  t.equal(BLOCK_SEPARATOR.length, 64);
  const initial = records.filter((r) => r.Event === 'Initial');
  const opened = records.filter((r) => r.Event === 'Opened');
  t.equal(initial.length, 2);
  t.equal(opened.length, 3);
  t.match(opened[0], {
    ComputerName: 'HOSTX', TimeUtc: seen.toISOString(), Protocol: 'TCP', LocalAddress: '10.0.0.5', LocalPort: 49712, RemoteAddress: '203.0.113.7', RemotePort: 443,
    State: 'Established', OwningProcess: 4410, ProcessName: 'curl', ProcessPath: '/usr/bin/curl', CommandLine: 'curl https://example.test/', UserName: 'HOSTX\\alice',
    Services: ['session-2.scope'], Modules: ['/usr/lib/x86_64-linux-gnu/libcurl.so.4'], ProcessStartTime: '2026-11-25T22:39:50.000Z',
  });
  t.match(opened[1], { LocalAddress: '::', RemoteAddress: '::', RemotePort: null, State: 'Listen' });
  t.match(opened[2], { Protocol: 'UDP', OwningProcess: null, ProcessName: null, UserName: null, RemoteAddress: null });
  t.match(initial[0], { RemoteAddress: '203.0.113.7', RemotePort: 443, State: 'Established', TimeUtc: started.toISOString() });
  t.match(initial[1], { LocalAddress: '::', State: 'Listen' });
});

t.test('a PR-PIDS body in an unknown layout (the original) is one warning for the file, not one per line', async (t) => {
  const dir = tmpdir(t);
  fs.writeFileSync(path.join(dir, 'PR-PORTS-05-07-6-13-44-4.log'), ORIGINAL_PORTS);
  fs.writeFileSync(path.join(dir, 'PR-PIDS-05-07-6-13-44-4.log'), `${ORIGINAL_PIDS.toString('utf8')}PID: 4\r\nModule: ntoskrnl.exe\r\n\r\nPID: 1020\r\n`);
  const { records, skipped } = await read([path.join(dir, 'PR-PORTS-05-07-6-13-44-4.log')]);
  t.equal(records.length, 5);
  t.equal(records[0]!.ComputerName, 'TEST');
  t.match(skipped, [{ line: 14, reason: /^3 lines of process detail in an unknown layout/ }]);
  t.equal(skipped.length, 1);
});
