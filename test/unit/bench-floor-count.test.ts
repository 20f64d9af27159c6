import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { ROOT } from '../helpers/cli';

// The stats floors of scripts/bench/floor (scripts/bench/floors/count.mjs, columns.mjs, rows.mjs) are what the
// README's "`stats` speed" summary (and docs/benchmarks.md's) argues from, so they are held here: a byte range of the file sees
// exactly its rows, and the two-thread floors count the same keys as the one-thread floor.

type OnRow = (buf: Buffer, start: number, end: number, cut: Int32Array, lineNo: number) => void;
interface RowsModule {
  forEachRow(file: string, onRow: OnRow, range?: { from?: number; to?: number }): void;
}
const FLOORS = path.join(ROOT, 'scripts', 'bench', 'floors');
const load = async (): Promise<RowsModule> => (await import(pathToFileURL(path.join(FLOORS, 'rows.mjs')).href)) as RowsModule;

const rowsOf = (mod: RowsModule, file: string, range?: { from?: number; to?: number }): string[] => {
  const rows: string[] = [];
  mod.forEachRow(file, (buf, start, end, cut) => rows.push(`${buf.toString('latin1', start, end)}|${cut[8]! - start}`), range);
  return rows;
};

t.test('rows.mjs: split at any byte, the two ranges see every row once, in order', async (t) => {
  const mod = await load();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floor-rows-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'PR-PORTS.log');
  const preamble = Array.from({ length: 7 }, (_, i) => `preamble ${i}`).join('\r\n');
  // Rows of different lengths, CRLF and LF line ends, a last row without a line end.
  const rows = Array.from({ length: 12 }, (_, i) => `t${i},TCP,${'1'.repeat(i % 4)},a,b,c,d,e,f,user${'x'.repeat(i)}`);
  fs.writeFileSync(file, `${preamble}\r\n${rows.slice(0, 6).join('\r\n')}\r\n${rows.slice(6).join('\n')}\n`);
  const whole = rowsOf(mod, file);
  t.equal(whole.length, rows.length, 'the preamble is skipped, every row read');
  t.same(whole.map((r) => r.slice(0, r.lastIndexOf('|'))), rows, 'CR dropped, rows intact');
  const size = fs.statSync(file).size;
  let bad = 0;
  for (let k = 1; k < size; k++) {
    const halves = [...rowsOf(mod, file, { to: k }), ...rowsOf(mod, file, { from: k })];
    if (JSON.stringify(halves) !== JSON.stringify(whole)) bad++;
  }
  t.equal(bad, 0, `every split point of ${size} bytes`);
  t.same(rowsOf(mod, file, { from: 5, to: 5 }), [], 'an empty range has no rows');
});

t.test('count.mjs: the two-thread floors count the keys the one-thread floor counts', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floor-count-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), dir, '2'], { stdio: 'ignore' });
  const log = path.join(dir, fs.readdirSync(dir).find((f) => f.startsWith('PR-PORTS'))!);
  const lines = fs.readFileSync(log, 'latin1').split('\n').filter((l) => l !== '').length;
  const run = (mode: string) => JSON.parse(execFileSync(process.execPath, [path.join(FLOORS, 'count.mjs'), mode, log], { encoding: 'utf8', timeout: 120_000 })) as { rows: number; keys: Record<string, number> };
  const one = run('keys');
  t.equal(one.rows, lines - 7, 'every row of the log');
  t.ok(one.keys.remote! > 1000 && one.keys.endpoint! > 1000, `a busy server's variety: ${JSON.stringify(one.keys)}`);
  for (const mode of ['keys2-tables', 'keys2-rows']) {
    const two = run(mode);
    t.equal(two.rows, one.rows, `${mode}: the same rows`);
    t.same(two.keys, one.keys, `${mode}: the same keys per table`);
  }
  // columns.mjs: the ten statistics' columns; its two threads count what its one thread counts.
  const columns = (mode: string, ...statistics: string[]) => JSON.parse(execFileSync(process.execPath, [path.join(FLOORS, 'columns.mjs'), mode, log, ...statistics], { encoding: 'utf8', timeout: 120_000 })) as { rows: number; keys: Record<string, number> };
  const c1 = columns('one');
  const c2 = columns('two');
  t.equal(c1.rows, one.rows, 'columns: every row');
  t.equal(c1.keys.remoteAddress, one.keys.remote, 'columns: the remote addresses the keys floor counts (below the bound)');
  t.equal(c1.keys.computerRemotes, one.keys.remote);
  t.equal(c1.keys.processInstances, one.keys.processPid, 'distinct process + PID');
  t.equal(Object.keys(c1.keys).length, 10, 'a figure from each of the ten statistics');
  t.same(c2, { ...c1, mode: 'two' }, 'columns: two threads count what one counts');
  const alone = columns('one', 'remote-address,hour-of-day');
  t.same(alone.keys, { hourOfDayPorts: c1.keys.hourOfDayPorts, remoteAddress: c1.keys.remoteAddress }, 'named statistics: only those, counted alike');
});
