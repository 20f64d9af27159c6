import type { OutputRecord, RecordKind } from '../output/record-kind';
import { sanitizeLine } from '../output/sanitize';
import type { Style } from '../output/style';
import type { PortReporterRecord } from '../portreporter/record';
import { IndexSet } from './index-set';
import { internalized } from '../runtime/strings';
import type { TimeBuckets } from './time';

/** What the engine works out once per record for every statistic: its time buckets and its kind. */
export interface RecordFacts extends TimeBuckets {
  /** A TCP listener. */
  listener: boolean;
  /** A TCP connection with a known remote address (isConnection). */
  connection: boolean;
  /**
   * A connection's remote address as distinctAddressKey gives it (a canonical IPv4 address as its
   * number, other text as itself), worked out once for the statistics that key on it (those whose
   * definition says readsRemoteKey); '' for other records, and when no selected statistic reads it.
   */
  remoteKey: string | number;
}

/** What a statistic's figures are relative to: every counted record of its scope (one computer or all). */
export interface ScopeTotals {
  records: number;
  tcpRecords: number;
  /** Records with a remote address (TCP connections; never listeners or UDP endpoints). */
  connectionRecords: number;
  /** Clock hours with at least one counted record: the denominator of every "% of time". */
  observedHours: IndexSet;
}

export interface StatsOptions {
  /** Rows per ranked statistic (per process for process-endpoints); undefined = every row. */
  top?: number;
  /** Which records the process-by-user report covers (the original's was iexplore.exe). */
  isReportedProcess: (processName: string | null) => boolean;
}

/** Counts records of one statistic with memory that grows only with the number of distinct keys. */
export interface Accumulator {
  add(record: PortReporterRecord, facts: RecordFacts): void;
  /**
   * The statistic's rows, without `Statistic` (added by the engine); ComputerName when intrinsic. A
   * statistic with a row per table key makes them as they are read (lazyRows): tens of thousands of
   * row objects, each with its lists, need not all exist at once.
   */
  rows(totals: ScopeTotals): Iterable<OutputRecord>;
  /**
   * Everything counted so far as plain JSON (`stats --partial`, src/stats/partial.ts). merge() of it
   * into an empty accumulator of the same statistic gives the same rows.
   */
  save(): unknown;
  /**
   * Adds the counts of a saved accumulator (another run, another server) to these: the rows are then
   * those of one run over both runs' records. Exact while no bounded table was pruned (approximate()).
   */
  merge(state: unknown): void;
  /** True once a bounded table or list dropped keys: the tail of the rows is then approximate. */
  approximate(): boolean;
}

export interface StatisticDefinition {
  /** The --statistic name. */
  name: string;
  /** Heading in text output and in the HTML report. */
  title: string;
  /** What is counted, for --help, README and the HTML report. */
  definition: string;
  kind: RecordKind;
  /** Its add() reads facts.remoteKey: the engine parses remote addresses only for such statistics. */
  readsRemoteKey?: true;
  create(options: StatsOptions): Accumulator;
}

/** A Usage as saved by stats --partial: records, clock hours, first and last seen. */
export type UsageState = [records: number, hours: number[], firstSeenUtc: string | null, lastSeenUtc: string | null];

/**
 * Records counted under one key, the clock hours they fall in, and when the key was first and last seen.
 * A Usage is itself the IndexSet of its hours (`hours` is the object itself): a busy server's tables
 * hold a Usage per remote address, endpoint and port, tens of thousands of them, and a separate set
 * object cost each of them 72 more bytes.
 */
export class Usage extends IndexSet {
  records = 0;
  firstSeenUtc: string | null = null;
  lastSeenUtc: string | null = null;

  /** The clock hours with a record of this key. */
  get hours(): IndexSet {
    return this;
  }

  count(record: PortReporterRecord, facts: RecordFacts): void {
    this.records++;
    if (facts.hour >= 0) this.add(facts.hour);
    const t = record.TimeUtc;
    // The same time as the last record counted here (rows of one second): nothing to change.
    if (t !== null && t !== this.lastSeenUtc) {
      if (this.firstSeenUtc === null || t < this.firstSeenUtc) this.firstSeenUtc = t;
      if (this.lastSeenUtc === null || t > this.lastSeenUtc) this.lastSeenUtc = t;
    }
  }

  saveUsage(): UsageState {
    return [this.records, this.values(), this.firstSeenUtc, this.lastSeenUtc];
  }

  mergeUsage([records, hours, first, last]: UsageState): void {
    this.records += records;
    for (const h of hours) this.add(h);
    if (first !== null && (this.firstSeenUtc === null || first < this.firstSeenUtc)) this.firstSeenUtc = first;
    if (last !== null && (this.lastSeenUtc === null || last > this.lastSeenUtc)) this.lastSeenUtc = last;
  }
}

/**
 * Approximate counts of keys that a BoundedTable does not hold (a count-min sketch with one row, as in
 * TinyLFU): a key seen once or twice among millions of distinct endpoints never gets an entry, so a
 * full table is not churned by keys that would be pruned again at once. Counters halve periodically so
 * the estimate follows the recent stream. One sketch can serve many tables (each salts its keys).
 */
export class AdmissionSketch {
  private readonly counters: Uint8Array;
  private increments = 0;
  private tables = 0;

  constructor(size = 1 << 18) {
    this.counters = new Uint8Array(size);
  }

  /** A salt for one more table sharing this sketch. */
  newSalt(): number {
    return Math.imul(++this.tables, 0x9e3779b1);
  }

  /** Counts one more sighting of the key and returns its estimated count. */
  touch(key: string | number, salt: number): number {
    const i = (hashKey(key) ^ salt) & (this.counters.length - 1);
    const count = this.counters[i]! + 1;
    if (count <= 255) this.counters[i] = count;
    if (++this.increments >= this.counters.length * 8) {
      for (let j = 0; j < this.counters.length; j++) this.counters[j]! >>= 1;
      this.increments = 0;
    }
    return count;
  }
}

/** FNV-1a over UTF-16 code units, finished with a multiply so low bits depend on the whole key. */
function hashKey(key: string | number): number {
  if (typeof key === 'number') {
    // Number keys go up to 2^48 (endpointKey): fold the high word in, ToUint32 keeps only the low one.
    // Negative keys are addressKey's signed 32-bit numbers: hashed as the unsigned address they stand for.
    const low = (key >>> 0) ^ (key < 0 ? 0 : Math.imul(Math.floor(key / 4294967296), 0x9e3779b1));
    return Math.imul(low ^ (low >>> 16), 0x45d9f3b) >>> 0;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

/**
 * A map from key to counted entry that stays bounded: past twice its capacity, the entries with the
 * fewest records are dropped down to capacity. After that first prune, a new key enters only once
 * the admission sketch has seen it as often as the weakest entry kept (with that estimated count).
 * The heavy keys, the ones a "top N" shows, stay right; counts beyond capacity are estimates; memory
 * and time stay flat however many distinct remote endpoints or ports a log holds.
 */
export class BoundedTable<V extends { records: number }> {
  readonly entries = new Map<string | number, V>();
  pruned = false;
  private threshold = 1;
  private readonly salt: number;

  constructor(
    readonly capacity: number,
    private readonly sketch: AdmissionSketch = new AdmissionSketch(1 << 16),
  ) {
    this.salt = sketch.newSalt();
  }

  get(key: string | number): V | undefined {
    return this.entries.get(key);
  }

  /**
   * For a key that is not in the table: 0 when it should not enter yet, otherwise the number of
   * records it enters with (1, or the sketch's estimate once the table has been pruned).
   */
  admit(key: string | number): number {
    if (!this.pruned) return 1;
    const seen = this.sketch.touch(key, this.salt);
    return seen >= this.threshold ? seen : 0;
  }

  /**
   * Adds saved entries (stats --merge): an entry already here takes the saved counts through
   * `mergeInto`, a new one is created by `create` and added; pruning applies as for add().
   */
  mergeEntries<S>(entries: Iterable<[string | number, S]>, create: (key: string | number, state: S) => V, mergeInto: (entry: V, state: S) => void, wasPruned: boolean): void {
    for (const [key, state] of entries) {
      const entry = this.entries.get(key);
      if (entry) mergeInto(entry, state);
      else {
        const added = this.add(key, create(key, state));
        mergeInto(added, state);
      }
    }
    if (wasPruned) this.pruned = true;
  }

  /** Adds a new key (pruning first when full) and returns its entry. */
  add(key: string | number, entry: V): V {
    if (this.entries.size >= this.capacity * 2) this.prune();
    this.entries.set(typeof key === 'string' ? own(key) : key, entry);
    return entry;
  }

  private prune(): void {
    const kept = [...this.entries].sort((a, b) => b[1].records - a[1].records).slice(0, this.capacity);
    this.entries.clear();
    for (const [k, v] of kept) this.entries.set(k, v);
    this.threshold = Math.max(2, kept[kept.length - 1]?.[1].records ?? 1);
    this.pruned = true;
  }
}

/**
 * One copy of each string the tallies keep (process names, users, paths): every tally that holds
 * "powershell.exe" holds the same string, not its own copy (50,000 copies in a week's log). Bounded
 * like processKeys: when full it starts again, which only loses sharing.
 */
const tallyStrings = new Map<string, string>();

function shared(s: string): string {
  let kept = tallyStrings.get(s);
  if (kept === undefined) {
    if (tallyStrings.size >= 4096) tallyStrings.clear();
    kept = internalized(s);
    tallyStrings.set(kept, kept);
  }
  return kept;
}

/**
 * Tally's base: a Space-Saving list of at most 16 values (see Tally), read back as
 * its top values and saved and merged in one form (stats --partial).
 */
abstract class SpaceSavingList<K extends string | number> {
  /** Values held. */
  protected size = 0;
  /** Values were replaced: the list is approximate (see Tally). */
  pruned = false;

  abstract add(value: K | null | undefined, times?: number): void;
  protected abstract key(i: number): K;
  protected abstract count(i: number): number;

  /** Values by descending count, ties by value; all of them when n is undefined. */
  top(n?: number): K[] {
    const order = Array.from({ length: this.size }, (_, i) => i);
    order.sort((a, b) => this.count(b) - this.count(a) || compareKeys(this.key(a), this.key(b)));
    return order.slice(0, n ?? order.length).map((i) => this.key(i));
  }

  /** [value, count] pairs, then a last element `1` when values were replaced (stats --partial). */
  save(): (readonly [K, number] | 1)[] {
    const out: (readonly [K, number] | 1)[] = Array.from({ length: this.size }, (_, i) => [this.key(i), this.count(i)] as const);
    if (this.pruned) out.push(1);
    return out;
  }

  /** Adds saved counts: exact while the two together hold at most 16 values, Space-Saving beyond. */
  merge(saved: readonly (readonly [K, number] | 1)[]): void {
    for (const entry of saved) {
      if (entry === 1) this.pruned = true;
      else this.add(entry[0], entry[1]);
    }
  }
}

/** Values a "top values" column keeps counting (ProcessNames of a port, RemotePorts of an address…). */
export const TALLY_CAPACITY = 16;

/**
 * Occurrences per value, for "top N values" columns (N ≤ LIST_LIMIT): exact while at most 16 distinct
 * values were seen, then a Space-Saving summary (Metwally, Agrawal, El Abbadi 2005): a new value takes
 * the place of the least counted one and inherits its count, so every count kept is over by at most
 * the smallest count kept, and any value seen more often than that is in the list. Two small arrays,
 * scanned linearly: a remote address whose clients come from ever new ephemeral ports costs the same
 * 16 slots as one that uses one port, and no sort or copy happens while counting.
 */
export class Tally<K extends string | number = string> extends SpaceSavingList<K> {
  /**
   * The only value and its count while one value was seen (most tallies: the one process of a remote
   * address or a port): no array until a second value comes.
   */
  private v0: K | undefined;
  private c0 = 0;
  /**
   * From the second value on: value and count of slot i at 2i and 2i+1, in one array of exactly the
   * slots in use: a table of 40,000 remote addresses holds a tally of process names each.
   */
  private slots: (K | number)[] | undefined;

  add(value: K | null | undefined, times = 1): void {
    if (value === null || value === undefined || value === '') return;
    const slots = this.slots;
    const n = this.size;
    if (slots === undefined) {
      if (n === 1 && this.v0 === value) {
        this.c0 += times;
        return;
      }
      if (typeof value === 'string') value = shared(value) as K;
      if (n === 0) {
        this.v0 = value;
        this.c0 = times;
        this.size = 1;
      } else {
        this.slots = [this.v0!, this.c0, value, times];
        this.v0 = undefined;
        this.c0 = 0;
        this.size = 2;
      }
      return;
    }
    for (let i = 0; i < 2 * n; i += 2) {
      if (slots[i] === value) {
        (slots[i + 1] as number) += times;
        return;
      }
    }
    if (typeof value === 'string') value = shared(value) as K;
    if (n < TALLY_CAPACITY) {
      // Grown one slot at a time (a copy of at most 15 slots, at most 15 times a tally): a list of
      // process names rarely fills, and doubling left a quarter of these arrays empty.
      this.slots = slots.concat([value, times]);
      this.size = n + 1;
      return;
    }
    let min = 0;
    for (let i = 1; i < n; i++) if ((slots[2 * i + 1] as number) < (slots[2 * min + 1] as number)) min = i;
    slots[2 * min] = value;
    (slots[2 * min + 1] as number) += times;
    this.pruned = true;
  }

  protected key(i: number): K {
    return this.slots === undefined ? this.v0! : (this.slots[2 * i] as K);
  }

  protected count(i: number): number {
    return this.slots === undefined ? this.c0 : (this.slots[2 * i + 1] as number);
  }
}

function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** How many values the list columns (ProcessNames, Users, RemotePorts…) show: the most frequent first. */
export const LIST_LIMIT = 5;

/** Rank order of ranked statistics: most records first, ties by key so output is deterministic. */
export function byRecordsThenKey<T extends { usage: { records: number }; key: string | number }>(a: T, b: T): number {
  return b.usage.records - a.usage.records || compareKeys(a.key, b.key);
}

/** `items.map(row)`, made one row at a time as the rows are read (Accumulator.rows). */
export function* lazyRows<T>(items: readonly T[], row: (item: T) => OutputRecord): Generator<OutputRecord, void, undefined> {
  for (const item of items) yield row(item);
}

export function limit<T>(rows: T[], top: number | undefined): T[] {
  return top === undefined ? rows : rows.slice(0, top);
}

/**
 * A copy of a record's string for a table that keeps it for the whole run. The reader cuts fields out
 * of large decoded chunks, and V8 makes a substring of 13 characters or more a slice that keeps its
 * whole parent chunk alive: an IPv6 address or a DOMAIN\\user kept as a key would keep megabytes of
 * log text with it. Called only when a new key enters a table, never per record.
 */
export function own<T extends string | null | undefined>(s: T): T {
  // Shorter substrings are copied by V8 anyway (SlicedString::kMinLength is 13). A longer one is copied
  // through JSON, which gives a flat string of its own: `(' ' + s).slice(1)` gave a slice again (of
  // the concatenation), i.e. two strings, 32 bytes more per kept key.
  return (s === null || s === undefined || s.length < 13 ? s : JSON.parse(JSON.stringify(s))) as T;
}

/**
 * A table key for an address: an IPv4 address as its 32-bit number (a number key hashes and compares
 * several times faster than a string, and a busy server's log has a connection record per line),
 * anything else (IPv6) as the string itself.
 */
export function addressKey(address: string): string | number {
  return ipv4Key(address, false);
}

/**
 * An IPv4 address's 32-bit number, read in one pass, or the text itself: not a dotted quad, or (when
 * `canonical`) one with a leading zero ("010.0.0.1").
 */
function ipv4Key(address: string, canonical: boolean): string | number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part > 255 || ++dots > 3) return address;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3 && (!canonical || digits === 0 || part !== 0)) {
      part = part * 10 + (c - 48);
      digits++;
    } else return address;
  }
  if (dots !== 3 || digits === 0 || part > 255) return address;
  // As a 32-bit signed integer: a small integer to V8 (no heap number per record, and the table hashes
  // and compares it without following a pointer). hashKey and endpointKey read it back unsigned.
  return (n * 256 + part) | 0;
}

/**
 * A key for a set of distinct addresses that must give the same strings back (the computer
 * statistic's saved RemoteAddresses): an IPv4 address written the canonical way (no leading zeros)
 * as addressKey's number, any other text as itself, so that distinct texts stay distinct.
 * addressText turns the key back into the address's text.
 */
export function distinctAddressKey(address: string): string | number {
  // One pass, as the stats engine works this out for every connection record (RecordFacts.remoteKey).
  return ipv4Key(address, true);
}

/**
 * addressKey from a distinctAddressKey: the same number, or the key of the text (a non-canonical IPv4
 * address still gets its number, anything else stays text).
 */
export function addressKeyOf(distinct: string | number): string | number {
  return typeof distinct === 'number' ? distinct : addressKey(distinct);
}

/** The text of a distinctAddressKey. */
export function addressText(key: string | number): string {
  if (typeof key === 'string') return key;
  const n = key >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * A table key for (address, port): a number for IPv4 (address × 65537 + port + 1, exact in a double).
 * `key` is the address's addressKey when known.
 */
export function endpointKey(address: string, port: number | null, key: string | number = addressKey(address)): string | number {
  return typeof key === 'number' ? (key >>> 0) * 65537 + (port === null ? 0 : port + 1) : `${address}\u0000${port ?? ''}`;
}

/** Process names compare without case, as Windows does (SVCHOST.EXE is svchost.exe). */
export function processKey(name: string | null): string {
  if (name === null) return '';
  // The reader gives every row of a process the same name string: its lower case is looked up, not made.
  let key = processKeys.get(name);
  if (key === undefined) {
    if (processKeys.size >= 4096) processKeys.clear();
    key = own(name.toLowerCase());
    processKeys.set(own(name), key);
  }
  return key;
}

const processKeys = new Map<string, string>();

/** TCP listener: State Listen (what parse derives from PR-PORTS' `,,0.0.0.0`) or a recorded LISTEN state. */
export function isTcpListener(record: PortReporterRecord): boolean {
  const state = record.State;
  // 'Established' (most rows) without the regular expression.
  return record.Protocol === 'TCP' && state !== null && (state === 'Listen' || (state !== 'Established' && /^listen/i.test(state)));
}

/**
 * UDP sockets in the dynamic range (49152-65535, IANA and Windows' default) are clients, a DNS query
 * each; as "listeners" they would drown a list of listening ports and grow it with every query.
 */
export const FIRST_DYNAMIC_PORT = 49152;

/**
 * A listening port: a TCP listener, or a UDP endpoint below the dynamic range (new-listener and the
 * svchost statistic's ListeningPorts).
 */
export function isListening(record: PortReporterRecord, facts: RecordFacts): boolean {
  return record.LocalPort !== null && (record.Protocol === 'UDP' ? record.LocalPort < FIRST_DYNAMIC_PORT : facts.listener);
}

const NO_REMOTE = new Set(['', '*', '0.0.0.0', '::', '[::]']);

/** A connection to a remote endpoint: TCP, not a listener, with a known remote address. */
export function isConnection(record: PortReporterRecord): boolean {
  return hasRemote(record) && !isTcpListener(record);
}

/** TCP with a known remote address (isConnection of a record already known not to be a listener). */
export function hasRemote(record: PortReporterRecord): boolean {
  const a = record.RemoteAddress;
  // Every NO_REMOTE value has at most 7 characters: longer addresses need no set lookup.
  return record.Protocol === 'TCP' && a !== null && (a.length > 7 || !NO_REMOTE.has(a));
}

/**
 * One running process: (computer, PID, start time). Without a recorded start time (original logs) the
 * PID alone stands for it, so a reused PID counts once: the logs give no way to tell them apart.
 */
export function processInstanceKey(record: PortReporterRecord): string {
  const pid = record.OwningProcess;
  if (pid !== null) {
    // The key of a PID's last record is built once and reused while computer and start time agree
    // (rows of one process repeat them): no string is built or hashed anew per record.
    const hit = instanceKeys.get(pid);
    if (hit !== undefined && hit.computer === record.ComputerName && hit.start === record.ProcessStartTime) return hit.key;
  }
  const key = `${record.ComputerName ?? ''}\u0000${pid ?? ''}\u0000${record.ProcessStartTime ?? ''}`;
  if (pid !== null) {
    if (instanceKeys.size >= 65_536) instanceKeys.clear();
    instanceKeys.set(pid, { computer: own(record.ComputerName), start: own(record.ProcessStartTime), key: own(key) });
  }
  return key;
}

const instanceKeys = new Map<number, { computer: string | null; start: string | null; key: string }>();

/** String order with nulls last (sorting rows by computer, start time…). */
export function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * Text output of a statistic: its title once, then one line per row built from `line` (strings from
 * the logs are made terminal-safe here). Rows of a computer-scoped run start with the computer.
 */
export function textRendering(title: string, line: (r: OutputRecord, style: Style) => string, options: { showComputer?: boolean } = {}) {
  return {
    textHeader: (style: Style) => [style.heading(title), ''],
    text: (r: OutputRecord, style: Style) => {
      const prefix = options.showComputer !== false && r.ComputerName !== null ? `${style.dim(`[${sanitizeLine(String(r.ComputerName))}]`)} ` : '';
      return [`${prefix}${line(r, style)}`];
    },
  };
}

/** A value from a log, safe for a terminal; lists joined with ", "; "-" for unknown. */
export function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map((v) => sanitizeLine(String(v))).join(', ');
  return sanitizeLine(String(value));
}

/** `n` as "n word(s) (p%)". */
export function counted(n: unknown, word: string, pct?: unknown): string {
  const plural = n === 1 ? word : word.endsWith('s') ? `${word}es` : `${word}s`;
  return pct === undefined ? `${n} ${plural}` : `${n} ${plural} (${pct}%)`;
}
