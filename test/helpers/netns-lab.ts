import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';

/**
 * A two-host lab for `query` tests and benchmarks: a client namespace and a peer namespace joined by
 * a veth pair, addresses from 198.18.0.0/15 (RFC 2544 benchmarking space) inside those namespaces
 * only, and an nftables input chain on the peer. Nothing is added to the caller's namespace; the
 * names carry the "qcore" prefix and a random suffix so that parallel runs cannot collide.
 */
export interface NetnsLab {
  client: string;
  peer: string;
  clientAddress: string;
  peerAddress: string;
  peerAddress6: string;
  /** Runs argv inside a namespace and returns its output (throws on failure). */
  exec(ns: string, argv: string[], input?: string): string;
  /** Starts a long-running process inside a namespace; it is killed by destroy(). */
  spawn(ns: string, argv: string[]): ChildProcess;
  destroy(): void;
}

export interface LabOptions {
  /** nftables rule lines for the peer's input chain (policy accept), e.g. `tcp dport 7001 drop`. */
  peerRules?: string[];
}

export function canBuildLab(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, nftables)';
  for (const cmd of ['ip', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0) return `needs ${cmd}`;
  }
  return undefined;
}

function run(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr || r.error?.message || r.status}`);
  return r.stdout;
}

export function createLab(options: LabOptions = {}): NetnsLab {
  const id = crypto.randomBytes(3).toString('hex');
  const client = `qcore-c-${id}`;
  const peer = `qcore-p-${id}`;
  // 198.18.<n>.0/24 with n from the id, so two labs at once use different subnets too.
  const n = parseInt(id.slice(0, 2), 16);
  const clientAddress = `198.18.${n}.1`;
  const peerAddress = `198.18.${n}.2`;
  const peerAddress6 = `fd00:198:18:${n.toString(16)}::2`;
  const children: ChildProcess[] = [];
  const lab: NetnsLab = {
    client,
    peer,
    clientAddress,
    peerAddress,
    peerAddress6,
    exec: (ns, argv, input) => run(['ip', 'netns', 'exec', ns, ...argv], input),
    spawn(ns, argv) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    destroy() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      // Deleting a namespace removes its veth end, which removes the pair.
      for (const ns of [client, peer]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    },
  };
  try {
    run(['ip', 'netns', 'add', client]);
    run(['ip', 'netns', 'add', peer]);
    run(['ip', '-n', client, 'link', 'add', 'qc0', 'type', 'veth', 'peer', 'name', 'qc1', 'netns', peer]);
    run(['ip', '-n', client, 'addr', 'add', `${clientAddress}/24`, 'dev', 'qc0']);
    run(['ip', '-n', peer, 'addr', 'add', `${peerAddress}/24`, 'dev', 'qc1']);
    run(['ip', '-n', client, 'addr', 'add', `fd00:198:18:${n.toString(16)}::1/64`, 'dev', 'qc0', 'nodad']);
    run(['ip', '-n', peer, 'addr', 'add', `${peerAddress6}/64`, 'dev', 'qc1', 'nodad']);
    for (const [ns, dev] of [[client, 'qc0'], [peer, 'qc1']] as const) {
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    // The peer answers every probe at once: no ICMP rate limit inside the lab.
    lab.exec(peer, ['sysctl', '-q', '-w', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
    if (options.peerRules?.length) {
      const ruleset = `table inet qcore {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ${options.peerRules.join('\n  ')}\n }\n}\n`;
      lab.exec(peer, ['nft', '-f', '-'], ruleset);
    }
  } catch (err) {
    lab.destroy();
    throw err;
  }
  return lab;
}

/**
 * A small peer program: TCP listeners that accept and close, UDP sockets that echo, UDP sockets that
 * stay silent. Prints "ready" once everything is bound.
 */
export function peerServerScript(ports: { tcp?: number[]; udpEcho?: number[]; udpSilent?: number[] }, host: string): string {
  return `
const net = require('net'), dgram = require('dgram');
const host = ${JSON.stringify(host)};
const pending = [];
for (const p of ${JSON.stringify(ports.tcp ?? [])}) pending.push(new Promise((r) => net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(p, host, r)));
for (const p of ${JSON.stringify(ports.udpEcho ?? [])}) { const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4'); s.on('message', (m, ri) => s.send(m.length ? m : Buffer.from('hi'), ri.port, ri.address)); pending.push(new Promise((r) => s.bind(p, host, r))); }
for (const p of ${JSON.stringify(ports.udpSilent ?? [])}) { const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4'); pending.push(new Promise((r) => s.bind(p, host, r))); }
Promise.all(pending).then(() => console.log('ready'));
setTimeout(() => process.exit(0), 120000).unref();
`;
}

/** Resolves when the child prints `ready`, rejects if it exits first or after timeoutMs. */
export function waitReady(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`peer not ready: ${out}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer exited ${code}: ${out}`));
    });
  });
}
