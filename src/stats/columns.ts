import type { PortReporterRecord } from '../portreporter/record';
import { IndexSet } from './index-set';
import { AdmissionSketch, Tally, TALLY_CAPACITY, own, type RecordFacts, type UsageState } from './statistic';

/**
 * A table's entries as columns: each key gets a small number (its id) and every figure of the entry
 * lives in a typed array at that id, instead of an object per key with objects of its own (a Usage, its
 * hours, two tallies and their arrays) at random places in the heap. On a busy server's log the
 * remote-address table holds 40,000 addresses, and following those objects' pointers was most of its
 * time (docs/benchmarks.md, "floors": a prototype counted 33 % faster in-process). The semantics are
 * BoundedTable's, Usage's and Tally's to the byte: test/cli/stats-equal.test.ts holds the output.
 */

/** A table's columns as KeyIds drives them: records per id (what it prunes by), more ids, an id made empty. */
export interface TableColumns {
  /** Records per id (replaced when the columns grow). */
  readonly records: Float64Array;
  /** Room for `ids` ids. */
  grow(ids: number): void;
  /** Makes an id empty before it is used (a fresh one, or one a prune freed). */
  reset(id: number): void;
}

/** Ids the columns first hold; they grow by half from there up to the table's bound (a third at most unused). */
const FIRST_IDS = 64;

/** Hash slots a KeyIds table first has; it doubles while a third of them would be in use. */
const FIRST_SLOTS = 64;

/** A slot for a number key (an integer below 2^53): both halves of it folded, as hashKey does. */
function slotOf(key: number, mask: number): number {
  const folded = (key | 0) === key ? key : (key | 0) ^ Math.floor(key / 4294967296);
  return (Math.imul(folded, 0x9e3779b1) >>> 12) & mask;
}

/**
 * Refuses a value that is no port (an integer from `lowest`, 0 by default, to 65,535): a damaged or
 * hand-edited partial would otherwise count it under another key.
 */
export function checkPort(port: number, lowest = 0): void {
  if (!Number.isInteger(port) || port < lowest || port > 65535) throw new RangeError(`not a port: ${port}`);
}

/**
 * Keys to ids with BoundedTable's semantics: past twice `capacity` entries, the entries with the
 * fewest records are dropped down to `capacity` (ties in table order), and a new key then enters
 * only once the admission sketch has seen it as often as the weakest entry kept. Table order is the
 * order keys came in, the kept ones first after a prune (as a Map re-filled in sorted order). Number
 * keys (addressKey's IPv4 keys, endpointKey's address and port) must be integers below 2^53 and live
 * in an open-addressing Float64Array table that grows with the entries (a table per process starts
 * small); string keys live in a Map.
 */
export class KeyIds {
  pruned = false;
  /** Entries in table order (ids). */
  order: number[] = [];
  /** The key of each id. */
  keys: (string | number)[] = [];
  private threshold = 1;
  private readonly salt: number;
  private readonly free: number[] = [];
  private nextId = 0;
  private readonly strings = new Map<string, number>();
  /** Number keys held (they fill slots). */
  private numbers = 0;
  private mask = FIRST_SLOTS - 1;
  /** Per slot its key, then id + 1 (0: empty): a probe reads one cache line, not one in each of two arrays. */
  private slots = new Float64Array(2 * FIRST_SLOTS);

  constructor(
    readonly capacity: number,
    private readonly columns: TableColumns,
    private readonly sketch: AdmissionSketch = new AdmissionSketch(1 << 16),
  ) {
    this.salt = sketch.newSalt();
  }

  get size(): number {
    return this.order.length;
  }

  /** The id of a key, or -1. */
  get(key: string | number): number {
    if (typeof key === 'string') return this.strings.get(key) ?? -1;
    const mask = this.mask;
    const slots = this.slots;
    for (let s = slotOf(key, mask); ; s = (s + 1) & mask) {
      const id = slots[2 * s + 1]!;
      if (id === 0) return -1;
      if (slots[2 * s] === key) return id - 1;
    }
  }

  /** BoundedTable.admit: 0 when a new key should not enter yet, else the records it enters with. */
  admit(key: string | number): number {
    if (!this.pruned) return 1;
    const seen = this.sketch.touch(key, this.salt);
    return seen >= this.threshold ? seen : 0;
  }

  /** Adds a new key (pruning first when full) and returns its id, its columns empty. */
  add(key: string | number): number {
    if (typeof key === 'number' && !Number.isSafeInteger(key)) throw new RangeError(`not an integer key: ${key}`);
    if (this.order.length >= this.capacity * 2) this.prune();
    let id = this.free.pop();
    if (id === undefined) {
      id = this.nextId++;
      const held = this.columns.records.length;
      if (id >= held) this.columns.grow(Math.min(Math.max(FIRST_IDS, Math.ceil(held * 1.5)), this.capacity * 2));
    }
    this.columns.reset(id);
    this.keys[id] = typeof key === 'string' ? own(key) : key;
    if (typeof key === 'number' && ++this.numbers * 3 > this.mask + 1) this.rehash(2 * (this.mask + 1));
    this.place(this.keys[id]!, id);
    this.order.push(id);
    return id;
  }

  private place(key: string | number, id: number): void {
    if (typeof key === 'string') {
      this.strings.set(key, id);
      return;
    }
    const mask = this.mask;
    const slots = this.slots;
    let s = slotOf(key, mask);
    while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
    slots[2 * s] = key;
    slots[2 * s + 1] = id + 1;
  }

  /** Empty slots, `length` of them, and the number keys of the ids in `order` placed again. */
  private rehash(length: number): void {
    if (length !== this.mask + 1) {
      this.slots = new Float64Array(2 * length);
      this.mask = length - 1;
    } else this.slots.fill(0);
    for (const id of this.order) if (typeof this.keys[id] === 'number') this.place(this.keys[id]!, id);
  }

  private prune(): void {
    const records = this.columns.records;
    // Stable: ties keep table order, as BoundedTable's sort of its Map's entries.
    const sorted = [...this.order].sort((a, b) => records[b]! - records[a]!);
    const kept = sorted.slice(0, this.capacity);
    for (const id of sorted.slice(this.capacity)) this.free.push(id);
    // Ids are taken again from the lowest freed one up.
    this.free.sort((a, b) => b - a);
    this.strings.clear();
    this.order = kept;
    this.numbers = 0;
    for (const id of kept) {
      const key = this.keys[id]!;
      if (typeof key === 'string') this.strings.set(key, id);
      else this.numbers++;
    }
    this.rehash(this.mask + 1);
    this.threshold = Math.max(2, kept.length > 0 ? records[kept[kept.length - 1]!]! : 1);
    this.pruned = true;
  }
}

/**
 * Ports (0-65535) to ids, in the order the ports came (id order is table order): a port's id is read
 * from a 65,536-entry array, nothing is hashed. The table is not bounded (a port can only be one of
 * 65,536), so nothing is pruned; the columns grow as KeyIds grows them. A value that is no port (a
 * damaged partial) is refused.
 */
export class PortIds {
  /** The port of each id. */
  readonly keys: number[] = [];
  /** id + 1 per port; 0: none. */
  private readonly ids = new Int32Array(65_536);

  constructor(private readonly columns: TableColumns) {}

  get size(): number {
    return this.keys.length;
  }

  /** The id of a port, or -1. */
  get(port: number): number {
    return this.ids[port]! - 1;
  }

  /** Adds a port that has no id yet and returns its id, its columns empty. */
  add(port: number): number {
    checkPort(port);
    const id = this.keys.length;
    const held = this.columns.records.length;
    if (id >= held) this.columns.grow(Math.min(Math.max(FIRST_IDS, Math.ceil(held * 1.5)), 65_536));
    this.columns.reset(id);
    this.keys.push(port);
    this.ids[port] = id + 1;
    return id;
  }
}

/**
 * A set of keys as distinctAddressKey gives them, in the order they came: 32-bit integers (IPv4
 * addresses) in an open-addressing Int32Array table, where a lookup reads one or two slots instead of
 * a Set's hash chain, and other keys (strings) in a Set. `order` holds them all as they came (what
 * --partial saves). The table holds at most half its slots; 0 marks an empty slot, so the key 0 is
 * kept apart.
 */
export class DistinctKeys {
  readonly order: (string | number)[] = [];
  private readonly strings = new Set<string>();
  private slots = new Int32Array(1024);
  private integers = 0;
  private hasZero = false;

  get size(): number {
    return this.order.length;
  }

  add(key: string | number): void {
    if (typeof key === 'string') {
      if (this.strings.has(key)) return;
      const kept = own(key);
      this.strings.add(kept);
      this.order.push(kept);
      return;
    }
    if ((key | 0) !== key) throw new RangeError(`not a 32-bit key: ${key}`);
    if (key === 0) {
      if (!this.hasZero) {
        this.hasZero = true;
        this.order.push(key);
      }
      return;
    }
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = slotOf(key, mask);
    for (let held = slots[s]!; held !== 0; held = slots[s]!) {
      if (held === key) return;
      s = (s + 1) & mask;
    }
    slots[s] = key;
    this.order.push(key);
    if (++this.integers * 2 > slots.length) this.rehash(slots.length * 2);
  }

  private rehash(length: number): void {
    const old = this.slots;
    const slots = (this.slots = new Int32Array(length));
    const mask = length - 1;
    for (const key of old) {
      if (key === 0) continue;
      let s = slotOf(key, mask);
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = key;
    }
  }
}

/** Clock hours an id keeps in its window: 8 words of 32 bits; an id whose hours leave it gets an IndexSet. */
const HOUR_WORDS = 8;

/**
 * Usage (src/stats/statistic.ts) as columns: records, the clock hours with a record, first and last
 * seen. Its `grow` and `reset` are the table's for the columns it holds. The hours are a bitset over a window of 256 hours from the id's first hour (a week of logs
 * spans 168); an id seen outside its window moves to an IndexSet of its own.
 */
export class UsageColumns {
  records = new Float64Array(0);
  private hourBase = new Int32Array(0);
  /** The last hour counted + 1 (0: none yet): rows of one hour change nothing. */
  private lastHour = new Int32Array(0);
  private hourCount = new Int32Array(0);
  private hourWords = new Int32Array(0);
  private readonly wideHours = new Map<number, IndexSet>();
  firstSeenUtc: (string | null)[] = [];
  lastSeenUtc: (string | null)[] = [];

  grow(ids: number): void {
    this.records = grown(this.records, ids);
    this.hourBase = grown(this.hourBase, ids);
    this.lastHour = grown(this.lastHour, ids);
    this.hourCount = grown(this.hourCount, ids);
    this.hourWords = grown(this.hourWords, ids * HOUR_WORDS);
  }

  reset(id: number): void {
    this.records[id] = 0;
    this.lastHour[id] = 0;
    this.hourCount[id] = 0;
    this.hourWords.fill(0, id * HOUR_WORDS, (id + 1) * HOUR_WORDS);
    this.wideHours.delete(id);
    this.firstSeenUtc[id] = null;
    this.lastSeenUtc[id] = null;
  }

  /** Usage.count. */
  count(id: number, record: PortReporterRecord, facts: RecordFacts): void {
    this.records[id]!++;
    if (facts.hour >= 0) this.addHour(id, facts.hour);
    const t = record.TimeUtc;
    if (t !== null && t !== this.lastSeenUtc[id]) {
      const first = this.firstSeenUtc[id]!;
      if (first === null || t < first) this.firstSeenUtc[id] = t;
      const last = this.lastSeenUtc[id]!;
      if (last === null || t > last) this.lastSeenUtc[id] = t;
    }
  }

  addHour(id: number, hour: number): void {
    if (hour + 1 === this.lastHour[id]) return;
    this.lastHour[id] = hour + 1;
    const wide = this.wideHours.get(id);
    if (wide !== undefined) {
      wide.add(hour);
      return;
    }
    if (this.hourCount[id] === 0) this.hourBase[id] = hour - (hour & 31);
    const offset = hour - this.hourBase[id]!;
    if (offset < 0 || offset >= HOUR_WORDS * 32) {
      const set = new IndexSet();
      for (const h of this.hourValues(id)) set.add(h);
      set.add(hour);
      this.wideHours.set(id, set);
      return;
    }
    const w = id * HOUR_WORDS + (offset >>> 5);
    const bit = 1 << (offset & 31);
    if ((this.hourWords[w]! & bit) === 0) {
      this.hourWords[w] = this.hourWords[w]! | bit;
      this.hourCount[id]!++;
    }
  }

  /** How many clock hours have a record of this id. */
  hours(id: number): number {
    return this.wideHours.get(id)?.size ?? this.hourCount[id]!;
  }

  /** The clock hours, in increasing order. */
  hourValues(id: number): number[] {
    const wide = this.wideHours.get(id);
    if (wide !== undefined) return wide.values();
    const out: number[] = [];
    if (this.hourCount[id] === 0) return out;
    for (let w = 0; w < HOUR_WORDS; w++) {
      const word = this.hourWords[id * HOUR_WORDS + w]!;
      for (let bit = 0; word !== 0 && bit < 32; bit++) if (word & (1 << bit)) out.push(this.hourBase[id]! + w * 32 + bit);
    }
    return out;
  }

  saveUsage(id: number): UsageState {
    return [this.records[id]!, this.hourValues(id), this.firstSeenUtc[id]!, this.lastSeenUtc[id]!];
  }

  /** Usage.mergeUsage. */
  mergeUsage(id: number, [records, hours, first, last]: UsageState): void {
    this.records[id]! += records;
    for (const h of hours) this.addHour(id, h);
    const mine = this.firstSeenUtc[id]!;
    if (first !== null && (mine === null || first < mine)) this.firstSeenUtc[id] = first;
    const mineLast = this.lastSeenUtc[id]!;
    if (last !== null && (mineLast === null || last > mineLast)) this.lastSeenUtc[id] = last;
  }
}

/** Slots of a port list: a Tally's. */
const PORT_SLOTS = TALLY_CAPACITY;

/**
 * Tally<number> of ports as columns: per id, up to 16 ports and their counts, exact until a 17th port
 * comes, then Space-Saving (the new port takes the first least counted slot and adds to its count).
 * The same slots, tops and saved form as Tally<number> (test/unit/stats-columns.test.ts); a value that
 * is no port (a damaged partial) is refused.
 */
export class PortTallyColumns {
  /** port + 1 per slot. */
  private tags = new Int32Array(0);
  private counts = new Float64Array(0);
  private sizes = new Uint8Array(0);
  private prunedIds = new Uint8Array(0);

  grow(ids: number): void {
    this.tags = grown(this.tags, ids * PORT_SLOTS);
    this.counts = grown(this.counts, ids * PORT_SLOTS);
    this.sizes = grown(this.sizes, ids);
    this.prunedIds = grown(this.prunedIds, ids);
  }

  reset(id: number): void {
    this.sizes[id] = 0;
    this.prunedIds[id] = 0;
  }

  add(id: number, port: number | null | undefined, times = 1): void {
    if (port === null || port === undefined) return;
    checkPort(port, -1);
    const tag = port + 1;
    const base = id * PORT_SLOTS;
    const end = base + this.sizes[id]!;
    const { tags, counts } = this;
    let min = base;
    let i = base;
    for (; i < end; i++) {
      if (tags[i] === tag) {
        counts[i]! += times;
        return;
      }
      if (counts[i]! < counts[min]!) min = i;
    }
    if (i < base + PORT_SLOTS) {
      tags[i] = tag;
      counts[i] = times;
      this.sizes[id]!++;
      return;
    }
    tags[min] = tag;
    counts[min]! += times;
    this.prunedIds[id] = 1;
  }

  pruned(id: number): boolean {
    return this.prunedIds[id] === 1;
  }

  /** The ports by descending count, ties by port; all of them when n is undefined (SpaceSavingList.top). */
  top(id: number, n?: number): number[] {
    const base = id * PORT_SLOTS;
    const order = Array.from({ length: this.sizes[id]! }, (_, i) => base + i);
    order.sort((a, b) => this.counts[b]! - this.counts[a]! || this.tags[a]! - this.tags[b]!);
    return order.slice(0, n ?? order.length).map((i) => this.tags[i]! - 1);
  }

  /** [port, count] per slot, then 1 when ports were replaced (SpaceSavingList.save). */
  save(id: number): (readonly [number, number] | 1)[] {
    const base = id * PORT_SLOTS;
    const out: (readonly [number, number] | 1)[] = Array.from({ length: this.sizes[id]! }, (_, i) => [this.tags[base + i]! - 1, this.counts[base + i]!] as const);
    if (this.pruned(id)) out.push(1);
    return out;
  }

  merge(id: number, saved: readonly (readonly [number, number] | 1)[]): void {
    for (const entry of saved) {
      if (entry === 1) this.prunedIds[id] = 1;
      else this.add(id, entry[0], entry[1]);
    }
  }
}

/** Values a TextTallyColumns id keeps in its columns before it gets a Tally of its own. */
const TEXT_SLOTS = 4;

/** A TextTallyColumns size that says the id has a Tally of its own. */
const OWN_TALLY = 255;

/**
 * Tally<string> as columns, for lists that mostly hold few values (the process names of a remote
 * address): up to 4 values and their counts in the id's slots, then a Tally of its own, given the 4
 * in their order first, so that slots, counts and the saved form stay Tally's. The size column says
 * which (OWN_TALLY): a row reads no array of tallies unless the id has one.
 */
export class TextTallyColumns {
  private values: (string | undefined)[] = [];
  private counts = new Float64Array(0);
  private sizes = new Uint8Array(0);
  private tallies: (Tally | undefined)[] = [];

  grow(ids: number): void {
    this.counts = grown(this.counts, ids * TEXT_SLOTS);
    this.sizes = grown(this.sizes, ids);
  }

  reset(id: number): void {
    this.sizes[id] = 0;
    this.tallies[id] = undefined;
    // The names go with the slots: a freed id must not keep strings alive.
    for (let i = id * TEXT_SLOTS; i < (id + 1) * TEXT_SLOTS; i++) this.values[i] = undefined;
  }

  add(id: number, value: string | null | undefined, times = 1): void {
    if (value === null || value === undefined || value === '') return;
    const size = this.sizes[id]!;
    if (size === OWN_TALLY) {
      this.tallies[id]!.add(value, times);
      return;
    }
    const base = id * TEXT_SLOTS;
    const end = base + size;
    for (let i = base; i < end; i++) {
      if (this.values[i] === value) {
        this.counts[i]! += times;
        return;
      }
    }
    if (end < base + TEXT_SLOTS) {
      this.values[end] = value;
      this.counts[end] = times;
      this.sizes[id] = size + 1;
      return;
    }
    this.ownTally(id).add(value, times);
  }

  /** The id's Tally from now on, holding its slots in their order. */
  private ownTally(id: number): Tally {
    const tally = this.tally(id);
    this.reset(id);
    this.tallies[id] = tally;
    this.sizes[id] = OWN_TALLY;
    return tally;
  }

  /** The id's values as a Tally (its own, or one made of its slots). */
  private tally(id: number): Tally {
    if (this.sizes[id] === OWN_TALLY) return this.tallies[id]!;
    const made = new Tally();
    const base = id * TEXT_SLOTS;
    for (let i = base; i < base + this.sizes[id]!; i++) made.add(this.values[i], this.counts[i]);
    return made;
  }

  pruned(id: number): boolean {
    return this.sizes[id] === OWN_TALLY && this.tallies[id]!.pruned;
  }

  top(id: number, n?: number): string[] {
    return this.tally(id).top(n);
  }

  save(id: number): ReturnType<Tally['save']> {
    return this.tally(id).save();
  }

  merge(id: number, saved: Parameters<Tally['merge']>[0]): void {
    for (const entry of saved) {
      if (entry === 1) this.ownTally(id).pruned = true;
      else this.add(id, entry[0], entry[1]);
    }
  }
}

/** The array, or a longer copy of it holding `length` values. */
export function grown<T extends Float64Array | Int32Array | Uint8Array>(array: T, length: number): T {
  if (array.length >= length) return array;
  const bigger = new (array.constructor as new (n: number) => T)(length);
  bigger.set(array);
  return bigger;
}
