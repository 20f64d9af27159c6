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
