// Writes a PR-PORTS log in the original Microsoft Port Reporter 1.01 format (docs/log-formats.md) of
// about the given size, with the variety of a busy server (not the easiest data), plus a matching
// PR-PIDS file so that rows correlate. Deterministic (a fixed-seed PRNG), so runs compare.
//
// The variety, per row (shares are of all rows):
//   - remote addresses: 60,000 distinct IPv4 client addresses (in 10.0.0.0/8, 172.16.0.0/12 and
//     198.18.0.0/15) and 6,000 IPv6 clients (2001:db8::/32), drawn with a skew (a few hundred
//     busy clients carry about half the connections, the long tail the rest), so a 200 MB log
//     holds tens of thousands of distinct client addresses;
//   - 76 % inbound TCP connections: local port a service port (443, 80, 445, 389, 636, 88, 135,
//     3389, 1433, 5985, 53, 3268, 9389, 8443), remote port an ephemeral port of the client
//     (Windows clients 49152-65535, Linux clients 32768-60999): one side of every connection is
//     ephemeral;
//   - 12 % outbound TCP connections: local port ephemeral (49152-65535), remote a service port on
//     one of 400 upstream servers;
//   - 10 % UDP endpoints (local 53, 123, 389, 88, 500, 4500, 5353 or an ephemeral port; remote `*`);
//   - 2 % TCP listeners (0.0.0.0 / :: with an empty remote port);
//   - local addresses: 4 (two IPv4 interface addresses, 127.0.0.1 for 3 % of the rows, one IPv6);
//   - processes: 320 PIDs (Windows-style multiples of 4) running 26 images under 14 user contexts:
//     long-lived services plus worker processes (w3wp, sqlservr, dllhost, powershell, browsers)
//     that come and go, each new PID appearing as the week goes on;
//   - time: rows about 55 ms apart on average, so 1 GB (about 10 M rows) spans about a week.
// Used by the parse and stats benchmarks and by the large-input parse test.
// Usage: node generate-pr-ports.mjs <dir> <megabytes>
import * as fs from 'node:fs';
import * as path from 'node:path';

const [dir, megabytes = '1024'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: generate-pr-ports.mjs <dir> <megabytes>');
  process.exit(64);
}
const target = Number(megabytes) * 1024 * 1024;
fs.mkdirSync(dir, { recursive: true });
const suffix = '26-11-16-0-0-0';

// xorshift32: fast, deterministic, good enough for shuffling benchmark data.
let seed = 0x9e3779b9;
const next = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const rand = (n) => next() % n;
/** Skewed pick in [0, n): about half the picks land in the first ~1 % (a power law on a uniform draw). */
const skewed = (n) => Math.floor(n * Math.pow(next() / 4294967296, 3));

const images = [
  // [image, user, share weight, long-lived instances, short-lived instances over the log]
  ['System', '', 3, 1, 0],
  ['svchost.exe', '<NT AUTHORITY\\NETWORK SERVICE>', 8, 12, 0],
  ['svchost.exe', '<NT AUTHORITY\\SYSTEM>', 6, 18, 0],
  ['svchost.exe', '<NT AUTHORITY\\LOCAL SERVICE>', 4, 10, 0],
  ['lsass.exe', '<NT AUTHORITY\\SYSTEM>', 10, 1, 0],
  ['dns.exe', '<NT AUTHORITY\\SYSTEM>', 6, 1, 0],
  ['w3wp.exe', '<IIS APPPOOL\\DefaultAppPool>', 14, 4, 60],
  ['w3wp.exe', '<IIS APPPOOL\\PortalPool>', 10, 3, 40],
  ['sqlservr.exe', '<CONTOSO\\svc-sql>', 8, 2, 2],
  ['dllhost.exe', '<NT AUTHORITY\\SYSTEM>', 2, 2, 40],
  ['wmiprvse.exe', '<NT AUTHORITY\\NETWORK SERVICE>', 2, 2, 30],
  ['powershell.exe', '<CONTOSO\\alice>', 1, 0, 30],
  ['wsmprovhost.exe', '<CONTOSO\\svc-deploy>', 2, 0, 25],
  ['msedge.exe', '<CONTOSO\\carol>', 2, 1, 10],
  ['ccmexec.exe', '<NT AUTHORITY\\SYSTEM>', 1, 1, 0],
  ['MsMpEng.exe', '<NT AUTHORITY\\SYSTEM>', 1, 1, 0],
  ['spoolsv.exe', '<NT AUTHORITY\\SYSTEM>', 1, 1, 0],
  ['dfsrs.exe', '<NT AUTHORITY\\SYSTEM>', 2, 1, 0],
  ['ntfrs.exe', '<NT AUTHORITY\\SYSTEM>', 1, 1, 0],
  ['ismserv.exe', '<NT AUTHORITY\\SYSTEM>', 1, 1, 0],
  ['Microsoft.ActiveDirectory.WebServices.exe', '<NT AUTHORITY\\SYSTEM>', 2, 1, 0],
  ['certsrv.exe', '<NT AUTHORITY\\SYSTEM>', 1, 1, 0],
  ['java.exe', '<CONTOSO\\svc-app>', 3, 2, 6],
  ['node.exe', '<CONTOSO\\svc-app>', 3, 2, 8],
  ['TermService.exe', '<NT AUTHORITY\\NETWORK SERVICE>', 1, 1, 0],
  ['splunkd.exe', '<NT AUTHORITY\\SYSTEM>', 1, 1, 0],
];
/** Every process: pid, image, user, weight, and the share of the log (0..1) from which it exists. */
const processes = [];
{
  let pid = 4;
  const used = new Set();
  const newPid = (i) => {
    if (i === 0) return 4; // System
    do pid = 8 + 4 * rand(16000);
    while (used.has(pid));
    used.add(pid);
    return pid;
  };
  images.forEach(([name, user, weight, long, short], i) => {
    for (let k = 0; k < long; k++) processes.push({ pid: newPid(i), name, user, weight, from: 0 });
    for (let k = 0; k < short; k++) processes.push({ pid: newPid(i), name, user, weight, from: (k + 1) / (short + 1) });
  });
}
const PROCESS_COUNT = processes.length; // 320

const LOCAL4 = ['192.168.10.21', '192.168.20.21'];
const LOCAL6 = '2001:db8:10::21';
const SERVICE_PORTS = [443, 443, 443, 80, 445, 445, 389, 636, 88, 135, 3389, 1433, 5985, 53, 3268, 9389, 8443];
const UDP_PORTS = [53, 123, 389, 88, 500, 4500, 5353];
const OUT_PORTS = [443, 80, 53, 389, 445, 1433, 8080, 5671];
const CLIENTS4 = 60000;
const CLIENTS6 = 6000;
const UPSTREAMS = 400;
const client4 = (i) => {
  // Spread over three private/benchmark ranges; distinct i gives a distinct address.
  const r = i % 3;
  const j = Math.floor(i / 3);
  if (r === 0) return `10.${(j >> 16) & 255}.${(j >> 8) & 255}.${1 + (j & 127)}`;
  if (r === 1) return `172.${16 + ((j >> 14) & 15)}.${(j >> 6) & 255}.${10 + (j & 63)}`;
  return `198.${18 + ((j >> 14) & 1)}.${(j >> 6) & 255}.${100 + (j & 63)}`;
};
const client6 = (i) => `2001:db8:${(0x100 + (i >> 8)).toString(16)}::${(0x1000 + (i & 255) * 7).toString(16)}`;
const upstream = (i) => (i % 10 === 9 ? `2001:db8:ff::${(i + 1).toString(16)}` : `10.200.${i >> 6}.${1 + (i & 63)}`);

// Weighted, time-aware process pick: candidates are the processes that exist at this point of the log.
let progress = 0;
let alive = [];
let aliveTotal = 0;
function refreshAlive() {
  alive = processes.filter((p) => p.from <= progress);
  aliveTotal = alive.reduce((s, p) => s + p.weight, 0);
}
refreshAlive();
const pickProcess = () => {
  let x = rand(aliveTotal);
  for (const p of alive) if ((x -= p.weight) < 0) return p;
  return alive[alive.length - 1];
};

const pids = fs.createWriteStream(path.join(dir, `PR-PIDS-${suffix}.log`));
pids.write('Port Reporter Version 1.01 Log File\r\n\r\nProcess detail log\r\n\r\nSystem Date: Mon Nov 16 00:00:00 2026\r\n\r\n\r\nLocal computer name:\r\n\r\n BENCH01\r\n\r\nOperating System: Windows Server 2003\r\n\r\n');
for (const p of processes) {
  pids.write(`${'='.repeat(64)}\r\nProcess ID: ${p.pid}\r\nRecorded: 26/11/16 0:0:0\r\nRecorded UTC: 2026-11-16T00:00:00.000Z\r\nProcess start UTC: \r\nImage name: ${p.name}\r\nImage path: C:\\Windows\\System32\\${p.name}\r\nCommand line: \r\nUser context: ${p.user}\r\nServices: ${p.name === 'svchost.exe' ? 'RpcSs; Dnscache' : ''}\r\nPorts: \r\nModules (2):\r\n C:\\Windows\\System32\\ntdll.dll\r\n C:\\Windows\\System32\\ws2_32.dll\r\n\r\n`);
}
pids.end();

const out = fs.createWriteStream(path.join(dir, `PR-PORTS-${suffix}.log`), { highWaterMark: 1 << 20 });
out.write(`Port Reporter Version 1.01 Log File - Port usage log\r\n\r\nCheck PR-PIDS-${suffix}.log for corresponding process data\r\n\r\nLog format:\r\ndate,time,protocol,local port,local IP address,remote port,remote IP address,PID,module,user context\r\n\r\n`);
let written = 0;
let ms = 0;
const start = Date.UTC(2026, 10, 16);
let stamp = '';
let stampSecond = -1;
function row() {
  // About 55 ms between rows on average: a 1 GB log (about 10 M rows) spans a week.
  ms += rand(110);
  const second = Math.floor(ms / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    const t = new Date(start + second * 1000);
    stamp = `${String(t.getUTCFullYear() % 100).padStart(2, '0')}/${t.getUTCMonth() + 1}/${t.getUTCDate()},${t.getUTCHours()}:${t.getUTCMinutes()}:${t.getUTCSeconds()}`;
  }
  const p = pickProcess();
  const kind = rand(100);
  const v6 = rand(10) === 0;
  if (kind < 76) {
    // Inbound: service port here, the client's ephemeral port there.
    const local = rand(100) < 3 ? '127.0.0.1' : v6 ? LOCAL6 : LOCAL4[rand(50) === 0 ? 1 : 0];
    const remote = local === '127.0.0.1' ? '127.0.0.1' : v6 ? client6(skewed(CLIENTS6)) : client4(skewed(CLIENTS4));
    const rport = rand(4) === 0 ? 32768 + rand(28232) : 49152 + rand(16384);
    return `${stamp},TCP,${SERVICE_PORTS[rand(SERVICE_PORTS.length)]},${local},${rport},${remote},${p.pid},${p.name},${p.user}\r\n`;
  }
  if (kind < 88) {
    const u = skewed(UPSTREAMS);
    const remote = upstream(u);
    const local = remote.includes(':') ? LOCAL6 : LOCAL4[u & 1];
    return `${stamp},TCP,${49152 + rand(16384)},${local},${OUT_PORTS[u % OUT_PORTS.length]},${remote},${p.pid},${p.name},${p.user}\r\n`;
  }
  if (kind < 98) {
    const port = rand(3) === 0 ? UDP_PORTS[rand(UDP_PORTS.length)] : 49152 + rand(16384);
    return `${stamp},UDP,${port},${v6 ? '::' : '0.0.0.0'},*,*,${p.pid},${p.name},${p.user}\r\n`;
  }
  return `${stamp},TCP,${SERVICE_PORTS[rand(SERVICE_PORTS.length)]},${v6 ? '::' : '0.0.0.0'},,${v6 ? '::' : '0.0.0.0'},${p.pid},${p.name},${p.user}\r\n`;
}
async function main() {
  let lastAlive = -1;
  while (written < target) {
    progress = written / target;
    const step = Math.floor(progress * 200);
    if (step !== lastAlive) {
      lastAlive = step;
      refreshAlive();
    }
    let chunk = '';
    for (let i = 0; i < 10000; i++) chunk += row();
    written += chunk.length;
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}
if (PROCESS_COUNT < 300) throw new Error(`generator: only ${PROCESS_COUNT} processes`);
await main();
