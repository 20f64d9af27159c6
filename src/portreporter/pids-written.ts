/**
 * Which processes a PR-PIDS file already has a block for, so that a continued set does not repeat
 * them. Read with parse's own block parser (read-process.ts): one reading of the format.
 */
import type { ProcessInfo } from '../platform/types';
import { isBlockSeparator, ProcessBlockParser } from './read-process';
import { readOwnFile } from './safe-open';
import { createLocalClock } from './time';

/** Key under which a process's PIDS block is written once per set: PID and start time. */
export function processKey(pid: number, process: ProcessInfo | null): string {
  return `${pid}|${process?.startTime ? process.startTime.getTime() : ''}`;
}

/** The processKey of every whole, readable block in a PIDS text. */
export function processKeysIn(text: string): Set<string> {
  const keys = new Set<string>();
  const parser = new ProcessBlockParser();
  const clock = createLocalClock(0);
  const end = () => {
    const { detail } = parser.finish(clock);
    if (!detail || detail.pid === null) return;
    const start = detail.startUtc ? Date.parse(detail.startUtc) : NaN;
    keys.add(`${detail.pid}|${Number.isNaN(start) ? '' : start}`);
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isBlockSeparator(line)) {
      if (parser.inBlock) end();
      parser.start(i + 1);
    } else if (line === '') {
      if (parser.inBlock) end();
    } else if (parser.inBlock) {
      parser.feed(line);
    }
  }
  if (parser.inBlock) end();
  return keys;
}

/** processKeysIn of one of our files (read without following links); an empty set when it does not exist. */
export function writtenProcesses(file: string): Set<string> {
  const data = readOwnFile(file);
  return data === null ? new Set() : processKeysIn(data.toString('utf8'));
}
