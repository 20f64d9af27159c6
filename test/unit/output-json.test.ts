import t from 'tap';
import { toAsciiJson } from '../../src/output/json';
import { defineRecordKind, isUint, normalizeRecord, putUint, recordToJson, type RecordSchema } from '../../src/output/record-kind';

const schema: RecordSchema = {
  $id: 'test',
  title: 'Test',
  properties: { A: {}, B: {}, C: {}, D: {}, E: {}, F: {}, G: {} },
};
const kind = defineRecordKind(schema);

const sharedDate = new Date('2001-02-03T04:05:06.007Z');
const changingDate = new Date(0);

t.test('recordToJson is byte for byte toAsciiJson(normalizeRecord(...))', async (t) => {
  const values: unknown[] = [
    null, undefined, '', 'plain', 'NT AUTHORITY\\SYSTEM', 'quote " here', 'tab\there', 'é中😀', '\u2028', '\ud800', '\x7f\x1b[31m',
    0, -0, 1.5, -7, 1e21, Number.NaN, Number.POSITIVE_INFINITY, true, false, 12345678901234567890n,
    new Date('2026-11-25T22:34:17.123Z'), new Date('invalid'), [], ['a', 'b\\c', null, 3, undefined], [['nested'], { x: undefined }],
    { Name: 'x', When: new Date(0), Missing: undefined, Deep: { n: Number.NaN } },
    // every ASCII control character and the escaped ones; a long run of escapes (the buffer grows mid-string)
    String.fromCharCode(...Array.from({ length: 0x80 }, (_, i) => i)), 'C:\\dir\\'.repeat(700), '\ud83d\ude00'.repeat(300),
    // frozen arrays are encoded once and their bytes reused (a process's modules shared by many records)
    Object.freeze(['C:\\Windows\\System32\\ntdll.dll', 'é', 'q"uote']), Object.freeze([]), Object.freeze(['a', null, 2]),
    // one Date object written many times (its ISO form is cached), and one changed between writes
    sharedDate, changingDate,
  ];
  let seed = 7;
  const pick = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return values[seed % values.length];
  };
  const mismatches: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const record: Record<string, unknown> = {};
    for (const key of ['A', 'B', 'C', 'D', 'E', 'F', 'G']) if (i % 5 !== 0 || key !== 'C') record[key] = pick();
    if (i % 100 === 50) changingDate.setTime(changingDate.getTime() + 86_400_123);
    const fast = recordToJson(kind, record);
    const reference = toAsciiJson(normalizeRecord(kind, record));
    if (fast !== reference) mismatches.push(`${i}: ${fast} != ${reference}`);
  }
  t.same(mismatches, [], '2000 random records');
});

t.test('recordToJson rejects a key its schema does not have', async (t) => {
  const fresh = defineRecordKind({ ...schema, $id: 'fresh' });
  t.throws(() => recordToJson(fresh, { A: 1, Z: 2 }), /key Z is not in schema/);
});

t.test('putUint writes what String(n) writes for every integer isUint accepts', async (t) => {
  const buf = Buffer.alloc(16);
  const values = [0, 1, 9, 10, 99, 100, 65535, 65536, 999_999_999, 1_000_000_000, 2 ** 31, 2 ** 32 - 1];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 2 ** 32));
  for (const n of values) {
    t.ok(isUint(n), `${n} accepted`);
    const end = putUint(buf, 3, n);
    if (buf.toString('latin1', 3, end) !== String(n)) t.fail(`${n}: ${buf.toString('latin1', 3, end)}`);
  }
  for (const n of [-1, 0.5, 2 ** 32, NaN, Infinity, '7', null]) t.notOk(isUint(n), `${String(n)} refused`);
});
