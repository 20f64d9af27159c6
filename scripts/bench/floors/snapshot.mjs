// The floor of `record --once --format jsonl` (scripts/bench/floor.mjs, snapshot): the least work that
// writes the same JSON Lines in the same Node, one thread, with the same system calls as `ss -tuanp`
// and the executable: one NETLINK_SOCK_DIAG dump per protocol and family (libc through koffi, as the
// executable does; Node has no AF_NETLINK socket), /proc/PID/fd listed and each descriptor's link read
// with readlinkat (koffi), the endpoints sorted as the executable sorts them, and one buffer written.
// What it skips and the executable does: the command line and output layers, checks of the messages
// (lengths, a socket sent twice), /proc/net when sock_diag is refused, reading each owner's stat,
// exe, cmdline and status and resolving its user (the owner part of each record, from
// ',"OwningProcess":' to the end of the line, is taken per PID from the executable's own output
// beforehand, untimed), the schema's key order, escaping.
//   node scripts/bench/floors/snapshot.mjs TAILS.json COMPUTERNAME > out.jsonl
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(path.join(import.meta.dirname, '..', '..', '..', 'package.json'));
const koffi = require('koffi');
const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int domain, int type, int protocol)');
const send = libc.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');
const recv = libc.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)');
const open = libc.func('int open(const char *path, int flags)');
const readlinkat = libc.func('intptr_t readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)');
const close = libc.func('int close(int fd)');

const tails = new Map(Object.entries(JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))));
const head = `{"ComputerName":${JSON.stringify(process.argv[3])},"Protocol":"`;
const TCP_STATES = [null, 'Established', 'SynSent', 'SynReceived', 'FinWait1', 'FinWait2', 'TimeWait', 'Closed', 'CloseWait', 'LastAck', 'Listen', 'Closing'];

// Addresses as text (IPv6 as RFC 5952 writes them), made once per distinct address.
const texts = new Map();
function ipv4(buf, at) {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}
function ipv6(buf, at) {
  const w = [];
  for (let i = 0; i < 8; i++) w.push(buf.readUInt16BE(at + 2 * i));
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) return `::ffff:${ipv4(buf, at + 12)}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a, b) => w.slice(a, b).map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}
function address(buf, at, family) {
  const key = family === 2 ? buf.readUInt32LE(at) : buf.latin1Slice(at, at + 16);
  let text = texts.get(key);
  if (text === undefined) texts.set(key, (text = family === 2 ? ipv4(buf, at) : ipv6(buf, at)));
  return text;
}

// One dump per protocol and family (inet_diag_req_v2, every state).
const rows = [];
const buf = Buffer.alloc(64 * 1024);
for (const [protocol, proto, family] of [
  ['TCP', 6, 2],
  ['TCP', 6, 10],
  ['UDP', 17, 2],
  ['UDP', 17, 10],
]) {
  const fd = socket(16, 2 | 0x80000, 4);
  const req = Buffer.alloc(72);
  req.writeUInt32LE(72, 0);
  req.writeUInt16LE(20, 4); // SOCK_DIAG_BY_FAMILY
  req.writeUInt16LE(0x301, 6); // NLM_F_REQUEST | NLM_F_DUMP
  req.writeUInt8(family, 16);
  req.writeUInt8(proto, 17);
  req.writeUInt32LE(0xffffffff, 20);
  send(fd, req, req.length, 0);
  for (let done = false; !done; ) {
    const n = Number(recv(fd, buf, buf.length, 0));
    for (let off = 0; off < n; ) {
      const len = buf.readUInt32LE(off);
      const type = buf.readUInt16LE(off + 4);
      if (type === 3 || type === 2) {
        done = true;
        break;
      }
      const m = off + 16;
      const state = buf[m + 1];
      const listening = protocol === 'TCP' ? state === 10 : false;
      const remotePort = buf.readUInt16BE(m + 6);
      const remote = address(buf, m + 24, family);
      const unconnected = protocol === 'UDP' && remotePort === 0;
      rows.push({
        protocol,
        localPort: buf.readUInt16BE(m + 4),
        local: address(buf, m + 8, family),
        remote: listening || unconnected ? null : remote,
        remotePort: listening || unconnected ? null : remotePort,
        state: protocol === 'TCP' ? TCP_STATES[state] ?? null : null,
        inode: buf.readUInt32LE(m + 68),
        pid: null,
      });
      off += (len + 3) & ~3;
    }
  }
  close(fd);
}

// Owners: every process's descriptors, each link read relative to /proc/PID/fd (first owner found).
const wanted = new Map();
for (const row of rows) if (row.inode !== 0) wanted.set(row.inode, null);
const link = Buffer.alloc(64);
for (const name of fs.readdirSync('/proc')) {
  const c = name.charCodeAt(0);
  if (c < 48 || c > 57) continue;
  const dir = `/proc/${name}/fd`;
  let fds;
  try {
    fds = fs.readdirSync(dir);
  } catch {
    continue;
  }
  const dirfd = open(dir, 0x80000);
  if (dirfd < 0) continue;
  const pid = Number(name);
  for (const fd of fds) {
    const n = Number(readlinkat(dirfd, fd, link, link.length));
    // "socket:[12345]"
    if (n < 10 || link[0] !== 0x73 || link[6] !== 0x3a) continue;
    let inode = 0;
    for (let i = 8; i < n - 1; i++) inode = inode * 10 + link[i] - 48;
    if (wanted.get(inode) === null) wanted.set(inode, pid);
  }
  close(dirfd);
}
for (const row of rows) row.pid = wanted.get(row.inode) ?? null;

// The executable's order: protocol, local port, local address, remote address, remote port, PID;
// texts in root collation, which for address characters is code-unit order with ':' before '.'.
const key = (s) => (s === null ? '' : s.includes(':') ? s.replaceAll(':', '-') : s);
for (const row of rows) [row.localKey, row.remoteKey] = [key(row.local), key(row.remote)];
rows.sort(
  (a, b) =>
    (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) ||
    a.localPort - b.localPort ||
    (a.localKey < b.localKey ? -1 : a.localKey > b.localKey ? 1 : 0) ||
    (a.remoteKey < b.remoteKey ? -1 : a.remoteKey > b.remoteKey ? 1 : 0) ||
    (a.remotePort ?? 0) - (b.remotePort ?? 0) ||
    (a.pid ?? -1) - (b.pid ?? -1),
);

// Each record's text written into one buffer (a tail's bytes copied), then one write.
const tailBytes = new Map([...tails].map(([pid, text]) => [pid, Buffer.from(text, 'latin1')]));
const out = Buffer.allocUnsafe(rows.length * 512 + 4096);
let o = 0;
for (const r of rows) {
  o += out.latin1Write(`${head}${r.protocol}","LocalAddress":"${r.local}","LocalPort":${r.localPort},"RemoteAddress":${r.remote === null ? 'null' : `"${r.remote}"`},"RemotePort":${r.remotePort},"State":${r.state === null ? 'null' : `"${r.state}"`}`, o);
  o += (tailBytes.get(String(r.pid)) ?? tailBytes.get('null')).copy(out, o);
  out[o++] = 10;
}
for (let at = 0; at < o; ) at += fs.writeSync(1, out, at, o - at);
