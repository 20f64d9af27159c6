import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Real servers for probe tests: start a Debian daemon in the foreground on loopback (or in a network
 * namespace the test creates), wait until it answers, and stop it in teardown.
 */

export interface Daemon {
  child: ChildProcess;
  /** Everything the daemon printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Path of a command, or undefined when its package is not installed (the test then skips). */
export function which(cmd: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/lib/ipsec']) {
    const p = path.join(dir, cmd);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pudp-${prefix}-`));
}

export function startDaemon(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Daemon {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, cwd: options.cwd });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  child.on('error', (e) => (out += `\nspawn error: ${e.message}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** A port that was free a moment ago (bind to 0 and release). */
export async function freePort(kind: 'udp' | 'tcp' = 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    return port;
  }
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  await new Promise<void>((r) => sock.close(r));
  return port;
}

/** Sends one datagram and returns the first reply, or undefined after `timeoutMs`. */
export function udpExchange(address: string, port: number, request: Buffer, timeoutMs = 1000, localPort = 0): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('message', (msg) => done(msg));
    sock.on('error', () => done(undefined)); // ICMP port unreachable while the daemon starts
    sock.bind(localPort, () => sock.send(request, port, address));
  });
}

/** Polls `probe` until it gives a reply or `timeoutMs` passes; the daemon's output explains a failure. */
export async function waitForReply(daemon: Daemon, probe: () => Promise<Buffer | undefined>, timeoutMs = 10_000): Promise<Buffer> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.child.exitCode !== null) throw new Error(`daemon exited with ${daemon.child.exitCode}: ${daemon.output()}`);
    const reply = await probe();
    if (reply) return reply;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no reply within ${timeoutMs} ms; daemon said: ${daemon.output()}`);
}

/** Runs a command to completion (setup steps such as kdb5_util); throws with its output on failure. */
export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...options.env }, input: options.input, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

export interface Netns {
  name: string;
  /** Address of the namespace's end of the veth pair (the test host). */
  address: string;
  /** Interface name inside the namespace. */
  inner: string;
  /** argv prefix that runs a command inside the namespace. */
  exec(cmd: string, args: string[]): [string, string[]];
  destroy(): void;
}

/** Whether this process may create network namespaces (root with iproute2). */
export function canCreateNetns(): boolean {
  return process.getuid?.() === 0 && which('ip') !== undefined;
}

/**
 * A network namespace joined to ours by a veth pair on a /30 of its own, for daemons that need a
 * well-known port or a non-loopback interface. Names and the subnet (10.213.<id>.x/30) carry this
 * process's id, so two test runs at the same time (a developer's and CI's) do not collide.
 */
export function createNetns(suffix: string, id: number): Netns {
  const tag = String(process.pid % 1000).padStart(3, '0');
  const name = `pudp-${suffix}${tag}`;
  const outer = `${name}a`.slice(0, 15);
  const inner = `${name}b`.slice(0, 15);
  const base = 4 * (process.pid % 64);
  const ip = (...args: string[]) => run('ip', args);
  const destroy = () => {
    spawnSync('ip', ['netns', 'del', name]);
    spawnSync('ip', ['link', 'del', outer]);
  };
  destroy(); // left over from an interrupted run of a process with the same id
  try {
    ip('netns', 'add', name);
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', name);
    ip('addr', 'add', `10.213.${id}.${base + 1}/30`, 'dev', outer);
    ip('link', 'set', outer, 'up');
    ip('-n', name, 'addr', 'add', `10.213.${id}.${base + 2}/30`, 'dev', inner);
    ip('-n', name, 'link', 'set', inner, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (e) {
    destroy();
    throw e;
  }
  return { name, address: `10.213.${id}.${base + 2}`, inner, exec: (cmd, args) => ['ip', ['netns', 'exec', name, cmd, ...args]], destroy };
}
