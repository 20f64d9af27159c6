import { PassThrough } from 'node:stream';
import t from 'tap';
import { csvCell, openOutput } from '../../src/output/emitter';
import { createIOStreams, wantsColor } from '../../src/output/iostreams';
import { toAsciiJson } from '../../src/output/json';
import { defineRecordKind, normalizeRecord } from '../../src/output/record-kind';
import { neutralizeCsvCell, sanitizeLine, sanitizeText } from '../../src/output/sanitize';

const kind = defineRecordKind({
  $id: 'test',
  title: 'TestRecord',
  properties: {
    Name: { type: 'string' },
    Count: { type: ['integer', 'null'] },
    Seen: { type: 'string', format: 'date-time' },
    Tags: { type: 'array' },
  },
});

function memoryIO(opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: string[] = [];
  stdout.on('data', (b) => chunks.push(String(b)));
  const io = createIOStreams({ stdin: new PassThrough(), stdout, stderr, stdoutIsTTY: opts.tty, stderrIsTTY: opts.tty, env: opts.env ?? {}, columns: 100 });
  return { io, text: () => chunks.join('') };
}

t.test('JSON is ASCII only: non-ASCII, U+2028 and astral characters are \\u escaped', async (t) => {
  const json = toAsciiJson({ Name: 'café 中\u2028😀', n: 1 });
  t.equal(json, '{"Name":"caf\\u00e9 \\u4e2d\\u2028\\ud83d\\ude00","n":1}');
  t.match(json, /^[\x20-\x7e]*$/);
  t.same(JSON.parse(json), { Name: 'café 中\u2028😀', n: 1 }, 'round-trips');
});

t.test('records get every schema key in schema order, null for unknown, ISO dates, bigint as string', async (t) => {
  const r = normalizeRecord(kind, { Tags: [1n], Name: 'x', Seen: new Date(Date.UTC(2025, 0, 15, 10, 4, 5, 123)) });
  t.same(Object.keys(r), ['Name', 'Count', 'Seen', 'Tags']);
  t.equal(r.Count, null);
  t.equal(r.Seen, '2025-01-15T10:04:05.123Z');
  t.same(r.Tags, ['1']);
  t.throws(() => normalizeRecord(kind, { Bogus: 1 }), /Bogus is not in schema/);
});

t.test('terminal sanitizing removes escape sequences, controls and bidi overrides', async (t) => {
  t.equal(sanitizeLine('a\x1b[31mred\x1b[0m\x07b'), 'aredb');
  t.equal(sanitizeLine('title\x1b]0;pwned\x07end'), 'titleend');
  t.equal(sanitizeLine('x\u202eevil\u2066y\r\nz\x9b2Jw'), 'xevilyzw');
  t.equal(sanitizeLine('tab\there'), 'tab here');
  t.equal(sanitizeText('220 hello\r\n221 bye\x1b[2J'), '220 hello\n221 bye');
});

t.test('CSV cells: formula starts defused, dates for Excel, lists joined', async (t) => {
  for (const bad of ['=1+1', '+1', '-2', '@SUM(A1)', '\tx', '\rx']) t.equal(neutralizeCsvCell(bad), `'${bad}`, JSON.stringify(bad));
  t.equal(neutralizeCsvCell('svchost.exe'), 'svchost.exe');
  t.equal(csvCell(kind, 'Seen', '2025-01-15T10:04:05.123Z'), '2025-01-15 10:04:05.123');
  t.equal(csvCell(kind, 'Count', -5), '-5', 'numbers are not text and are not prefixed');
  t.equal(csvCell(kind, 'Tags', ['a', '=b']), 'a; =b');
  t.equal(csvCell(kind, 'Tags', ['=a']), "'=a");
  t.equal(csvCell(kind, 'Name', null), '');
});

t.test('colour: NO_COLOR wins, FORCE_COLOR forces, else only on a TTY', async (t) => {
  t.equal(wantsColor(true, {}), true);
  t.equal(wantsColor(false, {}), false);
  t.equal(wantsColor(true, { NO_COLOR: '1' }), false);
  t.equal(wantsColor(true, { NO_COLOR: '1', FORCE_COLOR: '1' }), false);
  t.equal(wantsColor(false, { FORCE_COLOR: '1' }), true);
  t.equal(wantsColor(true, { FORCE_COLOR: '0' }), false);
  t.equal(wantsColor(true, { TERM: 'dumb' }), false);
});

t.test('default format: text on a TTY, jsonl when redirected', async (t) => {
  const tty = memoryIO({ tty: true });
  t.equal(openOutput(tty.io, {}).format, 'text');
  const piped = memoryIO();
  t.equal(openOutput(piped.io, {}).format, 'jsonl');
  t.equal(openOutput(piped.io, { json: true }).format, 'jsonl');
  t.equal(openOutput(tty.io, { format: 'csv' }).format, 'csv');
});

t.test('each format renders the same records', async (t) => {
  const rec = { Name: '=cmd|\x1b[31m', Count: 2, Seen: '2025-01-15T10:04:05.000Z', Tags: ['a', 'b'] };
  const formats = ['jsonl', 'json', 'csv', 'table', 'text'] as const;
  const outputs: Record<string, string> = {};
  for (const format of formats) {
    const m = memoryIO();
    const out = openOutput(m.io, { format });
    out.write(kind, rec);
    out.write(kind, { Name: 'b' });
    await out.end();
    outputs[format] = m.text();
  }
  t.equal(outputs.jsonl, '{"Name":"=cmd|\\u001b[31m","Count":2,"Seen":"2025-01-15T10:04:05.000Z","Tags":["a","b"]}\n{"Name":"b","Count":null,"Seen":null,"Tags":null}\n');
  t.same(JSON.parse(outputs.json!), [JSON.parse(outputs.jsonl!.split('\n')[0]!), JSON.parse(outputs.jsonl!.split('\n')[1]!)]);
  t.equal(outputs.csv, 'Name,Count,Seen,Tags\r\n"\'=cmd|\x1b[31m",2,2025-01-15 10:04:05.000,a; b\r\nb,,,\r\n');
  t.notMatch(outputs.table!, /\x1b/, 'no escape sequences in a table when not a TTY');
  t.match(outputs.table!, /=cmd\|/);
  t.notMatch(outputs.text!, /\x1b/);
  t.match(outputs.text!, /Name\s+: =cmd\|\n/);
});

t.test('an empty json array is still a JSON document', async (t) => {
  const m = memoryIO();
  const out = openOutput(m.io, { format: 'json' });
  await out.end();
  t.equal(m.text(), '[]\n');
});

t.test('bad --delimiter is a usage error naming the value', async (t) => {
  const m = memoryIO();
  t.throws(() => openOutput(m.io, { format: 'csv', delimiter: ';;' }), /invalid --delimiter ';;'/);
  const ok = openOutput(m.io, { format: 'csv', delimiter: 'semicolon' });
  ok.write(kind, { Name: 'a;b', Count: 1 });
  await ok.end();
  t.equal(m.text(), 'Name;Count;Seen;Tags\r\n"a;b";1;;\r\n');
});

t.test('highlighting is the record kind\'s hook, not a key the output layer knows', async (t) => {
  const schema = { $id: 'x', title: 'Thing', properties: { Name: { type: 'string' }, Flagged: { type: 'boolean' }, Odd: { type: 'boolean' } } };
  const byHook = defineRecordKind(schema, { highlight: (r) => r.Odd === true });
  const plain = defineRecordKind({ ...schema, title: 'Plain' });
  const red = (s: string) => s.includes('\x1b[31m');
  for (const format of ['table', 'text'] as const) {
    const m = memoryIO();
    const out = openOutput(m.io, { format, color: true });
    out.write(byHook, { Name: 'alpha', Flagged: true, Odd: false });
    out.write(byHook, { Name: 'beta', Flagged: false, Odd: true });
    out.write(plain, { Name: 'gamma', Flagged: true, Odd: true });
    await out.end();
    const lines = m.text().split('\n');
    t.same(
      ['alpha', 'beta', 'gamma'].map((n) => lines.filter((l) => l.includes(n)).some(red)),
      [false, true, false],
      `${format}: only the record the hook picks is red (a 'Flagged' key alone means nothing)`,
    );
  }
});

t.test('CSV holds one kind: checked once, before anything is written', async (t) => {
  const { checkCsvKinds } = await import('../../src/output/emitter');
  const a = defineRecordKind({ $id: 'a', title: 'A', properties: { X: { type: 'string' } } });
  const b = defineRecordKind({ $id: 'b', title: 'B', properties: { Y: { type: 'string' } } });
  t.doesNotThrow(() => checkCsvKinds('csv', [a]));
  t.doesNotThrow(() => checkCsvKinds('jsonl', [a, b]));
  t.throws(() => checkCsvKinds('csv', [a, b], 'pick one'), /--format csv holds one kind of record, but this command writes A, B: pick one/);
});
