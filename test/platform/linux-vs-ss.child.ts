/**
 * Runs inside a private network namespace (linux-vs-ss.test.ts starts it with `unshare --net`), so
 * the only sockets there are the ones opened here. Opens a few thousand loopback sockets of every
 * kind, one socket shared with a second process, and some TIME_WAIT ones; then takes one snapshot
 * with the Linux backend and runs `ss -tuanpH`, and prints both as JSON on stdout.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { once } from 'node:events';
import { LinuxBackend } from '../../src/platform/linux';

const TCP4_CONNECTIONS = Number(process.env.PLAT_TCP4 ?? 700);
const TCP6_CONNECTIONS = Number(process.env.PLAT_TCP6 ?? 300);
const DUAL_STACK_CONNECTIONS = 100;
const UDP4 = 300;
const UDP6 = 200;
const TIME_WAIT = 20;

async function listen(host: string, options: net.ListenOptions = {}): Promise<net.Server> {
  const server = net.createServer((socket) => socket.on('error', () => {}));
  server.listen({ host, port: 0, backlog: 4096, ...options });
  await once(server, 'listening');
  return server;
}

async function connectMany(server: net.Server, host: string, count: number): Promise<net.Socket[]> {
  const port = (server.address() as net.AddressInfo).port;
  const sockets: net.Socket[] = [];
  // In batches, so the backlog never overflows.
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => {
      const s = net.connect(port, host);
      sockets.push(s);
      return once(s, 'connect');
    });
    await Promise.all(batch);
  }
  return sockets;
}

async function udpMany(type: 'udp4' | 'udp6', host: string, count: number): Promise<dgram.Socket[]> {
  const sockets: dgram.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = dgram.createSocket(type);
    s.bind(0, host);
    sockets.push(s);
    await once(s, 'listening');
  }
  return sockets;
}

const keep: unknown[] = [];
const v4 = await listen('127.0.0.1');
keep.push(v4, await connectMany(v4, '127.0.0.1', TCP4_CONNECTIONS));
const v6 = await listen('::1');
keep.push(v6, await connectMany(v6, '::1', TCP6_CONNECTIONS));
const dual = await listen('::', { ipv6Only: false });
keep.push(dual, await connectMany(dual, '127.0.0.1', DUAL_STACK_CONNECTIONS));
keep.push(await udpMany('udp4', '127.0.0.1', UDP4), await udpMany('udp6', '::1', UDP6));
const connectedUdp = dgram.createSocket('udp4');
connectedUdp.bind(0, '127.0.0.1');
await once(connectedUdp, 'listening');
connectedUdp.connect((v4.address() as net.AddressInfo).port, '127.0.0.1');
await once(connectedUdp, 'connect');

// The client side that closes first goes to TIME_WAIT: a row no process owns (inode 0).
const twServer = await listen('127.0.0.1');
for (const s of await connectMany(twServer, '127.0.0.1', TIME_WAIT)) s.destroy();
await new Promise((r) => setTimeout(r, 300));

// A second process that shares our dual-stack listener (inherited fd) and has a UDP socket of its own.
const shared = (dual as unknown as { _handle: { fd: number } })._handle.fd;
const other = spawn(
  process.execPath,
  ['-e', "const d=require('dgram').createSocket('udp4');d.bind(0,'127.0.0.1',()=>console.log(d.address().port));setInterval(()=>{},1e6)"],
  { stdio: ['ignore', 'pipe', 'inherit', shared] },
);
await once(other.stdout!, 'data');

const backend = new LinuxBackend();
const started = performance.now();
const snapshot = await backend.snapshot();
const snapshotMs = performance.now() - started;
const ss = execFileSync('ss', ['-tuanpH'], { encoding: 'utf8', maxBuffer: 64 << 20 });
// A second snapshot of the same backend (sock_diag, remembered owners), and one read from /proc/net
// text (what the backend falls back to when netlink is refused): the same endpoints and owners.
const again = await backend.snapshot();
const text = await new LinuxBackend({ sockDiag: false }).snapshot();
other.kill();

process.stdout.write(
  JSON.stringify({
    pid: process.pid,
    otherPid: other.pid,
    execPath: process.execPath,
    snapshotMs,
    endpoints: snapshot.endpoints,
    endpointsAgain: again.endpoints,
    endpointsText: text.endpoints,
    processes: [...snapshot.processes.values()],
    ss,
  }),
  // Exit only once the pipe has taken everything (the open sockets would keep the process alive).
  () => process.exit(0),
);
