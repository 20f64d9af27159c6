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
