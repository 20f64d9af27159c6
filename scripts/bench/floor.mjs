// scripts/bench/floor's work: how near the goals of parse and stats the machine lets any program in
// the same Node come, measured beside the built executable and the anchor in the same run. The floor
// programs (scripts/bench/floors/*.mjs, run by Node 22.23.3, the Node the executables embed) do the
// least work of each command on the same generated busy-server log, in one thread:
//   - parse: floors/parse.mjs writes parse's JSON Lines (the same bytes, checked by SHA-256 below)
//     by copying the fields' bytes, with no checking, no conversion beyond the time text, the process
//     part of each record as bytes per PID taken from parse's own output beforehand (untimed);
//   - stats: floors/count.mjs finds every row's fields (fields), counts one table (one: rows per
//     remote address), or counts the table keys of all ten statistics and nothing else (keys); mawk
//     counting rows per remote address is shown beside it. The same keys on two threads (the
//     machine's two cores): keys2-tables (each thread reads the whole file and counts half of the
//     tables, as stats' opt-in second thread splits them) and keys2-rows (each thread counts every
//     table over half of the file, then the halves' tables are merged). floors/columns.mjs counts
//     what the statistics keep per key, not only the keys (usage, hours, first and last seen,
//     top-value lists, distinct PIDs…), on one thread and on two (half of the statistics each).
// The executable runs as a user runs it: on a log this large, parse's default is two worker threads;
// the floors are one thread each, but for the two-thread stats floors (a one-thread floor against the one-thread executable: parse.mjs's
// extra line, PORTQRY_PARSE_WORKERS=0).
// Whole processes, interleaved, medians (RUNS, default 3). Writes docs/bench/floor.json.
//   scripts/bench/floor [megabytes]     (default 200)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { BIN, NODE22, ROOT, WORK, benchInput, compare, hyperfine, q, requireBuilt, requireTool, save } from './common.mjs';

requireBuilt();
requireTool('mlr', 'miller');
requireTool('mawk', 'mawk');
const { MB, RUNS, log, bytes, gb } = benchInput(200);
const floorDir = path.join(ROOT, 'scripts', 'bench', 'floors');

// parse: one untimed run of the executable gives each PID's process part (the floor's TAILS.json),
// the SHA-256 and the size of its output; the floor's output must be the same bytes.
fs.mkdirSync(WORK, { recursive: true });
const tails = path.join(WORK, `floor-tails-${process.pid}.json`);
const ours = `${q(BIN)} parse ${q(log)} --format jsonl`;
const floorParse = `${q(NODE22)} ${q(path.join(floorDir, 'parse.mjs'))} ${q(log)} ${q(tails)}`;
const mlr = `{ sed -n 6p ${q(log)}; tail -n +8 ${q(log)}; } | mlr --icsv --ojsonl cat`;
/** Runs a shell command; its stdout's SHA-256 and size, each line given to onLine if there is one. */
async function digestOf(cmd, onLine) {
  const child = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  const hash = createHash('sha256');
  let size = 0;
  child.stdout.on('data', (chunk) => {
    hash.update(chunk);
    size += chunk.length;
  });
  if (onLine) for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) onLine(line);
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`exit ${code}: ${cmd}`);
  return { sha256: hash.digest('hex'), size };
}
const processParts = {};
const oursOut = await digestOf(ours, (line) => {
  const a = line.indexOf(',"OwningProcess":');
  const pid = line.slice(a + 17, line.indexOf(',', a + 17));
  if (!(pid in processParts)) processParts[pid] = line.slice(a, line.lastIndexOf('"SourceLine":') + 13);
});
fs.writeFileSync(tails, JSON.stringify(processParts));
const floorOut = await digestOf(floorParse);
const sameBytes = oursOut.sha256 === floorOut.sha256;
const [oursBytes, floorBytes] = [oursOut.size, floorOut.size];
console.log(`parse output: ${oursBytes} bytes; the floor's: ${floorBytes} bytes, ${sameBytes ? 'the same bytes (SHA-256)' : 'NOT the same bytes'}`);

const P_OURS = `portqry-ts parse (${MB} MB) --format jsonl`;
const P_FLOOR = `floor: parse's JSON Lines, least work (${MB} MB)`;
const P_MLR = 'mlr --icsv --ojsonl cat';
const tp = hyperfine([{ name: P_OURS, cmd: ours }, { name: P_FLOOR, cmd: floorParse }, { name: P_MLR, cmd: mlr }], { runs: RUNS, warmup: 0 });
fs.rmSync(tails, { force: true });
const parseOurs = compare(`parse ${MB} MB -> JSON Lines: the executable against Miller`, tp, P_OURS, P_MLR, { op: '>=', value: 4, of: 'speedup' });
const parseFloor = compare(`parse ${MB} MB -> JSON Lines: the floor program against Miller`, tp, P_FLOOR, P_MLR, { op: '>=', value: 4, of: 'speedup' });

// stats: the executable against the floors of counting.
const count = (mode) => `${q(NODE22)} ${q(path.join(floorDir, 'count.mjs'))} ${mode} ${q(log)}`;
const S_OURS = `portqry-ts stats (${MB} MB), all statistics`;
// The executable's reader with the least counting: start-up, reading and checking every row, time
// conversion, PR-PIDS, a record per row, and one hour-of-day table.
const S_READER = `portqry-ts stats (${MB} MB) --statistic hour-of-day (the reader)`;
const S_KEYS = 'floor: the ten statistics\' table keys, a count each';
const S_ONE = 'floor: rows per remote address';
const S_FIELDS = 'floor: the rows and their fields, no counting';
const S_AWK = 'mawk: rows per remote address';
const S_KEYS2T = 'floor: the same keys, two threads, half of the tables each';
const S_KEYS2R = 'floor: the same keys, two threads, half of the rows each, merged';
const S_COLS = 'floor: the ten statistics\' columns, one thread';
const S_COLS2 = 'floor: the ten statistics\' columns, two threads, half of the statistics each';
const columns = (mode) => `${q(NODE22)} ${q(path.join(floorDir, 'columns.mjs'))} ${mode} ${q(log)}`;
const ts = hyperfine(
  [
    { name: S_OURS, cmd: `${q(BIN)} stats ${q(log)} --utc-offset +00:00 --format jsonl` },
    { name: S_READER, cmd: `${q(BIN)} stats ${q(log)} --utc-offset +00:00 --statistic hour-of-day --format jsonl` },
    { name: S_KEYS, cmd: count('keys') },
    { name: S_ONE, cmd: count('one') },
    { name: S_FIELDS, cmd: count('fields') },
    { name: S_AWK, cmd: `mawk -F, 'NR > 7 { n[$7]++ } END { for (a in n) print a, n[a] }' ${q(log)}` },
    { name: S_KEYS2T, cmd: count('keys2-tables') },
    { name: S_KEYS2R, cmd: count('keys2-rows') },
    { name: S_COLS, cmd: columns('one') },
    { name: S_COLS2, cmd: columns('two') },
  ],
  { runs: RUNS, warmup: 0 },
);
const perGb = (name) => ({ name: `${name}, seconds per GB`, value: ts[name].median / gb, unit: 's/GB', goal: { op: '<=', value: 15 }, met: ts[name].median / gb <= 15, cpu: ts[name].cpu / gb });
// The order is docs/bench/floor.json's (scripts/bench/report.mjs reads the bounds by position).
const statsBounds = [S_OURS, S_KEYS, S_ONE, S_FIELDS, S_AWK, S_KEYS2T, S_KEYS2R, S_COLS, S_COLS2, S_READER].map(perGb);
for (const b of statsBounds) console.log(`  ${b.name}: ${b.value.toFixed(1)} s/GB wall, ${b.cpu.toFixed(1)} s/GB CPU`);
// parseWorkers: the executable's parse threads on this log (its default: two worker threads from 64 MB on).
save('floor', { megabytes: MB, bytes, parseOutput: { ours: oursBytes, floor: floorBytes, sameBytes }, parseWorkers: MB >= 64 ? 2 : 0, comparisons: [parseOurs, parseFloor], bounds: statsBounds });
