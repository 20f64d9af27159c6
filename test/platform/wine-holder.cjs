// Run by node.exe under Wine for windows-wine.test.ts: holds a TCP listener, a UDP v4 and a UDP v6
// socket, writes their ports and its Windows PID to <dir>/ready.json, and exits when <dir>/stop
// appears (or after 60 s, so it can never outlive the test for long).
const net = require('net');
const dgram = require('dgram');
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];
const tcp = net.createServer().listen(0, '127.0.0.1', () => {
  const udp4 = dgram.createSocket('udp4');
  udp4.bind(0, '127.0.0.1', () => {
    const udp6 = dgram.createSocket('udp6');
    udp6.bind(0, '::1', () => {
      const ready = { pid: process.pid, execPath: process.execPath, tcp: tcp.address().port, udp4: udp4.address().port, udp6: udp6.address().port };
      fs.writeFileSync(path.join(dir, 'ready.json.tmp'), JSON.stringify(ready));
      fs.renameSync(path.join(dir, 'ready.json.tmp'), path.join(dir, 'ready.json'));
    });
  });
});
const started = Date.now();
setInterval(() => {
  if (fs.existsSync(path.join(dir, 'stop')) || Date.now() - started > 60000) process.exit(0);
}, 100);
