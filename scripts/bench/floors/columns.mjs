// The floor of what stats' ten statistics keep, not only their keys (scripts/bench/floor.mjs): per key,
// the columns each statistic counts, with the least work this Node allows, in the same Node, on the
// rows found as in rows.mjs. Per-key data live in typed arrays indexed by the key's id in a ByteTable
// (byte-table.mjs), never an object per key; the time is converted once per second (the log's local
// time taken as UTC: no zone conversion); bounded tables take their first keys and only look up the
// rest (stats prunes and admits); clock hours are a 256-hour bitset per key (a 1 GB log spans about a
// week; stats keeps any span). Per statistic (src/stats/statistics/*.ts), for the rows it counts:
//   remote-address    per remote address (40,000): records, clock hours, first and last second, a
//                     16-slot Space-Saving list of remote ports and one of process names;
//   process-usage     per process name: the same usage, distinct PIDs, a list of users (not paths:
//                     those come from PR-PIDS, which this floor does not read);
//   process-by-user   per user + remote address + port of iexplore.exe's connections: the usage;
//   new-listener      per protocol + local port + process of a listening row: records, first second;
//   hour-of-day       per hour of the day: records, TCP and UDP, the days seen, the distinct ports;
//   local-tcp-port    per local TCP port: the usage, listens and connections, a list of processes;
//   user-context      per user: the usage, distinct PIDs, a list of processes;
//   svchost           per svchost.exe PID: the usage, its listening ports;
//   process-endpoint  per process: connections; per process + remote address + port (40,000): the usage;
//   computer          the usage, UDP, listeners, connections, distinct remote addresses and processes.
// Modes:
//   one   one thread counts all ten;
//   two   two threads, each reading the whole log and counting half of the statistics: the split
//         of stats' opt-in second thread (src/stats/parallel.ts), each statistic whole in one thread.
//   node scripts/bench/floors/columns.mjs one|two PR-PORTS-FILE [STATISTIC,…]   (prints the rows and key counts)
// With statistics named (one mode only), only those are counted: `one FILE remote-address` is the
// floor of remote-address alone.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ByteTable } from './byte-table.mjs';
import { clock, decimal, forEachRow, part, rowTime, scratch } from './rows.mjs';

const S = { remoteAddress: 1, processUsage: 2, processByUser: 4, newListener: 8, hourOfDay: 16, localTcpPort: 32, userContext: 64, svchost: 128, processEndpoint: 256, computer: 512 };
const ALL = 1023;
/** The main thread's statistics in stats' two-thread split; the worker counts the others. */
const MAIN = S.remoteAddress | S.processUsage | S.processByUser | S.newListener | S.hourOfDay;
const BOUND = 40_000;
const SPAN_WORDS = 8;
const TOP = 16;

const NAMES = { 'remote-address': S.remoteAddress, 'process-usage': S.processUsage, 'process-by-user': S.processByUser, 'new-listener': S.newListener, 'hour-of-day': S.hourOfDay, 'local-tcp-port': S.localTcpPort, 'user-context': S.userContext, svchost: S.svchost, 'process-endpoint': S.processEndpoint, computer: S.computer };
/** The statistics named on the command line (all by default). */
function selected(list) {
  if (list === undefined) return ALL;
  let bits = 0;
  for (const name of list.split(',')) {
    if (!(name in NAMES)) throw new Error(`not a statistic: ${name}`);
    bits |= NAMES[name];
  }
  return bits;
}
const { mode, file, group } = isMainThread ? { mode: process.argv[2], file: process.argv[3], group: process.argv[2] === 'two' ? MAIN : selected(process.argv[4]) } : workerData;
if (mode !== 'one' && mode !== 'two') throw new Error(`mode: one or two, not ${mode}`);
if (mode === 'two' && process.argv[4] !== undefined) throw new Error('two threads count all ten statistics');

/** Usage (src/stats/statistic.ts): records, clock hours, first and last second, per key id. */
class Usage {
  constructor(capacity) {
    this.records = new Float64Array(capacity);
    this.hours = new Int32Array(capacity * SPAN_WORDS);
    this.hourCount = new Int32Array(capacity);
    this.first = new Float64Array(capacity).fill(Infinity);
    this.last = new Float64Array(capacity).fill(-Infinity);
  }
  count(id) {
    this.records[id]++;
    const h = clock.hour - clock.firstHour;
    if (h < SPAN_WORDS * 32) {
      const w = id * SPAN_WORDS + (h >>> 5);
      const bit = 1 << (h & 31);
      if ((this.hours[w] & bit) === 0) {
        this.hours[w] |= bit;
        this.hourCount[id]++;
      }
    }
    if (clock.second < this.first[id]) this.first[id] = clock.second;
    if (clock.second > this.last[id]) this.last[id] = clock.second;
  }
}

/** Tally (src/stats/statistic.ts): 16-slot Space-Saving lists of small integers, per key id. */
class TopLists {
  constructor(capacity) {
    this.keys = new Int32Array(capacity * TOP);
    this.counts = new Float64Array(capacity * TOP);
    this.size = new Uint8Array(capacity);
  }
  add(id, value) {
    const base = id * TOP;
    const n = this.size[id];
    const { keys, counts } = this;
    let min = base;
    let i = base;
    for (; i < base + n; i++) {
      if (keys[i] === value) {
        counts[i]++;
        return;
      }
      if (counts[i] < counts[min]) min = i;
    }
    if (n < TOP) {
      keys[i] = value;
      counts[i] = 1;
      this.size[id] = n + 1;
      return;
    }
    keys[min] = value;
    counts[min]++;
  }
}

/** Counts the key scratch[0, n) in table; whether it was new. */
const isNew = (table, n) => {
  const before = table.size;
  table.add(scratch, n);
  return table.size > before;
};

const SVCHOST = Buffer.from('svchost.exe');
const IEXPLORE = Buffer.from('iexplore.exe');
const SMALL = 4096;
const images = new ByteTable(8);
const users = new ByteTable(8);
const ra = { table: new ByteTable(16, BOUND), usage: new Usage(BOUND), ports: new TopLists(BOUND), processes: new TopLists(BOUND) };
const pu = { usage: new Usage(SMALL), pids: new ByteTable(10), instances: new Int32Array(SMALL), users: new TopLists(SMALL) };
const pbu = { table: new ByteTable(12, BOUND), usage: new Usage(BOUND) };
const nl = { table: new ByteTable(12), first: new Float64Array(1 << 20).fill(Infinity) };
const hod = { records: new Float64Array(24), tcp: new Float64Array(24), udp: new Float64Array(24), days: new Int32Array(24 * 32), ports: new Uint8Array(24 * 16384), distinctPorts: new Int32Array(24) };
const ltp = { usage: new Usage(65536), listens: new Float64Array(65536), connections: new Float64Array(65536), processes: new TopLists(65536) };
const uc = { usage: new Usage(SMALL), pids: new ByteTable(10), instances: new Int32Array(SMALL), processes: new TopLists(SMALL) };
const sv = { table: new ByteTable(10), usage: new Usage(SMALL), listening: new ByteTable(10) };
const pe = { connections: new Float64Array(SMALL), table: new ByteTable(16, BOUND), usage: new Usage(BOUND) };
const co = { usage: new Usage(1), udp: 0, listeners: 0, connections: 0, remotes: new ByteTable(16), processes: new Uint8Array(SMALL), processCount: 0 };
let rows = 0;

function onRow(buf, start, end, cut) {
  rows++;
  rowTime(buf, start, cut[1]);
  const tcp = buf[cut[1] + 1] === 84;
  const remotePortLength = cut[5] - cut[4] - 1;
  const connection = tcp && remotePortLength > 0 && !(remotePortLength === 1 && (buf[cut[4] + 1] === 42 || buf[cut[4] + 1] === 48));
  const listener = tcp && !connection;
  const localPort = decimal(buf, cut[2] + 1, cut[3]);
  const listening = listener || (!tcp && localPort < 49152);
  const image = images.add(scratch, part(buf, cut[7] + 1, cut[8], 0));
  const user = group & (S.processUsage | S.userContext) ? users.add(scratch, part(buf, cut[8] + 1, end, 0)) : 0;
  if (group & S.remoteAddress && connection) {
    const id = ra.table.add(scratch, part(buf, cut[5] + 1, cut[6], 0));
    if (id >= 0) {
      ra.usage.count(id);
      ra.ports.add(id, decimal(buf, cut[4] + 1, cut[5]));
      ra.processes.add(id, image);
    }
  }
  if (group & S.processUsage) {
    pu.usage.count(image);
    if (isNew(pu.pids, part(buf, cut[6] + 1, cut[7], part(buf, cut[7] + 1, cut[8], 0)))) pu.instances[image]++;
    pu.users.add(image, user);
  }
  if (group & S.processByUser && connection && IEXPLORE.compare(buf, cut[7] + 1, cut[8]) === 0) {
    const id = pbu.table.add(scratch, part(buf, cut[4] + 1, cut[5], part(buf, cut[5] + 1, cut[6], part(buf, cut[8] + 1, end, 0))));
    if (id >= 0) pbu.usage.count(id);
  }
  if (group & S.newListener && listening) {
    const id = nl.table.add(scratch, part(buf, cut[7] + 1, cut[8], part(buf, cut[2] + 1, cut[3], part(buf, cut[1] + 1, cut[2], 0))));
    if (clock.second < nl.first[id]) nl.first[id] = clock.second;
  }
  if (group & S.hourOfDay) {
    const h = clock.hour % 24;
    hod.records[h]++;
    if (tcp) hod.tcp[h]++;
    else hod.udp[h]++;
    const day = clock.day - clock.firstDay;
    if (day < 1024) hod.days[h * 32 + (day >>> 5)] |= 1 << (day & 31);
    const bit = (tcp ? 0 : 65536) + localPort;
    const at = h * 16384 + (bit >>> 3);
    if ((hod.ports[at] & (1 << (bit & 7))) === 0) {
      hod.ports[at] |= 1 << (bit & 7);
      hod.distinctPorts[h]++;
    }
  }
  if (group & S.localTcpPort && tcp) {
    ltp.usage.count(localPort);
    if (listener) ltp.listens[localPort]++;
    else ltp.connections[localPort]++;
    ltp.processes.add(localPort, image);
  }
  if (group & S.userContext) {
    uc.usage.count(user);
    if (isNew(uc.pids, part(buf, cut[6] + 1, cut[7], part(buf, cut[8] + 1, end, 0)))) uc.instances[user]++;
    uc.processes.add(user, image);
  }
  if (group & S.svchost && SVCHOST.compare(buf, cut[7] + 1, cut[8]) === 0) {
    const pid = part(buf, cut[6] + 1, cut[7], 0);
    const id = sv.table.add(scratch, pid);
    sv.usage.count(id);
    if (listening) sv.listening.add(scratch, part(buf, cut[2] + 1, cut[3], part(buf, cut[1] + 1, cut[2], pid)));
  }
  if (group & S.processEndpoint && connection) {
    pe.connections[image]++;
    const id = pe.table.add(scratch, part(buf, cut[4] + 1, cut[5], part(buf, cut[5] + 1, cut[6], part(buf, cut[7] + 1, cut[8], 0))));
    if (id >= 0) pe.usage.count(id);
  }
  if (group & S.computer) {
    co.usage.count(0);
    if (!tcp) co.udp++;
    else if (listener) co.listeners++;
    else {
      co.connections++;
      co.remotes.add(scratch, part(buf, cut[5] + 1, cut[6], 0));
    }
    if (co.processes[image] === 0) {
      co.processes[image] = 1;
      co.processCount++;
    }
  }
}

/** What was counted, as sizes (the two modes must print the same). */
function counted() {
  const keys = {};
  if (group & S.remoteAddress) keys.remoteAddress = ra.table.size;
  if (group & S.processUsage) keys.processInstances = pu.pids.size;
  if (group & S.processByUser) keys.processByUser = pbu.table.size;
  if (group & S.newListener) keys.newListener = nl.table.size;
  if (group & S.hourOfDay) keys.hourOfDayPorts = hod.distinctPorts.reduce((a, b) => a + b, 0);
  if (group & S.localTcpPort) keys.localTcpPorts = ltp.usage.records.reduce((a, r) => a + (r > 0 ? 1 : 0), 0);
  if (group & S.userContext) keys.userInstances = uc.pids.size;
  if (group & S.svchost) keys.svchost = sv.table.size;
  if (group & S.processEndpoint) keys.processEndpoint = pe.table.size;
  if (group & S.computer) keys.computerRemotes = co.remotes.size;
  return { rows, keys };
}

if (!isMainThread) {
  forEachRow(file, onRow);
  parentPort.postMessage(counted());
} else if (mode === 'two') {
  const worker = new Worker(new URL(import.meta.url), { workerData: { mode: 'one', file, group: ALL & ~MAIN } });
  const theirs = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  forEachRow(file, onRow);
  const other = await theirs;
  await worker.terminate();
  const mine = counted();
  console.log(JSON.stringify({ mode, rows: mine.rows, keys: sortKeys({ ...mine.keys, ...other.keys }) }));
} else {
  forEachRow(file, onRow);
  const mine = counted();
  console.log(JSON.stringify({ mode, rows: mine.rows, keys: sortKeys(mine.keys) }));
}

function sortKeys(keys) {
  return Object.fromEntries(Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : 1)));
}
