// The load the snapshot and record benchmarks measure against: a child process holding about
// `sockets` loopback TCP sockets with a busy server's variety, plus a few UDP sockets:
//   - 24 listeners (ephemeral ports, so that parallel runs cannot collide) on 127.0.0.1, 127.0.0.2,
//     127.0.0.3 and 127.10.0.1;
//   - sockets/2 connections, each from its own client address in 127.64.0.0/10 (thousands of distinct
//     remote addresses) and an ephemeral source port (the kernel's choice), spread over the listeners;
//     both ends are held, so the snapshot sees the accepted side (service port here, ephemeral port
//     there) and the client side;
//   - 16 UDP sockets on ephemeral ports.
// The child runs from a small script file (an ordinary command line, as a server's process has), and
// prints "ready" once every connection is up and accepted. Usage: const h = await startSocketHolder(10000); ... h.stop().
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SOURCE = `
const net = require('net');
const dgram = require('dgram');
const n = Math.ceil(Number(process.argv[2]) / 2);
const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.10.0.1'];
const keep = [];
let accepted = 0;
let allAccepted;
const acceptedAll = new Promise((ok) => { allAccepted = ok; });
async function main() {
  const listeners = [];
  for (const host of hosts) for (let p = 0; p < 6; p++) {
    const server = net.createServer((s) => { s.on('error', () => {}); keep.push(s); if (++accepted === n) allAccepted(); });
    await new Promise((ok, fail) => { server.once('error', fail); server.listen({ host, port: 0, backlog: 4096 }, ok); });
    listeners.push(server.address());
  }
  for (let i = 0; i < 16; i++) keep.push(dgram.createSocket('udp4').bind(0, '127.0.0.1'));
  for (let i = 0; i < n; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, k) => new Promise((ok, fail) => {
      const j = i + k;
      const l = listeners[(j * 7) % listeners.length];
      // A distinct client address per connection: 127.64.0.0/10, spread over the second and third octets.
      const localAddress = '127.' + (64 + ((j >> 14) & 63)) + '.' + ((j >> 6) & 255) + '.' + (1 + (j & 63));
      const c = net.connect({ port: l.port, host: l.address, localAddress }, ok);
      c.on('error', fail);
      keep.push(c);
    })));
  }
  // A connected client's peer may still wait in the accept queue (no descriptor, no owner yet).
  await acceptedAll;
  console.log('ready');
}
main().catch((e) => { console.error('socket-holder: ' + e.message); process.exit(1); });
setInterval(() => {}, 1e6);
`;

/** Starts the holder and resolves once its sockets are connected. */
export async function startSocketHolder(sockets, node = process.execPath) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socket-holder-'));
  const file = path.join(dir, 'holder.cjs');
  fs.writeFileSync(file, SOURCE);
  const child = spawn(node, [file, String(sockets)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [exit] = await Promise.race([once(child.stdout, 'data').then(() => [null]), once(child, 'exit')]);
  if (exit !== null) throw new Error(`socket holder exited (${exit}) before its sockets were up (ulimit -n?)`);
  return {
    pid: child.pid,
    stop() {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
