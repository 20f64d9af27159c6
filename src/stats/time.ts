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

const NO_TIME: TimeBuckets = Object.freeze({ hour: -1, hourOfDay: -1, day: -1 });

// Records arrive in time order, so consecutive records nearly always share their "yyyy-MM-ddTHH" prefix:
// one cache entry per prefix seen avoids Date parsing per record. Bounded: cleared when large.
const hourCache = new Map<string, number>();

/** Hours since 1970 of an ISO 8601 "yyyy-MM-ddTHH…" string read as UTC, or -1 when it is not one. */
export function hourNumber(iso: string): number {
  const prefix = iso.slice(0, 13);
  let hour = hourCache.get(prefix);
  if (hour === undefined) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2})$/.exec(prefix);
    hour = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!) / 3_600_000 : -1;
    if (!Number.isFinite(hour)) hour = -1;
    if (hourCache.size > 100_000) hourCache.clear();
    hourCache.set(prefix, hour);
  }
  return hour;
}

export function timeBuckets(timeUtc: string | null, timeLocal: string | null): TimeBuckets {
  const utc = timeUtc ?? timeLocal;
  if (utc === null) return NO_TIME;
  const hour = hourNumber(utc);
  const local = timeLocal ?? timeUtc!;
  const localHour = local === utc ? hour : hourNumber(local);
  if (localHour < 0) return { hour, hourOfDay: -1, day: -1 };
  return { hour, hourOfDay: localHour % 24, day: Math.floor(localHour / 24) };
}

/** A percentage rounded to two decimals; 0 when the whole is 0. */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part * 10000) / whole) / 100;
}
