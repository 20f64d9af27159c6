import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every file of one log kind (`PR-PORTS-`, …) in a recorder's folder, in name order, concatenated; '' before the folder exists. */
export function readLogSet(dir: string, prefix: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('');
}

/** The recorder's JSON Lines event log (PR-EVENTS-*), parsed. */
export function readEvents(dir: string): Record<string, unknown>[] {
  return readLogSet(dir, 'PR-EVENTS-')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
