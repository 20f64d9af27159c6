// Floors of `stats` (scripts/bench/floor.mjs): the least counting over every row of a PR-PORTS log, in
// the same Node, one thread (two for keys2-*), rows found as in rows.mjs (no field checked, no time converted, no record
// made). Tables are open-addressing hash tables on the key's bytes (FNV-1a, Int32Array slots, keys
// copied once into one byte store): no string made per row, the cheapest table this Node offers
// (a Map of strings cut per row measured about 1.5 times slower). Modes:
//   fields   find the rows and their fields, count nothing;
//   one      rows per remote address (field 7): one table, what `mlr count-distinct -f 7` computes;
//   keys     the table keys of stats' ten statistics, a row count per key and nothing else (no hours,
//            first/last seen, top-value lists, percentages, pruning or output): remote address
//            (remote-address), remote address per computer (computer), process name and process name
//            + remote address + remote port (process-endpoint), process name and PID (process-usage),
//            user name and user + PID (user-context), PID of svchost.exe rows (svchost), listeners by
//            protocol + address + port + PID (new-listener), and plain arrays for the hour of day and
//            the local TCP port (hour-of-day, local-tcp-port). process-by-user counts one image's rows.
//            The endpoint table takes its first 40,000 keys and only looks up the rest, as stats bounds
//            its endpoints (an exact table of the 1.6 million endpoints of the 200 MB log, most of them
//            ephemeral ports seen once, took a third more time and 190 MB more memory: more work than
//            stats does, so no floor; until 2026-12-06 the floor counted them exactly).
//   keys2-rows    keys on two threads, the file split in two halves at a line end: each thread
//                 counts every table over its half, the worker's tables are then merged into the
//                 main thread's (the merge is timed);
//   keys2-tables  keys on two threads, each reading the whole file and counting half of the tables
//                 (the split of stats' opt-in second thread: each table counted whole by one thread).
//   node scripts/bench/floors/count.mjs MODE PR-PORTS-FILE     (prints the row and key counts)
import * as fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ByteTable } from './byte-table.mjs';
import { decimal, forEachRow, part, scratch } from './rows.mjs';

// The parts of `keys`, for keys2-tables' split (two groups of about equal cost, each thread one).
const CONNECTIONS = 1; // remote, computer, process, endpoint, local TCP port
const LISTENERS = 2;
const HOURS = 4;
const PIDS = 8; // process + PID
const USERS = 16; // user, user + PID
const IMAGES = 32; // svchost.exe PIDs, iexplore.exe users
const ALL = 63;
/** The endpoint table's bound (process-endpoint's: 2,000 per process; this is 40,000 in all). */
const ENDPOINTS = 40_000;
const GROUP_A = CONNECTIONS | HOURS;
const GROUP_B = ALL & ~GROUP_A;


const { mode, file, range, group: given } = isMainThread
  ? { mode: process.argv[2], file: process.argv[3], range: undefined, group: ALL }
  : workerData;
let group = given;
let rows = 0;
const names = ['remote', 'computer', 'process', 'endpoint', 'processPid', 'user', 'userPid', 'svchost', 'listener', 'image'];
const t = Object.fromEntries(names.map((n) => [n, new ByteTable()]));
// stats keeps at most 2,000 endpoints per process (46,000 for the generated log's 23 process names) and
// admits new ones past that only when frequent: an exact table of every endpoint (1.6 million keys on
// 200 MB, most of them once-seen ephemeral ports) would be more work than stats does, not a floor.
t.endpoint = new ByteTable(16, ENDPOINTS);
const hours = new Float64Array(24);
const SVCHOST = Buffer.from('svchost.exe');
const IEXPLORE = Buffer.from('iexplore.exe');
const ports = new Float64Array(65536);
const onRow = {
  fields: () => {
    rows++;
  },
  one: (buf, start, end, cut) => {
    rows++;
    t.remote.add(scratch, part(buf, cut[5] + 1, cut[6], 0));
  },
  keys: (buf, start, end, cut) => {
    rows++;
    if (group & HOURS) {
      const colon = buf.indexOf(58, cut[0]);
      hours[decimal(buf, cut[0] + 1, colon) % 24]++;
    }
    const tcp = buf[cut[1] + 1] === 84;
    const portLength = cut[5] - cut[4] - 1;
    const connection = tcp && portLength > 0 && !(portLength === 1 && (buf[cut[4] + 1] === 42 || buf[cut[4] + 1] === 48));
    if (connection) {
      if (group & CONNECTIONS) {
        const image = part(buf, cut[7] + 1, cut[8], 0);
        const remote = part(buf, cut[5] + 1, cut[6], 0);
        t.remote.add(scratch, remote);
        t.computer.add(scratch, remote);
        t.process.add(scratch, part(buf, cut[7] + 1, cut[8], 0));
        t.endpoint.add(scratch, part(buf, cut[4] + 1, cut[5], part(buf, cut[5] + 1, cut[6], image)));
        ports[decimal(buf, cut[2] + 1, cut[3])]++;
      }
    } else if (tcp && group & LISTENERS) {
      t.listener.add(scratch, part(buf, cut[6] + 1, cut[7], part(buf, cut[2] + 1, cut[4], part(buf, cut[1] + 1, cut[2], 0))));
    }
    if (group & PIDS) t.processPid.add(scratch, part(buf, cut[6] + 1, cut[7], part(buf, cut[7] + 1, cut[8], 0)));
    if (group & USERS) {
      const user = part(buf, cut[8] + 1, end, 0);
      t.user.add(scratch, user);
      t.userPid.add(scratch, part(buf, cut[6] + 1, cut[7], user));
    }
    if (group & IMAGES) {
      if (SVCHOST.compare(buf, cut[7] + 1, cut[8]) === 0) t.svchost.add(scratch, part(buf, cut[6] + 1, cut[7], 0));
      else if (IEXPLORE.compare(buf, cut[7] + 1, cut[8]) === 0) t.image.add(scratch, part(buf, cut[8] + 1, end, 0));
    }
  },
}[mode.startsWith('keys2') ? 'keys' : mode];
if (!onRow) throw new Error(`mode: fields, one, keys, keys2-rows or keys2-tables, not ${mode}`);
const counted = () => ({ rows, hours, ports, tables: Object.fromEntries(names.map((n) => [n, t[n]])) });
if (!isMainThread) {
  forEachRow(file, onRow, range);
  parentPort.postMessage(counted());
} else if (mode.startsWith('keys2')) {
  // Two threads: this one and a worker running this file.
  const size = fs.statSync(file).size;
  const split = mode === 'keys2-rows';
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { mode: 'keys', file, range: split ? { from: size >> 1 } : undefined, group: split ? ALL : GROUP_B },
  });
  const theirs = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  group = split ? ALL : GROUP_A;
  forEachRow(file, onRow, split ? { to: size >> 1 } : undefined);
  const other = await theirs;
  if (split) rows += other.rows;
  for (let i = 0; i < 24; i++) hours[i] += other.hours[i];
  for (let i = 0; i < ports.length; i++) ports[i] += other.ports[i];
  // The file split: the halves' tables are merged. The tables split: each table is whole in one thread.
  for (const n of names) {
    if (split) t[n].merge(other.tables[n]);
    else if (t[n].size === 0) t[n].size = other.tables[n].size;
  }
  await worker.terminate();
  report();
} else {
  forEachRow(file, onRow);
  report();
}
function report() {
  console.log(JSON.stringify({ mode, rows, keys: Object.fromEntries(names.map((n) => [n, t[n].size]).filter(([, s]) => s > 0)) }));
}
