import t, { type Test } from 'tap';
import { DistinctKeys, KeyIds, PortIds, PortTallyColumns, TextTallyColumns, UsageColumns } from '../../src/stats/columns';
import { BoundedTable, Tally, Usage, type RecordFacts } from '../../src/stats/statistic';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { prng } from '../helpers/prng';

// A table as columns (src/stats/columns.ts) must count exactly what the object per key counted:
// each column class against the class it replaces, on random streams over many ids at once.

const IDS = 7;
const facts = (hour: number): RecordFacts => ({ hour, hourOfDay: hour < 0 ? -1 : hour % 24, day: hour < 0 ? -1 : Math.floor(hour / 24), listener: false, connection: true, remoteKey: '' });
const record = (time: string | null): PortReporterRecord => ({ TimeUtc: time }) as unknown as PortReporterRecord;

/** Columns with `ids` ids ready to count. */
function ready<C extends { grow(ids: number): void; reset(id: number): void }>(columns: C, ids = IDS): C {
  columns.grow(ids);
  for (let id = 0; id < ids; id++) columns.reset(id);
  return columns;
}

/** The tally columns both kinds of list share, as the checks use them. */
interface TallyLike<K> {
  grow(ids: number): void;
  reset(id: number): void;
  save(id: number): unknown;
  top(id: number, n?: number): K[];
  pruned(id: number): boolean;
  merge(id: number, saved: never): void;
}

/** Every id against its reference Tally, then all of them merged into one fresh id against Tally.merge. */
function sameAsTallies<K extends string | number>(t: Test, label: string, columns: TallyLike<K>, reference: Tally<K>[], fresh: TallyLike<K>): void {
  for (let id = 0; id < reference.length; id++) {
    t.same(columns.save(id), reference[id]!.save(), `${label}, id ${id}: slots and counts`);
    t.same(columns.top(id), reference[id]!.top(), 'top: by count, then value');
    t.same(columns.top(id, 5), reference[id]!.top(5));
    t.equal(columns.pruned(id), reference[id]!.pruned);
  }
  ready(fresh, 1);
  const mergedRef = new Tally<K>();
  for (let id = 0; id < reference.length; id++) {
    fresh.merge(0, columns.save(id) as never);
    mergedRef.merge(reference[id]!.save());
  }
  t.same(fresh.save(0), mergedRef.save(), `${label}: merge`);
  t.equal(fresh.pruned(0), mergedRef.pruned);
}

/**
 * `count` adds of a random value to a random id, in the columns and in that id's reference Tally:
 * `draw` gives the value and the times (drawn after the id, in that order).
 */
function addRandomly<K extends string | number>(seed: number, count: number, columns: { add(id: number, value: K | null, times: number): void }, reference: Tally<K>[], draw: (random: () => number, i: number) => [K | null, number]): void {
  const random = prng(seed);
  for (let i = 0; i < count; i++) {
    const id = Math.floor(random() * reference.length);
    const [value, times] = draw(random, i);
    columns.add(id, value, times);
    reference[id]!.add(value, times);
  }
}

t.test('PortTallyColumns: the slots, tops and saved form of Tally<number>, per id', async (t) => {
  for (const [seed, distinct] of [[1, 1], [2, 2], [3, 16], [4, 17], [5, 40], [6, 5000]] as const) {
    const columns = ready(new PortTallyColumns());
    const reference = Array.from({ length: IDS }, () => new Tally<number>());
    addRandomly<number>(seed, 3000, columns, reference, (random) => [Math.floor(distinct * random() ** 3) - 1, seed % 2 === 0 ? 1 : 1 + Math.floor(random() * 20_000)]);
    sameAsTallies(t, `${distinct} distinct`, columns, reference, new PortTallyColumns());
  }
  const edges = ready(new PortTallyColumns(), 2);
  for (const p of [0, 65535, -1, 65535]) edges.add(0, p);
  t.same(edges.top(0), [65535, -1, 0], 'ports -1, 0 and 65535 are kept apart');
  edges.add(1, 443, 2 ** 33);
  edges.add(1, 443);
  t.same(edges.save(1), [[443, 2 ** 33 + 1]], 'counts past 2^32 stay exact');
  edges.add(1, null);
  t.same(edges.save(1), [[443, 2 ** 33 + 1]], 'no port: nothing counted');
  t.throws(() => edges.add(0, 65536), RangeError, 'a value that is no port is refused (a damaged partial)');
  t.throws(() => edges.add(0, 1.5), RangeError);
  edges.reset(0);
  t.same(edges.save(0), [], 'reset: an empty list for an id used again');
});

t.test('TextTallyColumns: the slots, tops and saved form of Tally<string>, per id', async (t) => {
  for (const [seed, distinct] of [[7, 1], [8, 2], [9, 3], [10, 16], [11, 17], [12, 300]] as const) {
    const columns = ready(new TextTallyColumns());
    const reference = Array.from({ length: IDS }, () => new Tally<string>());
    addRandomly<string>(seed, 2000, columns, reference, (random, i) => {
      const v = Math.floor(distinct * random() ** 2);
      return [v === 0 && seed % 3 === 0 ? (i % 2 ? null : '') : `w3wp-${v}.exe`, seed % 2 === 0 ? 1 : 1 + Math.floor(random() * 1000)];
    });
    sameAsTallies(t, `${distinct} distinct`, columns, reference, new TextTallyColumns());
  }
  const one = ready(new TextTallyColumns(), 1);
  one.merge(0, [['lsass.exe', 3], 1]);
  t.ok(one.pruned(0), 'a saved list marked approximate stays approximate');
  t.same(one.save(0), [['lsass.exe', 3], 1]);
  one.reset(0);
  t.same(one.save(0), [], 'reset: an empty list');
  t.notOk(one.pruned(0));
});

t.test('UsageColumns: records, hours, first and last seen as Usage counts them', async (t) => {
  const random = prng(42);
  const columns = ready(new UsageColumns());
  const reference = Array.from({ length: IDS }, () => new Usage());
  const base = 493_000;
  for (let i = 0; i < 5000; i++) {
    const id = Math.floor(random() * IDS);
    // Mostly a week of hours; some far before and after (out of a 256-hour window), some unknown.
    const r = random();
    const hour = r < 0.05 ? -1 : r < 0.1 ? base - Math.floor(random() * 5000) : r < 0.12 ? base + 300 + Math.floor(random() * 90_000) : base + Math.floor(random() * 168);
    const time = random() < 0.05 ? null : `2026-11-${String(10 + Math.floor(random() * 9)).padStart(2, '0')}T0${Math.floor(random() * 9)}:00:00.000Z`;
    columns.count(id, record(time), facts(hour));
    reference[id]!.count(record(time), facts(hour));
  }
  for (let id = 0; id < IDS; id++) {
    t.same(columns.saveUsage(id), reference[id]!.saveUsage(), `id ${id}: records, hours, first and last`);
    t.equal(columns.hours(id), reference[id]!.hours.size);
  }
  // Only hours inside the window: the bitset, not an IndexSet.
  const narrow = ready(new UsageColumns(), 1);
  const narrowRef = new Usage();
  for (const h of [base + 40, base + 40, base + 33, base + 250, base + 34]) {
    narrow.count(0, record('2026-11-16T08:00:00.000Z'), facts(h));
    narrowRef.count(record('2026-11-16T08:00:00.000Z'), facts(h));
  }
  t.same(narrow.saveUsage(0), narrowRef.saveUsage());
  // Merge: into an id with its own hours.
  const merged = ready(new UsageColumns(), 1);
  const mergedRef = new Usage();
  for (let id = 0; id < IDS; id++) {
    merged.mergeUsage(0, columns.saveUsage(id));
    mergedRef.mergeUsage(reference[id]!.saveUsage());
  }
  t.same(merged.saveUsage(0), mergedRef.saveUsage(), 'merge');
  merged.reset(0);
  t.same(merged.saveUsage(0), new Usage().saveUsage(), 'reset: an empty usage');
});

t.test('KeyIds: the entries, their order, pruning and admission of BoundedTable', async (t) => {
  // Capacity 100 makes the hash slots grow (from 64) and rehash, before and after prunes.
  for (const [seed, capacity] of [[1, 10], [2, 10], [3, 10], [4, 100], [5, 100]] as const) {
    const random = prng(seed);
    const columns = {
      records: new Float64Array(0),
      grow(n: number) {
        const bigger = new Float64Array(n);
        bigger.set(columns.records);
        columns.records = bigger;
      },
      reset(id: number) {
        columns.records[id] = 0;
      },
    };
    const ids = new KeyIds(capacity, columns);
    const table = new BoundedTable<{ records: number }>(capacity);
    let admittedDiffer = 0;
    let keysDiffer = 0;
    for (let i = 0; i < 5000; i++) {
      // IPv4-style number keys (negative ones too, as addressKey gives), endpointKey-style ones up to
      // 2^48 (address and port), and IPv6-style strings.
      const k = Math.floor(6 * capacity * random() ** 2);
      const key = k % 5 === 0 ? `2001:db8::${k}` : k % 5 === 1 ? ((k * 0x01010101) >>> 0) * 65537 + (k % 7) : (k * 0x01010101) | 0;
      let id = ids.get(key);
      let entry = table.get(key);
      if ((id >= 0) !== (entry !== undefined)) keysDiffer++;
      if (id < 0) {
        const a = ids.admit(key);
        const b = table.admit(key);
        if (a !== b) admittedDiffer++;
        if (a === 0) continue;
        id = ids.add(key);
        columns.records[id] = a - 1;
        entry = table.add(key, { records: b - 1 });
      }
      columns.records[id]!++;
      entry!.records++;
    }
    t.equal(keysDiffer, 0, `seed ${seed}: the same keys in both at every step`);
    t.equal(admittedDiffer, 0, `seed ${seed}: admitted alike`);
    t.ok(ids.pruned && table.pruned, 'both pruned');
    t.same(
      ids.order.map((id) => [ids.keys[id], columns.records[id]]),
      [...table.entries].map(([k, v]) => [k, v.records]),
      `seed ${seed}: the same entries with the same records in the same order`,
    );
    t.ok(ids.size <= capacity * 2);
  }
  const ids = new KeyIds(10, { records: new Float64Array(0), grow() {}, reset() {} });
  t.throws(() => ids.add(2 ** 53), RangeError, 'a number key must be an integer below 2^53');
  t.throws(() => ids.add(1.5), RangeError);
});

t.test('PortIds: ids in the order ports came, columns grown as ids are added', async (t) => {
  const records: number[] = [];
  const columns = {
    records: new Float64Array(0),
    grow(n: number) {
      records.push(n);
      const bigger = new Float64Array(n);
      bigger.set(columns.records);
      columns.records = bigger;
    },
    reset(id: number) {
      columns.records[id] = 0;
    },
  };
  const ids = new PortIds(columns);
  const ports = [443, 0, 65535, 49152, 443, 0, ...Array.from({ length: 200 }, (_, i) => 50_000 + i)];
  for (const port of ports) if (ids.get(port) < 0) ids.add(port);
  t.same(ids.keys.slice(0, 4), [443, 0, 65535, 49152], 'first seen first');
  t.equal(ids.size, 204, 'one id per distinct port');
  t.equal(ids.get(65535), 2);
  t.equal(ids.get(1), -1, 'a port never seen');
  t.ok(columns.records.length >= 204, `columns grown: ${records.join(', ')}`);
  for (const bad of [-1, 65536, 1.5, Number.NaN]) t.throws(() => ids.add(bad), RangeError, `${bad} is no port`);
});

t.test('DistinctKeys: a Set of address keys, in the order they came', async (t) => {
  const random = prng(9);
  const keys = new DistinctKeys();
  const reference = new Set<string | number>();
  for (let i = 0; i < 20_000; i++) {
    const k = Math.floor(3000 * random() ** 2);
    // 0 (0.0.0.0) is kept apart from the empty slot; negative keys as addressKey gives them.
    const key = k % 11 === 0 ? `2001:db8::${k}` : k === 1 ? 0 : (k * 0x01010101) | 0;
    keys.add(key);
    reference.add(key);
  }
  t.equal(keys.size, reference.size);
  t.same(keys.order, [...reference], 'the same keys in the same order');
  t.ok(reference.has(0), 'the stream holds key 0');
  t.throws(() => keys.add(2 ** 40), RangeError, 'a number key must be a 32-bit integer');
});
