import type { Readable } from 'node:stream';
import type { FileIdentity } from '../output/iostreams';
import { DataError } from '../errors';
import { createProcessIndexLoader } from './correlate';
import type { CriteriaMatcher } from './criteria';
import { compileFilter, type FilterOptions } from './filter';
import { expandInputs } from './inputs';
import * as path from 'node:path';
import { type LogReadOptions, type LogSource, readLogFile, type SkippedLine } from './read-log';
import type { PortReporterRecord } from './record';
import { createResolver, type ResolveOptions, resolveInOrder } from './resolve';
import { createLocalClock, type LocalClock } from './time';

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
  /** Files passed over (and refused when named) by identity: standard output's file (IOStreams.stdoutFile). */
  excludeFiles?: readonly FileIdentity[];
  /** Each skipped line (for warnings and counts). */
  onSkip?(skip: SkippedLine): void;
  /**
   * The log sources found, before the first is read: what it returns is read instead (stats' second
   * thread sees the bytes each source gives, src/stats/parallel.ts).
   */
  prepareSources?(sources: LogSource[]): Promise<LogSource[]>;
}

export type { SkippedLine };

export async function* readPortReporterBatches(inputs: readonly string[], options: ReadOptions = {}): AsyncGenerator<PortReporterRecord[]> {
  const clock = createLocalClock(options.utcOffsetMinutes);
  const filter = compileFilter(options.filter ?? {}, clock);
  const criteria = options.criteria;
  const wantNames = Boolean(options.resolve) || filter.needsNames || Boolean(criteria?.needsNames);
  const logOptions = createLogReadOptions(options, clock);

  const finish = (r: PortReporterRecord): boolean => {
    if (!filter.afterResolve(r)) return false;
    if (criteria) criteria.flag(r);
    return !options.flaggedOnly || r.Flagged;
  };

  async function* filtered(): AsyncGenerator<PortReporterRecord[]> {
    const found = await logSources(inputs, options);
    for (const source of options.prepareSources ? await options.prepareSources(found) : found) {
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

/** The per-file read options of readPortReporterBatches (skips reported, --strict, PR-PIDS indexes loaded once). */
export function createLogReadOptions(options: ReadOptions, clock: LocalClock): LogReadOptions {
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
  return logOptions;
}

/** The log files the inputs name, in reading order, one source per log set. */
export async function logSources(inputs: readonly string[], options: ReadOptions): Promise<LogSource[]> {
  const sources: LogSource[] = [];
  for await (const source of expandInputs(inputs, options.stdin ?? process.stdin, process.platform, { paths: options.exclude ?? [], files: options.excludeFiles ?? [] })) sources.push(source);
  return withoutDuplicateSets(sources);
}

const SET_MEMBER = /^PR-(EVENTS|PORTS|INITIAL)-(.+)\.(jsonl|log)$/i;

/**
 * One log set (the files of one recorder start or rotation: one suffix, one folder) is counted from
 * one source. With `--jsonl` the recorder writes every use twice: as a PR-PORTS row (or a PR-INITIAL
 * block) and as a PR-EVENTS line. The event log wins: it holds the same Opened and Initial records
 * plus the closures, with UTC times and lifetimes; the recorder never continues a set whose event log
 * is missing or present where the other run's was not, so a set's PR-EVENTS covers all of it. So the
 * PR-PORTS and PR-INITIAL files of a set whose PR-EVENTS file is among the inputs are not read (their
 * PR-PIDS is still used for the PORTS rows of other sets). docs/log-formats.md "One set, one source".
 */
export function withoutDuplicateSets(sources: readonly LogSource[]): LogSource[] {
  const setKey = (source: LogSource): { kind: string; key: string } | undefined => {
    if (!source.path) return undefined;
    const m = SET_MEMBER.exec(path.basename(source.path));
    if (!m || (m[1]!.toUpperCase() === 'EVENTS') !== (m[3]!.toLowerCase() === 'jsonl')) return undefined;
    return { kind: m[1]!.toUpperCase(), key: `${path.resolve(path.dirname(source.path))}\0${m[2]!.toLowerCase()}` };
  };
  const withEvents = new Set<string>();
  for (const s of sources) {
    const k = setKey(s);
    if (k?.kind === 'EVENTS') withEvents.add(k.key);
  }
  if (withEvents.size === 0) return [...sources];
  return sources.filter((s) => {
    const k = setKey(s);
    return !k || k.kind === 'EVENTS' || !withEvents.has(k.key);
  });
}

export async function* readPortReporterRecords(inputs: readonly string[], options: ReadOptions = {}): AsyncGenerator<PortReporterRecord> {
  for await (const batch of readPortReporterBatches(inputs, options)) yield* batch;
}
