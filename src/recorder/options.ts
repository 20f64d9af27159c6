import { UsageError } from '../errors';
import type { RotationPolicy } from '../portreporter/write-log';

/**
 * A duration option: `500ms`, `2s`, `5m`, `1h`, `1d`, or a bare number of seconds (`1.5`). Returns
 * milliseconds, at least minMs.
 */
export function parseDuration(name: string, value: string, minMs: number, maxMs = 365 * 86_400_000): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = m ? Math.round(Number(m[1]) * unit[(m[2] ?? 's').toLowerCase()]!) : NaN;
  if (!m || !(ms >= minMs) || ms > maxMs) {
    throw new UsageError(`invalid ${name} '${value}': expected a duration of at least ${formatMs(minMs)} such as 500ms, 2s, 5m, 1h (a bare number is seconds)`);
  }
  return ms;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** `--rotate start,daily,size` (any combination, or `none`); the size limit comes from -ls. */
export function parseRotation(value: string, maxBytes: number): RotationPolicy {
  const policy: RotationPolicy = { start: false, daily: false, size: false, maxBytes };
  for (const word of value.split(/[,+\s]+/).filter(Boolean)) {
    const w = word.toLowerCase();
    if (w === 'start' || w === 'daily' || w === 'size') policy[w] = true;
    else if (w !== 'none') throw new UsageError(`invalid --rotate '${value}': use start, daily, size (combined with commas) or none`);
  }
  return policy;
}

/** Port Reporter's log folder on Windows; ours under /var/log on Linux. */
export function defaultLogDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return `${env.SystemRoot ?? env.windir ?? 'C:\\Windows'}\\System32\\LogFiles\\PortReporter`;
  return '/var/log/portqry-ts';
}

/**
 * A size option: `500MB`, `2GB`, `750K`, a bare number of bytes. KB/MB/GB/TB are powers of 1024 (as
 * -ls counts KB). Returns bytes, at least minBytes.
 */
export function parseSize(name: string, value: string, minBytes = 1024): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|K|KB|KIB|M|MB|MIB|G|GB|GIB|T|TB|TIB)?\s*$/i.exec(value);
  const unit = (m?.[2] ?? 'B').toUpperCase()[0]!;
  const factor: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  const bytes = m ? Math.floor(Number(m[1]) * factor[unit]!) : NaN;
  if (!m || !(bytes >= minBytes) || !Number.isSafeInteger(bytes)) {
    throw new UsageError(`invalid ${name} '${value}': expected a size of at least ${minBytes} bytes such as 500MB, 2GB or 750KB (units of 1024)`);
  }
  return bytes;
}
