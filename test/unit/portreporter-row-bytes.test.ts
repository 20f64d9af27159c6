import { Readable } from 'node:stream';
import t from 'tap';
import { readLineBatches } from '../../src/portreporter/read-lines';
import { feedLine, LogParser, type SkippedLine } from '../../src/portreporter/read-log';
import { parsePortsRow, type RowContext } from '../../src/portreporter/read-ports';
import { createByteRowState, parsePortsBytes, scanRepeatedRow } from '../../src/portreporter/read-ports-bytes';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { createLocalClock } from '../../src/portreporter/time';
import { prng } from '../helpers/prng';
import { JsonBytes, writeRecordJson } from '../../src/output/record-kind';
import { ProcessIndex } from '../../src/portreporter/correlate';
import type { EncodeTarget } from '../../src/portreporter/ports-row-json';
import type { ProcessDetail } from '../../src/portreporter/read-process';
import { PortReporterRecordKind } from '../../src/portreporter/record-kind';

// The byte reader (read-ports-bytes.ts) may read a row only when it gives parsePortsRow's record for the
// decoded line; for anything else it must step aside (undefined). Both readers keep state between rows
// (the last second, each PID's names, an address cache), so rows are compared in long sequences where
// neighbours differ by a character, not one by one in fresh contexts.

const ctx = (): RowContext => ({ clock: createLocalClock(90), computerName: 'SRV', sourceFile: 'x.log' });

const IMAGES = ['svchost.exe', 'w3wp.exe', 'System', '', 'lsass.exe', 'sqlservr.exe', 'a,b.exe'];
const USERS = ['<NT AUTHORITY\\SYSTEM>', '<IIS APPPOOL\\DefaultAppPool>', '', '<CONTOSO\\carol>', ' <X\\y> ', '<>', '<A,B\\c,d>', 'plain'];
const LOCALS = ['192.168.10.21', '0.0.0.0', '2001:db8:10::21', '::', '127.0.0.1', 'fe80::1%12', '010.0.0.1', '255.255.255.255'];

function baseRow(rnd: () => number): string {
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;
  const n = (max: number) => Math.floor(rnd() * max);
  const time = `${n(3) + 25}/${n(12) + 1}/${n(28) + 1},${n(24)}:${n(60)}:${n(60)}`;
  const proto = pick(['TCP', 'TCP', 'UDP']);
  const remote = pick([`10.${n(256)}.${n(256)}.${n(256)}`, `172.16.${n(256)}.${n(256)}`, `2001:db8:${n(65536).toString(16)}::${n(65536).toString(16)}`, '0.0.0.0', '*', '']);
  const rport = pick([String(n(65536)), '0', '', '*', String(49152 + n(16384))]);
  return `${time},${proto},${n(65536)},${pick(LOCALS)},${rport},${remote},${pick(['4', '1234', '61740', String(n(100000))])},${pick(IMAGES)},${pick(USERS)}`;
}

const MUTATIONS = [',', '*', '0', '9', ':', '.', '%', ' ', '\u00e9', '\t', 'a', 't', 'u', '<', '>', '/', '-', '\ufeff', '\u0000', '65536', '999999'];

function mutate(row: string, rnd: () => number): string {
  const at = Math.floor(rnd() * (row.length + 1));
  const what = rnd();
  const piece = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)]!;
  if (what < 0.4) return row.slice(0, at) + piece + row.slice(at + 1);
  if (what < 0.7) return row.slice(0, at) + piece + row.slice(at);
  return row.slice(0, at) + row.slice(at + 1);
}

const json = (r: PortReporterRecord | string): string => JSON.stringify(r);

t.test('byte reader and text reader give the same record for every row, in one long sequence', async (t) => {
  const rnd = prng(20261205);
  const text = ctx();
  const both = ctx();
  const memory = createByteRowState();
  let byBytes = 0;
  let rows = 0;
  let bad = 0;
  let previous = baseRow(rnd);
  let mismatches = 0;
  let repeated = 0;
  for (let i = 0; i < 60_000; i++) {
    // Neighbours: often the previous row again, or with one change; sometimes a new row.
    const choice = rnd();
    const line = choice < 0.3 ? previous : choice < 0.75 ? mutate(previous, rnd) : baseRow(rnd);
    if (choice >= 0.75 || rnd() < 0.5) previous = line;
    const expected = parsePortsRow(line, i, text);
    // The row inside a larger buffer, between bytes that would make a row of their own: the reader
    // must not look past its end (nor before its start).
    const bytes = Buffer.from(`7,0.0.0.0,1,*,*,1,x,<y>\n${line}${i % 2 ? ',' : '*,'}0.0.0.0,1,2,3`, 'utf8');
    const from = bytes.indexOf(10) + 1;
    const to = from + Buffer.byteLength(line, 'utf8');
    // The one-pass reader of repeated rows must be exercised (what it declines, scanAnyRow reads after it).
    if (scanRepeatedRow(bytes, from, to, both, memory, true)) repeated++;
    const fast = parsePortsBytes(bytes, from, to, i, both, memory);
    const got = fast ?? parsePortsRow(line, i, both);
    rows++;
    if (fast !== undefined) byBytes++;
    if (typeof expected === 'string') bad++;
    if (json(got) !== json(expected) && mismatches++ < 5) t.fail(`row ${JSON.stringify(line)}: ${json(got)} != ${json(expected)}`);
  }
  t.equal(mismatches, 0, 'every record equal');
  // The comparison means something only if both kinds of rows were plentiful.
  t.ok(byBytes > rows * 0.4, `byte reader read ${byBytes} of ${rows} rows`);
  t.ok(repeated > rows * 0.15, `the repeated-row reader read ${repeated} of ${rows} rows`);
  t.ok(bad > rows * 0.05, `${bad} malformed rows were compared`);
});

t.test('rows the byte reader leaves to the text reader', async (t) => {
  const good = '26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2,4,System,<NT AUTHORITY\\SYSTEM>';
  const cases: [string, string][] = [
    [good.replace('TCP', 'tcp'), 'lower-case protocol'],
    [good.replace('System', 'Syst\u00e8m'), 'non-ASCII image'],
    [good.replace('SYSTEM', 'SYST\u00c8M'), 'non-ASCII user'],
    [good.replace(',4,', ',,'), 'empty PID'],
    ['26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2,4,System', 'nine fields'],
    ['26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2,4', 'eight fields (no process name)'],
    ['26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2', 'seven fields (Windows 2000)'],
    [good.replace('0:0:5', '25:0:5'), 'bad time'],
    [good.replace('389', '65536'), 'local port too large'],
    [good.replace('10.0.0.2', '10.0.0.256'), 'bad remote address'],
    [good.replace('10.0.0.1', ''), 'empty local address'],
  ];
  for (const [line, why] of cases) {
    const bytes = Buffer.from(line, 'utf8');
    t.equal(parsePortsBytes(bytes, 0, bytes.length, 9, ctx(), createByteRowState()), undefined, why);
  }
  const bytes = Buffer.from(good, 'utf8');
  const r = parsePortsBytes(bytes, 0, bytes.length, 9, ctx(), createByteRowState());
  t.same(r, parsePortsRow(good, 9, ctx()), 'a plain row is read from its bytes, as the text reader reads it');
});

t.test('IPv6 addresses: the byte reader accepts what the text reader accepts, JSON path too', async (t) => {
  const addresses = [
    '::', '::1', '1::', '1::2', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3::6:7:8', 'ABCD:ef01::FfFf', '2001:db8:10::21',
    '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', ':::', '1:::2', '1::2::3', ':1::', '1:', ':1', '1:2:', '12345::1',
    'g::1', '1:2:3:4:5:6:7:8%', 'fe80::1%12', 'fe80::1%eth0', '::ffff:10.0.0.1', '1:2:3:4:5:6:1.2.3.4', '0000:0000::0', '00000::', '1: :2', '::\t',
  ];
  const text = ctx();
  const both = ctx();
  const json = ctx();
  const memory = createByteRowState();
  const jsonMemory = createByteRowState();
  for (const [i, a] of addresses.entries()) {
    for (const line of [`26/11/16,0:0:5,TCP,389,${a},63689,10.0.0.2,4,System,<S>`, `26/11/16,0:0:5,TCP,389,10.0.0.1,63689,${a},4,System,<S>`]) {
      const expected = parsePortsRow(line, i, text);
      const bytes = Buffer.from(line, 'latin1');
      const got = parsePortsBytes(bytes, 0, bytes.length, i, both, memory) ?? parsePortsRow(line, i, both);
      t.same(got, expected, `${a} in ${line}`);
      // Without address texts (parse's JSON path): the row is read exactly when the text reader reads it.
      const accepted = scanRepeatedRow(bytes, 0, bytes.length, json, jsonMemory, false) || parsePortsBytes(bytes, 0, bytes.length, i, json, jsonMemory) !== undefined;
      if (!accepted) parsePortsRow(line, i, json);
      if (typeof expected !== 'string') t.ok(accepted || /[%.\t ]/.test(a), `${a}: read from its bytes`);
      else t.notOk(accepted, `${a}: not an address`);
    }
  }
});

t.test('an address with leading zeros keeps its own text (not the cached text of the same value)', async (t) => {
  const c = ctx();
  const memory = createByteRowState();
  for (const a of ['10.0.0.1', '010.0.0.1', '10.0.0.01', '10.0.0.1']) {
    const line = `26/11/16,0:0:5,TCP,389,${a},63689,${a},4,System,<S>`;
    const bytes = Buffer.from(line, 'utf8');
    const r = parsePortsBytes(bytes, 0, bytes.length, 9, c, memory)!;
    t.same([r.LocalAddress, r.RemoteAddress], [a, a], a);
  }
});

t.test('the time of a row read by text is not taken for the next row read by bytes', async (t) => {
  // Row 2 is read by text (a non-ASCII user: the byte reader stops before the time) and changes the
  // second; row 3 has row 1's time bytes.
  const c = ctx();
  const memory = createByteRowState();
  const rows = [
    '26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2,4,System,<S>',
    '26/11/16,0:0:6,TCP,389,10.0.0.1,63689,10.0.0.2,4,System,<S\u00e9>',
    '26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2,4,System,<S>',
    '26/11/16,0:0:6,TCP,389,10.0.0.1,63689,10.0.0.2,4,System,<S>',
  ];
  const times = rows.map((line, i) => {
    const bytes = Buffer.from(line, 'utf8');
    const r = parsePortsBytes(bytes, 0, bytes.length, i, c, memory) ?? parsePortsRow(line, i, c);
    return (r as PortReporterRecord).TimeLocal;
  });
  t.same(times, ['2026-11-16T00:00:05', '2026-11-16T00:00:06', '2026-11-16T00:00:05', '2026-11-16T00:00:06']);
});

t.test('what the byte reader remembers is a copy: a reused read buffer does not change it', async (t) => {
  // parse's worker threads get their chunks in buffers that are written again for later chunks.
  const c = ctx();
  const memory = createByteRowState();
  const buf = Buffer.alloc(200);
  const rows = ['26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2,4,lsass.exe,<NT AUTHORITY\\SYSTEM>', '26/11/16,0:0:5,TCP,389,10.0.0.1,63689,10.0.0.2,4,lsasz.exe,<NT AUTHORITY\\SYSTEN>'];
  for (const [i, line] of rows.entries()) {
    const n = buf.write(line, 0, 'latin1');
    const r = parsePortsBytes(buf, 0, n, i, c, memory)!;
    t.same([r.ProcessName, r.UserName], [line.split(',')[8], line.split(',')[9]!.slice(1, -1)], line);
  }
});

/** Feeds a file's bytes, in chunks, to a LogParser: with the rows' bytes (as readLogFile does) or with text only. */
async function readAll(chunks: Buffer[], raw: boolean): Promise<{ records: PortReporterRecord[]; skips: SkippedLine[] }> {
  const skips: SkippedLine[] = [];
  const parser = new LogParser({ name: 'PR-PORTS-x.log', explicit: true, open: async function* () {} }, { clock: createLocalClock(0), onSkip: (s) => skips.push(s) });
  const records: PortReporterRecord[] = [];
  for await (const batch of readLineBatches(Readable.from(chunks), { raw })) {
    for (let i = 0; i < batch.lines.length; i++) feedLine(parser, batch, i, records);
  }
  parser.end(records);
  return { records, skips };
}

t.test('a whole file reads the same with and without the rows\' bytes, whatever the chunks', async (t) => {
  const rnd = prng(7);
  const lines = ['Port Reporter Version 1.01 Log File - Port usage log', '', 'Log format:', 'date,time,protocol,local port,local IP address,remote port,remote IP address,PID,module,user context', ''];
  let previous = baseRow(rnd);
  for (let i = 0; i < 4000; i++) {
    const c = rnd();
    previous = c < 0.5 ? previous : c < 0.8 ? mutate(previous, rnd) : baseRow(rnd);
    lines.push(previous);
  }
  const lf = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const crlf = Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
  // A Windows-1252 byte in one row makes its chunk not UTF-8 (read by text); a BOM in the middle (files joined with copy /b).
  const mixed = Buffer.concat([crlf.subarray(0, 3000), Buffer.from([0xe9]), crlf.subarray(3000, 9000), Buffer.from('\ufeff', 'utf8'), crlf.subarray(9000)]);
  for (const [name, file] of [['LF', lf], ['CRLF', crlf], ['CP1252 and BOM', mixed]] as const) {
    for (const size of [7, 4096, 65536]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < file.length; i += size) chunks.push(file.subarray(i, i + size));
      const text = await readAll(chunks, false);
      const bytes = await readAll(chunks, true);
      t.ok(text.records.length > 2000, `${name}, ${size}-byte chunks: ${text.records.length} records`);
      t.equal(JSON.stringify(bytes.records), JSON.stringify(text.records), `${name}, ${size}-byte chunks: records`);
      t.same(bytes.skips, text.skips, `${name}, ${size}-byte chunks: skipped lines`);
    }
  }
});

// parse's encoded path (ports-row-json.ts): a LogParser with an encodeTarget writes the JSON of a data
// row straight from its bytes, without a record. Its output must be the bytes of the record path (the
// records written one by one by the output's encoder), joined with PR-PIDS detail or not, as JSON
// Lines and as a JSON array's `,\n{…}` items.

const detail = (pid: number, recordedLocal: string | null, over: Partial<ProcessDetail> = {}): ProcessDetail => ({
  pid,
  recordedLocal,
  recordedUtc: null,
  startUtc: recordedLocal === null ? null : `${recordedLocal}.000Z`,
  imageName: `image-${pid}.exe`,
  imagePath: `C:\\Program Files\\App ${pid}\\image-${pid}.exe`,
  commandLine: `"image-${pid}.exe" -k "quoted" \u00e9\t`,
  user: 'CONTOSO\\svc',
  services: Object.freeze(['Svc', `Svc${pid}`]) as string[],
  ports: [],
  modules: Object.freeze(['C:\\Windows\\System32\\ntdll.dll']) as string[],
  line: 1,
  ...over,
});

/** PR-PIDS detail for some of the generated PIDs: a PID recorded twice (reused), names the row lacks, none for others. */
const INDEX_DETAILS = [
  detail(4, null, { imageName: null, user: null, modules: [] }),
  detail(1234, '2025-06-01T00:00:00'),
  detail(1234, '2026-03-01T12:00:00', { imageName: 'other.exe', services: [] }),
  detail(61740, '2027-01-01T00:00:00', { commandLine: null, imagePath: null }),
];

const HEADER = ['Port Reporter Version 1.01 Log File - Port usage log', '', 'Check PR-PIDS-x.log for corresponding process data', '', 'Log format:', 'date,time,protocol,local port,local IP address,remote port,remote IP address,PID,module,user context'];

/** The file's output: with encode, written by the parser from the rows' bytes; without, each record through writeRecordJson. */
async function outputOf(chunks: Buffer[], encode: boolean, json: boolean, index: ProcessIndex | undefined): Promise<{ text: string; records: number; skips: SkippedLine[] }> {
  const skips: SkippedLine[] = [];
  const parser = new LogParser({ name: 'C:\\logs\\PR-PORTS-x.log', explicit: true, open: async function* () {} }, { clock: createLocalClock(-300), onSkip: (s) => skips.push(s) });
  const target: EncodeTarget = { out: new JsonBytes(1 << 16), json, records: 0, flagged: 0 };
  if (encode) parser.encodeTarget = target;
  const records: PortReporterRecord[] = [];
  const flush = () => {
    for (const r of records) {
      if (json) target.out.ascii(',\n');
      writeRecordJson(PortReporterRecordKind, r as unknown as Record<string, unknown>, target.out);
      if (!json) target.out.ascii('\n');
    }
    target.records += records.length;
    records.length = 0;
  };
  for await (const batch of readLineBatches(Readable.from(chunks), { raw: encode })) {
    for (let i = 0; i < batch.lines.length; i++) {
      feedLine(parser, batch, i, records);
      flush();
      if (parser.wantsIndex !== undefined) parser.setIndex(index);
    }
  }
  parser.end(records);
  flush();
  return { text: target.out.buf.toString('latin1', 0, target.out.pos), records: target.records, skips };
}

t.test('parse\'s JSON written from the rows\' bytes is the bytes of the records, with and without PR-PIDS detail', async (t) => {
  const rnd = prng(20261205);
  const lines = [...HEADER];
  let previous = baseRow(rnd);
  for (let i = 0; i < 6000; i++) {
    const c = rnd();
    previous = c < 0.5 ? previous : c < 0.8 ? mutate(previous, rnd) : baseRow(rnd);
    lines.push(previous);
  }
  // A last row cut short (skipped), after one that ends the file properly in the other variant.
  const crlf = Buffer.from(lines.join('\r\n') + '\r\n' + lines[lines.length - 1]!.slice(0, 30), 'utf8');
  const lf = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const index = new ProcessIndex('PIDS-SRV', INDEX_DETAILS);
  for (const [name, file] of [['LF', lf], ['CRLF, cut short', crlf]] as const) {
    for (const withIndex of [false, true]) {
      for (const json of [false, true]) {
        const size = json ? 4096 : 65536;
        const chunks: Buffer[] = [];
        for (let i = 0; i < file.length; i += size) chunks.push(file.subarray(i, i + size));
        const label = `${name}, ${withIndex ? 'with' : 'without'} PR-PIDS, ${json ? 'json' : 'jsonl'}`;
        const expected = await outputOf(chunks, false, json, withIndex ? index : undefined);
        const actual = await outputOf(chunks, true, json, withIndex ? index : undefined);
        t.ok(expected.records > 3000, `${label}: ${expected.records} records`);
        t.equal(actual.records, expected.records, `${label}: count`);
        t.equal(actual.text, expected.text, `${label}: the same bytes`);
        t.same(actual.skips, expected.skips, `${label}: the same skipped lines`);
        if (withIndex) t.match(actual.text, /"ProcessPath":"C:\\\\Program Files\\\\App 1234\\\\image-1234.exe"/, `${label}: detail joined`);
      }
    }
  }
});
