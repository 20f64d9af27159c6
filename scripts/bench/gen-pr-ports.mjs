// Writes a synthetic PR-PORTS log of about the given size (docs/log-formats.md layout, CRLF), for the
// parse benchmark and the large-input tests: node scripts/bench/gen-pr-ports.mjs <file> <megabytes> [seed]
import * as fs from 'node:fs';

const [file, megabytes = '100', seedText = '1'] = process.argv.slice(2);
if (!file) {
  console.error('usage: gen-pr-ports.mjs <file> <megabytes> [seed]');
  process.exit(64);
}
const target = Number(megabytes) * 1024 * 1024;
let seed = Number(seedText) >>> 0 || 1;
const rand = (n) => {
  // xorshift32: fast and reproducible
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed % n;
};
const processes = [
  [4, 'System', '<NT AUTHORITY\\SYSTEM>'],
  [880, 'svchost.exe', '<NT AUTHORITY\\NETWORK SERVICE>'],
  [1204, 'svchost.exe', '<NT AUTHORITY\\LOCAL SERVICE>'],
  [2100, 'sqlservr.exe', '<NT SERVICE\\MSSQLSERVER>'],
  [3320, 'w3wp.exe', '<IIS APPPOOL\\DefaultAppPool>'],
  [4410, 'chrome.exe', '<CONTOSO\\alice>'],
  [5120, 'outlook.exe', '<CONTOSO\\bob>'],
  [672, 'lsass.exe', '<NT AUTHORITY\\SYSTEM>'],
];
const header =
  'Port Reporter Version 1.01 Log File - Port usage log\r\n\r\nCheck PR-PIDS-26-11-25-8-0-0.log for corresponding process data\r\n\r\nLog format:\r\n' +
  'date,time,protocol,local port,local IP address,remote port,remote IP address,PID,module,user context\r\n\r\n';
const fd = fs.openSync(file, 'w');
fs.writeSync(fd, header);
let written = header.length;
let t = Date.UTC(2026, 10, 25, 8, 0, 0);
const parts = [];
let size = 0;
while (written < target) {
  if (rand(8) === 0) t += 1000 * (1 + rand(3));
  const d = new Date(t);
  const date = `${d.getUTCFullYear() % 100}/${d.getUTCMonth() + 1}/${d.getUTCDate()}`;
  const time = `${d.getUTCHours()}:${d.getUTCMinutes()}:${d.getUTCSeconds()}`;
  const [pid, image, user] = processes[rand(processes.length)];
  const kind = rand(10);
  let row;
  if (kind === 0) row = `${date},${time},TCP,${1 + rand(49151)},0.0.0.0,,0.0.0.0,${pid},${image},${user}`;
  else if (kind === 1) row = `${date},${time},UDP,${1024 + rand(60000)},10.0.0.5,*,*,${pid},${image},${user}`;
  else row = `${date},${time},TCP,${49152 + rand(16383)},10.0.0.5,${[80, 443, 445, 1433, 3389, 53][rand(6)]},10.${rand(256)}.${rand(256)}.${1 + rand(254)},${pid},${image},${user}`;
  row += '\r\n';
  parts.push(row);
  size += row.length;
  if (size >= 1 << 20) {
    fs.writeSync(fd, parts.join(''));
    written += size;
    parts.length = 0;
    size = 0;
  }
}
if (parts.length) fs.writeSync(fd, parts.join(''));
fs.closeSync(fd);
