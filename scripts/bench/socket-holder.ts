/**
 * Source of a child process that holds about `sockets` loopback TCP sockets (half client, half
 * accepted) and prints "ready" once they are all connected: the load both the snapshot and the
 * record benchmarks measure against. Run with `node -e`.
 */
export function socketHolderSource(sockets: number): string {
  return `
const net = require('net');
const n = ${Math.ceil(sockets / 2)};
const server = net.createServer((s) => s.on('error', () => {})).listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, async () => {
  const port = server.address().port;
  const keep = [];
  for (let i = 0; i < n; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => new Promise((ok, fail) => {
      const c = net.connect(port, '127.0.0.1', ok); c.on('error', fail); keep.push(c);
    })));
  }
  console.log('ready');
});
setInterval(() => {}, 1e6);
`;
}
