/**
 * Retention (`record --keep N`, `--max-total SIZE`): the oldest whole sets are removed until at most
 * N sets remain and all sets together fit in SIZE. The current set is never removed, even when it
 * alone is larger than SIZE; a set is removed whole (its PR-INITIAL, PR-PORTS, PR-PIDS and PR-EVENTS
 * together), so no PORTS file is left without its PIDS file. "Oldest" is by the newest modification
 * time of a set's files. Only names of our sets are touched (log-set.ts's pattern), in our directory.
 */
import * as fs from 'node:fs';
import { listSets, type LogSetInfo } from './log-set';

export interface RetentionPolicy {
  /** Keep at most this many sets, the current one included; null: no limit. */
  keep: number | null;
  /** Keep all sets together at most this many bytes; null: no limit. */
  maxTotalBytes: number | null;
}

export function retentionActive(policy: RetentionPolicy | undefined): policy is RetentionPolicy {
  return !!policy && (policy.keep !== null || policy.maxTotalBytes !== null);
}

/** Which sets to remove, oldest first (pure: the sets as listed, the current suffix, the policy). */
export function setsToRemove(sets: readonly LogSetInfo[], current: string, policy: RetentionPolicy): LogSetInfo[] {
  const older = sets.filter((s) => s.suffix !== current);
  let count = older.length + 1;
  let total = sets.reduce((sum, s) => sum + s.bytes, 0);
  const remove: LogSetInfo[] = [];
  for (const set of older) {
    const tooMany = policy.keep !== null && count > policy.keep;
    const tooBig = policy.maxTotalBytes !== null && total > policy.maxTotalBytes;
    if (!tooMany && !tooBig) break;
    remove.push(set);
    count--;
    total -= set.bytes;
  }
  return remove;
}

export interface RetentionResult {
  removed: string[];
  bytesRemoved: number;
  /** Bytes of the sets that remain, the current one included. */
  bytesKept: number;
  failures: string[];
}

/** Applies the policy to dir now. */
export function applyRetention(dir: string, current: string, policy: RetentionPolicy): RetentionResult {
  const sets = listSets(dir);
  const remove = setsToRemove(sets, current, policy);
  const result: RetentionResult = { removed: [], bytesRemoved: 0, bytesKept: sets.reduce((sum, s) => sum + s.bytes, 0), failures: [] };
  for (const set of remove) {
    let ok = true;
    for (const file of set.files) {
      try {
        fs.unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        ok = false;
        result.failures.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (ok) {
      result.removed.push(set.suffix);
      result.bytesRemoved += set.bytes;
      result.bytesKept -= set.bytes;
    }
  }
  return result;
}
