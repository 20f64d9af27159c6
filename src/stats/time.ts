/**
 * Time buckets of one record, computed once per record and shared by every statistic.
 *
 * - `hour`: the clock hour (hours since 1970-01-01 UTC) from TimeUtc, so that servers in different
 *   zones share one clock; "% of time" counts these.
 * - `hourOfDay` and `day`: from TimeLocal, the server's own wall clock as written in the log, because
 *   "peak hours" mean the server's business hours; TimeUtc when the local time is unknown.
 * All are -1 when the record has no time.
 */
export interface TimeBuckets {
  hour: number;
  hourOfDay: number;
  day: number;
}

// Records arrive in time order, so consecutive records nearly always share their "yyyy-MM-ddTHH" prefix:
// the last prefix, then one cache entry per prefix seen, avoid Date parsing per record. Bounded.
const hourCache = new Map<string, number>();
let lastPrefix = '';
let lastHour = -1;

/** Hours since 1970 of an ISO 8601 "yyyy-MM-ddTHH…" string read as UTC, or -1 when it is not one. */
export function hourNumber(iso: string): number {
  if (lastPrefix !== '' && iso.startsWith(lastPrefix)) return lastHour;
  const prefix = iso.slice(0, 13);
  let hour = hourCache.get(prefix);
  if (hour === undefined) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2})$/.exec(prefix);
    hour = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!) / 3_600_000 : -1;
    // `| 0`: a small integer to V8, not the division's heap number. Every Usage keeps an hour in its
    // fields, and one heap number stored there makes V8 box that field in every object of the class
    // (16 bytes more per table entry).
    hour = Number.isFinite(hour) ? hour | 0 : -1;
    if (hourCache.size > 100_000) hourCache.clear();
    hourCache.set(prefix, hour);
  }
  if (prefix.length === 13) {
    lastPrefix = prefix;
    lastHour = hour;
  }
  return hour;
}

/** Fills `into` with the buckets of a record's times (see TimeBuckets). */
export function setTimeBuckets(into: TimeBuckets, timeUtc: string | null, timeLocal: string | null): void {
  const utc = timeUtc ?? timeLocal;
  if (utc === null) {
    into.hour = into.hourOfDay = into.day = -1;
    return;
  }
  const hour = hourNumber(utc);
  const local = timeLocal ?? utc;
  const localHour = local === utc ? hour : hourNumber(local);
  into.hour = hour;
  into.hourOfDay = localHour < 0 ? -1 : localHour % 24;
  into.day = localHour < 0 ? -1 : Math.floor(localHour / 24);
}

export function timeBuckets(timeUtc: string | null, timeLocal: string | null): TimeBuckets {
  const buckets = { hour: -1, hourOfDay: -1, day: -1 };
  setTimeBuckets(buckets, timeUtc, timeLocal);
  return buckets;
}

/** A percentage rounded to two decimals; 0 when the whole is 0. */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part * 10000) / whole) / 100;
}
