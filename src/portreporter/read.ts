import type { Readable } from 'node:stream';
import { DataError } from '../errors';
import { createProcessIndexLoader } from './correlate';
import type { CriteriaMatcher } from './criteria';
import { compileFilter, type FilterOptions } from './filter';
import { expandInputs } from './inputs';
import { type LogReadOptions, readLogFile, type SkippedLine } from './read-log';
import type { PortReporterRecord } from './record';
import { createResolver, type ResolveOptions, resolveInOrder } from './resolve';
import { createLocalClock } from './time';

/**
 * The reader `parse` and `stats` share: inputs → log files → records (correlated with PR-PIDS) →
 * filters → reverse DNS → criteria flags. Streams in batches (one per read chunk) so memory stays
 * flat whatever the input size; readPortReporterRecords is the same stream one record at a time.
 */
export interface ReadOptions {
  /** Where `-` reads from (default process.stdin). */
  stdin?: Readable;
  /** --utc-offset in minutes east of UTC for the logs' local times; default this machine's zone. */
  utcOffsetMinutes?: number;
  /** --computer: the computer name when the logs do not say. */
  computer?: string;
  filter?: FilterOptions;
  /** Flags records that match the criteria of interest (--criteria). */
  criteria?: CriteriaMatcher;
  /** Only flagged records (--flagged-only). */
  flaggedOnly?: boolean;
  /** Reverse DNS into RemoteHostName (--resolve); also turned on by --host and criteria host names. */
  resolve?: boolean | ResolveOptions;
  /** A malformed line is an error (DataError, exit 65) instead of a skip; a truncated last line is still only skipped. */
  strict?: boolean;
  maxLineBytes?: number;
  /** Files this command writes (--out-file, --html): passed over in folders and wildcards, refused when named. */
  exclude?: readonly string[];
  /** Each skipped line (for warnings and counts). */
  onSkip?(skip: SkippedLine): void;
}

export type { SkippedLine };

export async function* readPortReporterBatches(inputs: readonly string[], options: ReadOptions = {}): AsyncGenerator<PortReporterRecord[]> {
  const clock = createLocalClock(options.utcOffsetMinutes);
  const filter = compileFilter(options.filter ?? {}, clock);
  const criteria = options.criteria;
  const wantNames = Boolean(options.resolve) || filter.needsNames || Boolean(criteria?.needsNames);
  const logOptions: LogReadOptions = {
    clock,
    computer: options.computer,
    maxLineBytes: options.maxLineBytes,
    onSkip(skip) {
      if (options.strict && !skip.truncated) throw new DataError(`${skip.file}:${skip.line}: ${skip.reason}`);
      options.onSkip?.(skip);
    },
  };
  logOptions.processIndex = createProcessIndexLoader(logOptions);

  const finish = (r: PortReporterRecord): boolean => {
    if (!filter.afterResolve(r)) return false;
    if (criteria) criteria.flag(r);
    return !options.flaggedOnly || r.Flagged;
  };

  async function* filtered(): AsyncGenerator<PortReporterRecord[]> {
    for await (const source of expandInputs(inputs, options.stdin ?? process.stdin, process.platform, { paths: options.exclude ?? [] })) {
      for await (const batch of readLogFile(source, logOptions)) {
        const kept = filter.active ? batch.filter(filter.beforeResolve) : batch;
        if (kept.length > 0) yield kept;
      }
    }
  }

  if (!wantNames) {
    for await (const batch of filtered()) {
      const out = criteria || filter.active || options.flaggedOnly ? batch.filter(finish) : batch;
      if (out.length > 0) yield out;
    }
    return;
  }
  const resolver = createResolver(typeof options.resolve === 'object' ? options.resolve : {});
  try {
    for await (const batch of resolveInOrder(filtered(), resolver)) {
      const out = batch.filter(finish);
      if (out.length > 0) yield out;
    }
  } finally {
    resolver.close();
  }
}

export async function* readPortReporterRecords(inputs: readonly string[], options: ReadOptions = {}): AsyncGenerator<PortReporterRecord> {
  for await (const batch of readPortReporterBatches(inputs, options)) yield* batch;
}
