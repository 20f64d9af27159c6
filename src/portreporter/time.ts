import { UsageError } from '../errors';

/**
 * Port Reporter writes local time without a zone. A LocalClock turns those fields into UTC: with a
 * fixed offset (--utc-offset, for logs from a server in another zone) or with this machine's zone.
 */
export interface LocalClock {
  /** Minutes east of UTC, or undefined for this machine's zone (DST included). */
  readonly offsetMinutes: number | undefined;
  /** Epoch milliseconds of a local wall-clock time, NaN when the fields are out of range. */
  toEpoch(year: number, month: number, day: number, hour: number, minute: number, second: number): number;
}

export function createLocalClock(offsetMinutes?: number): LocalClock {
  return {
    offsetMinutes,
    toEpoch(year, month, day, hour, minute, second) {
      if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
      if (offsetMinutes !== undefined) return Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
      return new Date(year, month - 1, day, hour, minute, second).getTime();
    },
  };
}

/** Parses --utc-offset: `+02:00`, `-0500`, `+1`, `Z`/`UTC`/`0`; returns minutes east of UTC. */
export function parseUtcOffset(value: string): number {
  const v = value.trim();
  if (/^(z|utc|gmt|0)$/i.test(v)) return 0;
  const m = /^(?:utc|gmt)?([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(v);
  if (!m || Number(m[2]) > 14 || Number(m[3] ?? 0) > 59) {
    throw new UsageError(`invalid --utc-offset '${value}': expected an offset such as +02:00, -0500 or UTC`);
  }
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

/** yyyy-MM-ddTHH:mm:ss from wall-clock fields (no zone). */
export function formatLocal(year: number, month: number, day: number, hour: number, minute: number, second: number): string {
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}`;
}

/** The local wall-clock text of an instant, for a clock (used for logs that store UTC). */
export function localTextOf(epochMs: number, clock: LocalClock): string {
  if (clock.offsetMinutes !== undefined) {
    const d = new Date(epochMs + clock.offsetMinutes * 60_000);
    return formatLocal(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  }
  const d = new Date(epochMs);
  return formatLocal(d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds());
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the instants toISOString writes with a four-digit year. */
const ISO_MIN = -62_167_219_200_000;
const ISO_MAX = 253_402_300_799_999;
const DAY_MS = 86_400_000;

/**
 * What `new Date(ms).toISOString()` gives, for the rows' times: a log converts one time per second it
 * covers, and toISOString cost 1.6 us of the 2.3 us of a conversion here (its date breakdown goes
 * through V8's date cache). The civil date is Howard Hinnant's days_from_civil inverse
 * (https://howardhinnant.github.io/date_algorithms.html#civil_from_days), exact for every day of the
 * proleptic Gregorian calendar that Date uses; test/unit/portreporter-time.test.ts compares it with
 * toISOString on the edges and on generated instants. Outside four-digit years: toISOString itself.
 */
export function isoUtc(ms: number): string {
  if (!(ms >= ISO_MIN && ms <= ISO_MAX) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const y = year < 1000 ? String(year).padStart(4, '0') : String(year);
  const ms3 = milli === 0 ? '000' : String(milli).padStart(3, '0');
  return `${y}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${ms3}Z`;
}

/** Two-digit years as Port Reporter writes them: 70–99 are 19xx, 00–69 are 20xx. */
export function fullYear(yy: number): number {
  return yy >= 100 ? yy : yy >= 70 ? 1900 + yy : 2000 + yy;
}

/**
 * --since / --until: ISO 8601 with a zone is that instant; a date or date-time without zone is local
 * time (of --utc-offset, else this machine), as an admin reading the log would mean it.
 */
export function parseTimeBound(name: string, value: string, clock: LocalClock): number {
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(v);
  if (m) {
    if (m[7]) {
      const t = Date.parse(v.replace(' ', 'T'));
      if (!Number.isNaN(t)) return t;
    } else {
      const t = clock.toEpoch(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
      if (!Number.isNaN(t)) return t;
    }
  }
  throw new UsageError(`invalid ${name} '${value}': expected a date such as 2026-11-25, 2026-11-25T14:30 or 2026-11-25T14:30:00Z`);
}
