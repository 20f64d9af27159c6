// Writes a PR-PORTS log in the original Microsoft Port Reporter 1.01 format (docs/log-formats.md) of
// about the given size, with a realistic mix: long-lived listeners, many client connections from a
// few dozen processes to a few thousand remote addresses, UDP endpoints, a week of time, and a
// matching PR-PIDS file so that rows correlate. Deterministic (a fixed-seed PRNG). Used by the parse and
// stats benchmarks and by the large-input parse test.
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
let seed = 42;
const rand = (n) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return (seed >>> 8) % n;
};

const processes = [
  ['svchost.exe', '<NT AUTHORITY\\NETWORK SERVICE>'], ['svchost.exe', '<NT AUTHORITY\\SYSTEM>'], ['svchost.exe', '<NT AUTHORITY\\LOCAL SERVICE>'],
  ['lsass.exe', '<NT AUTHORITY\\SYSTEM>'], ['System', ''], ['iexplore.exe', '<CONTOSO\\alice>'], ['iexplore.exe', '<CONTOSO\\bob>'],
  ['outlook.exe', '<CONTOSO\\alice>'], ['sqlservr.exe', '<CONTOSO\\svc-sql>'], ['w3wp.exe', '<IIS APPPOOL\\DefaultAppPool>'],
  ['dns.exe', '<NT AUTHORITY\\SYSTEM>'], ['msedge.exe', '<CONTOSO\\carol>'], ['ccmexec.exe', '<NT AUTHORITY\\SYSTEM>'],
].map(([name, user], i) => ({ name, user, pid: 400 + i * 36 }));
const listeners = [[135, 0], [445, 4], [3389, 1], [1433, 8], [80, 9], [53, 10], [88, 3], [389, 3]];

const pids = fs.createWriteStream(path.join(dir, `PR-PIDS-${suffix}.log`));
pids.write('Port Reporter Version 1.01 Log File\r\n\r\nProcess detail log\r\n\r\nSystem Date: Mon Nov 16 00:00:00 2026\r\n\r\n\r\nLocal computer name:\r\n\r\n BENCH01\r\n\r\nOperating System: Windows Server 2003\r\n\r\n');
for (const p of processes) {
  pids.write(`${'='.repeat(64)}\r\nProcess ID: ${p.pid}\r\nRecorded: 26/11/16 0:0:0\r\nRecorded UTC: 2026-11-16T00:00:00.000Z\r\nProcess start UTC: \r\nImage name: ${p.name}\r\nImage path: C:\\Windows\\System32\\${p.name}\r\nCommand line: \r\nUser context: ${p.user}\r\nServices: ${p.name === 'svchost.exe' ? 'RpcSs; Dnscache' : ''}\r\nPorts: \r\nModules (1):\r\n C:\\Windows\\System32\\ntdll.dll\r\n\r\n`);
}
pids.end();

const out = fs.createWriteStream(path.join(dir, `PR-PORTS-${suffix}.log`), { highWaterMark: 1 << 20 });
out.write(`Port Reporter Version 1.01 Log File - Port usage log\r\n\r\nCheck PR-PIDS-${suffix}.log for corresponding process data\r\n\r\nLog format:\r\ndate,time,protocol,local port,local IP address,remote port,remote IP address,PID,module,user context\r\n\r\n`);
let written = 0;
let ms = 0;
const start = Date.UTC(2026, 10, 16);
const lines = [];
function flush() {
  const chunk = lines.join('');
  lines.length = 0;
  written += chunk.length;
  return out.write(chunk);
}
function row() {
  // About 55 ms between rows on average: a 1 GB log (11 M rows) spans a week.
  ms += rand(110);
  const t = new Date(start + ms);
  const date = `${String(t.getUTCFullYear() % 100).padStart(2, '0')}/${t.getUTCMonth() + 1}/${t.getUTCDate()}`;
  const time = `${t.getUTCHours()}:${t.getUTCMinutes()}:${t.getUTCSeconds()}`;
  const kind = rand(20);
  if (kind === 0) {
    const [port, pi] = listeners[rand(listeners.length)];
    const p = processes[pi];
    return `${date},${time},TCP,${port},0.0.0.0,,0.0.0.0,${p.pid},${p.name},${p.user}\r\n`;
  }
  if (kind < 4) {
    const p = processes[rand(processes.length)];
    return `${date},${time},UDP,${49152 + rand(16000)},0.0.0.0,*,*,${p.pid},${p.name},${p.user}\r\n`;
  }
  const p = processes[rand(processes.length)];
  const remote = `10.${rand(4)}.${rand(40)}.${1 + rand(250)}`;
  return `${date},${time},TCP,${49152 + rand(16000)},192.168.1.10,${[443, 80, 445, 389, 1433, 135][rand(6)]},${remote},${p.pid},${p.name},${p.user}\r\n`;
}
async function main() {
  while (written < target) {
    for (let i = 0; i < 10000; i++) lines.push(row());
    if (!flush()) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}
await main();
