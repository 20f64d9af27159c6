import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../errors';
import { NotALogError, readProcessDetails, type LogReadOptions, type ProcessIndex as ProcessEnricher } from './read-log';
import type { ProcessDetail } from './read-process';
import type { PortReporterRecord } from './record';
import { createLocalClock } from './time';

/**
 * The original parser's drill-down: a PR-PORTS row joined with the process detail of the PR-PIDS file
 * its header names (and of the PR-INITIAL file of the same start, for processes that were already
 * running). A row matches the block of the same PID recorded last at or before the row's time (PIDs
 * are reused; a block is written when the process first shows up in PR-PORTS), else the first block
 * of that PID.
 */
export class ProcessIndex implements ProcessEnricher {
  private readonly byPid = new Map<number, ProcessDetail[]>();

  constructor(
    readonly computerName: string | null,
    details: ProcessDetail[],
  ) {
    for (const d of details) {
      // A block of endpoints with no known owner describes no process.
      if (d.pid === null) continue;
      let list = this.byPid.get(d.pid);
      if (!list) this.byPid.set(d.pid, (list = []));
      list.push(d);
    }
    for (const list of this.byPid.values()) list.sort((a, b) => compareTime(a.recordedLocal, b.recordedLocal));
  }

  get size(): number {
    return this.byPid.size;
  }

  lookup(pid: number, timeLocal: string | null): ProcessDetail | undefined {
    const list = this.byPid.get(pid);
    if (!list) return undefined;
    if (list.length === 1 || timeLocal === null) return list[0];
    let best: ProcessDetail | undefined;
    for (const d of list) {
      if (d.recordedLocal === null || d.recordedLocal <= timeLocal) best = d;
      else break;
    }
    return best ?? list[0];
  }

  /** Fills the process fields of a record from its matching block (fields the row has win). */
  enrich(r: PortReporterRecord): void {
    const d = this.lookup(r.OwningProcess!, r.TimeLocal);
    if (!d) return;
    r.ProcessName ??= d.imageName;
    r.ProcessPath = d.imagePath;
    r.CommandLine = d.commandLine;
    r.UserName ??= d.user;
    r.Services = d.services;
    r.Modules = d.modules;
    r.ProcessStartTime = d.startUtc;
  }
}

function compareTime(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/**
 * The read options of a worker thread that reads what the main thread reads (parse's chunks, stats'
 * second thread): the same clock, computer and line limit, PR-PIDS indexes of its own, and skipped
 * lines not reported (the main thread, reading the same bytes, reports them). Here rather than beside
 * read.ts's createLogReadOptions: a worker must not load read.ts (its DNS code loads node:net, which
 * aborts a worker of the Linux executable).
 */
export function workerLogReadOptions(o: { utcOffsetMinutes?: number; computer?: string; maxLineBytes?: number }): LogReadOptions {
  const options: LogReadOptions = { clock: createLocalClock(o.utcOffsetMinutes), computer: o.computer, maxLineBytes: o.maxLineBytes, onSkip: () => {} };
  options.processIndex = createProcessIndexLoader(options);
  return options;
}

/**
 * Loads the index a PR-PORTS header asks for, once per PIDS file (a few recent ones are kept: rotated
 * PR-PORTS files each name their own). Lines of those files that cannot be read are reported once.
 */
export function createProcessIndexLoader(options: LogReadOptions): (dir: string, pidsName: string) => Promise<ProcessIndex | undefined> {
  const cache = new Map<string, Promise<ProcessIndex | undefined>>();
  const loaded = new Set<string>();
  return (dir, pidsName) => {
    // The name comes from a log line: only a plain file name beside the PR-PORTS file is followed.
    if (pidsName !== path.basename(pidsName) || pidsName.includes('\\')) return Promise.resolve(undefined);
    const key = path.join(dir, pidsName.toLowerCase());
    let p = cache.get(key);
    if (!p) {
      p = load(dir, pidsName);
      cache.set(key, p);
      if (cache.size > 4) cache.delete(cache.keys().next().value!);
    }
    return p;
  };

  async function load(dir: string, pidsName: string): Promise<ProcessIndex | undefined> {
    const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
    const find = (wanted: string) => names.find((n) => n === wanted) ?? names.find((n) => n.toLowerCase() === wanted.toLowerCase());
    const files = [find(pidsName.replace(/^PR-PIDS-/i, 'PR-INITIAL-')), find(pidsName)].filter((n): n is string => n !== undefined);
    let computerName: string | null = null;
    const details: ProcessDetail[] = [];
    for (const name of [...new Set(files)]) {
      const file = path.join(dir, name);
      const first = !loaded.has(file);
      loaded.add(file);
      const result = await readProcessDetails(
        { name: file, path: file, explicit: false, open: () => fs.createReadStream(file, { highWaterMark: 1 << 16 }) },
        // Report a PIDS file's bad lines only the first time it is read.
        { ...options, onSkip: first ? options.onSkip : () => {} },
      ).catch((err: unknown) => {
        // A PR-PIDS file that cannot be read only costs the detail; --strict's error about a bad line stands.
        if (err instanceof DataError && !(err instanceof NotALogError)) throw err;
        return undefined;
      });
      if (!result || (result.kind !== 'pids' && result.kind !== 'initial')) continue;
      computerName = result.computerName ?? computerName;
      details.push(...result.details);
    }
    if (files.length === 0 && computerName === null) return undefined;
    return new ProcessIndex(computerName, details);
  }
}
