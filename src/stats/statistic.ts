import type { OutputRecord, RecordKind } from '../output/record-kind';
import { sanitizeLine } from '../output/sanitize';
import type { Style } from '../output/style';
import type { PortReporterRecord } from '../portreporter/record';
import { IndexSet } from './index-set';
import type { TimeBuckets } from './time';

/** What the engine works out once per record for every statistic: its time buckets and its kind. */
export interface RecordFacts extends TimeBuckets {
  /** A TCP listener. */
  listener: boolean;
  /** A TCP connection with a known remote address (isConnection). */
  connection: boolean;
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
  /** The statistic's rows, without `Statistic` (added by the engine); ComputerName when intrinsic. */
  rows(totals: ScopeTotals): OutputRecord[];
}

export interface StatisticDefinition {
  /** The --statistic name. */
  name: string;
  /** Heading in text output and in the HTML report. */
  title: string;
  /** What is counted, for --help, README and the HTML report. */
  definition: string;
  kind: RecordKind;
  create(options: StatsOptions): Accumulator;
}

/** Records counted under one key, the clock hours they fall in, and when the key was first and last seen. */
export class Usage {
  records = 0;
  readonly hours = new IndexSet();
  firstSeenUtc: string | null = null;
  lastSeenUtc: string | null = null;

  count(record: PortReporterRecord, facts: RecordFacts): void {
    this.records++;
    if (facts.hour >= 0) this.hours.add(facts.hour);
    const t = record.TimeUtc;
    if (t !== null) {
      if (this.firstSeenUtc === null || t < this.firstSeenUtc) this.firstSeenUtc = t;
      if (this.lastSeenUtc === null || t > this.lastSeenUtc) this.lastSeenUtc = t;
    }
  }
}

/**
 * A map from key to counted entry that stays bounded: past twice its capacity, the entries with the
 * fewest records are dropped down to capacity (and the table remembers that it pruned). The heavy
 * keys, the ones a "top N" shows, stay exact unless the traffic is spread evenly over more keys than
 * the capacity; memory stays flat however many distinct remote endpoints or ports a log holds.
 */
export class BoundedTable<V extends { records: number }> {
  readonly entries = new Map<string | number, V>();
  pruned = false;

  constructor(readonly capacity: number) {}

  get(key: string | number): V | undefined {
    return this.entries.get(key);
  }

  /** Adds a new key (pruning first when full) and returns its entry. */
  add(key: string | number, entry: V): V {
    if (this.entries.size >= this.capacity * 2) this.prune();
    this.entries.set(key, entry);
    return entry;
  }

  private prune(): void {
    const kept = [...this.entries].sort((a, b) => b[1].records - a[1].records).slice(0, this.capacity);
    this.entries.clear();
    for (const [k, v] of kept) this.entries.set(k, v);
    this.pruned = true;
  }
}

/** Values a "top values" column keeps counting (ProcessNames of a port, RemotePorts of an address…). */
const TALLY_CAPACITY = 32;

/** Occurrences per value, for "top N values" columns; bounded like BoundedTable. */
export class Tally<K extends string | number = string> {
  private readonly counts = new Map<K, number>();

  add(value: K | null | undefined): void {
    if (value === null || value === undefined || value === '') return;
    const n = this.counts.get(value);
    if (n !== undefined) {
      this.counts.set(value, n + 1);
      return;
    }
    if (this.counts.size >= TALLY_CAPACITY * 2) {
      const kept = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, TALLY_CAPACITY);
      this.counts.clear();
      for (const [k, v] of kept) this.counts.set(k, v);
    }
    this.counts.set(value, 1);
  }

  /** Values by descending count, ties by value; all of them when n is undefined. */
  top(n?: number): K[] {
    const entries = [...this.counts];
    entries.sort((a, b) => b[1] - a[1] || compareKeys(a[0], b[0]));
    return entries.slice(0, n ?? entries.length).map(([k]) => k);
  }
}

function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** How many values the list columns (ProcessNames, Users, RemotePorts…) show: the most frequent first. */
export const LIST_LIMIT = 5;

/** Rank order of ranked statistics: most records first, ties by key so output is deterministic. */
export function byRecordsThenKey<T extends { usage: Usage; key: string | number }>(a: T, b: T): number {
  return b.usage.records - a.usage.records || compareKeys(a.key, b.key);
}

export function limit<T>(rows: T[], top: number | undefined): T[] {
  return top === undefined ? rows : rows.slice(0, top);
}

/** Process names compare without case, as Windows does (SVCHOST.EXE is svchost.exe). */
export function processKey(name: string | null): string {
  return name === null ? '' : name.toLowerCase();
}

/** TCP listener: State Listen (what parse derives from PR-PORTS' `,,0.0.0.0`) or a recorded LISTEN state. */
export function isTcpListener(record: PortReporterRecord): boolean {
  const state = record.State;
  return record.Protocol === 'TCP' && state !== null && (state === 'Listen' || /^listen/i.test(state));
}

const NO_REMOTE = new Set(['', '*', '0.0.0.0', '::', '[::]']);

/** A connection to a remote endpoint: TCP, not a listener, with a known remote address. */
export function isConnection(record: PortReporterRecord): boolean {
  return record.Protocol === 'TCP' && record.RemoteAddress !== null && !NO_REMOTE.has(record.RemoteAddress) && !isTcpListener(record);
}

/**
 * One running process: (computer, PID, start time). Without a recorded start time (original logs) the
 * PID alone stands for it, so a reused PID counts once: the logs give no way to tell them apart.
 */
export function processInstanceKey(record: PortReporterRecord): string {
  return `${record.ComputerName ?? ''}\u0000${record.OwningProcess ?? ''}\u0000${record.ProcessStartTime ?? ''}`;
}

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
