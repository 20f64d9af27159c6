import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Real servers for probe tests (the TCP ones in tcp-servers.ts, the UDP ones in udp-servers.ts): a
 * Debian daemon started in the foreground on loopback, or in a network namespace the test creates,
 * with its configuration in a temp directory; all of it stopped and removed when the test ends.
 */

/** The subset of a tap test these helpers need. */
export interface TestLike {
  teardown(fn: () => unknown): void;
}

// sbin is not on every user's PATH; strongSwan's charon lives in /usr/lib/ipsec.
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/lib/ipsec'];

/** Path of a command (absolute, on PATH, or in an sbin directory), or undefined when its package is not installed. */
export function which(cmd: string): string | undefined {
  if (path.isAbsolute(cmd)) return fs.existsSync(cmd) ? cmd : undefined;
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRS]) {
    const p = path.join(dir, cmd);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export function haveCommand(cmd: string): boolean {
  return which(cmd) !== undefined;
}

/** A temp directory portqry-test-<name>-XXXX, removed when the test ends. */
export function tempDir(t: TestLike, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `portqry-test-${name}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback port that was free a moment ago (bind to 0 and release), for servers that cannot listen on port 0. */
export async function freePort(protocol: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  if (protocol === 'tcp') {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(resolve));
  return port;
}

/** Runs a setup command (ip, kdb5_util…) to completion; throws with its output on failure. */
export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...options.env }, input: options.input, cwd: options.cwd, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

export interface ServerProcess {
  child: ChildProcess;
  /** What the server wrote on stdout and stderr so far (for assertion messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. Also done when the test ends. */
  stop(): Promise<void>;
}

/**
 * Starts a server in the foreground (it must not daemonize) and stops it when the test ends. `env` is
 * added to this process's environment; `netns` runs it inside that namespace.
 */
export function spawnServer(t: TestLike, cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; netns?: string } = {}): ServerProcess {
  const [file, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, cmd, ...args]] : [cmd, args];
  // detached: its own process group, so a daemon that signals "its" group on shutdown (smbd does) cannot
  // hit the test runner.
  const child = spawn(file, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  child.on('error', (e) => (out += `\nspawn error: ${e.message}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(kill);
  };
  t.teardown(stop);
  return { child, output: () => out, stop };
}

/** spawnServer, then waits until `port` accepts TCP connections (rejects with the server's output if it exits first). */
export async function startServer(
  t: TestLike,
  cmd: string,
  args: string[],
  options: { port: number; host?: string; cwd?: string; env?: NodeJS.ProcessEnv; netns?: string; readyTimeoutMs?: number },
): Promise<ServerProcess> {
  const server = spawnServer(t, cmd, args, options);
  try {
    await Promise.race([
      waitForTcp(options.port, { host: options.host, timeoutMs: options.readyTimeoutMs }),
      new Promise((_, reject) => server.child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code} before listening: ${server.output()}`)))),
    ]);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${cmd} output: ${server.output()}`);
  }
  return server;
}

/** Resolves once host:port accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForTcp(port: number, options: { host?: string; timeoutMs?: number } = {}): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${options.timeoutMs ?? 10_000} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
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

/** Polls `probe` until it gives a reply or `timeoutMs` passes; the server's output explains a failure. */
export async function waitForReply(server: ServerProcess, probe: () => Promise<Buffer | undefined>, timeoutMs = 10_000): Promise<Buffer> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`server exited with ${server.child.exitCode}: ${server.output()}`);
    const reply = await probe();
    if (reply) return reply;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no reply within ${timeoutMs} ms; server said: ${server.output()}`);
}

/** Whether this process may create network namespaces (root with iproute2). */
export function canCreateNetns(): boolean {
  return process.getuid?.() === 0 && haveCommand('ip');
}

/** Why a server cannot run here (for tap's `skip`), or false when it can. */
export function unavailable(command: string, pkg: string, needsNetns = false): string | false {
  let missing: string | false = false;
  if (!haveCommand(command)) missing = `${command} is not installed (Debian package ${pkg}, .ci/apt-packages.txt)`;
  else if (needsNetns && !canCreateNetns()) missing = 'needs root for a network namespace';
  // A skip under CI would hide a broken install: there it is a failure of the whole file.
  if (missing && process.env.CI === 'true') throw new Error(`missing prerequisite under CI: ${missing}`);
  return missing;
}

export interface NetnsHost {
  netns: string;
  /** Address of the namespace's end of the veth pair (the test host). */
  address: string;
  /** The namespace's interface, for daemons that bind by interface name. */
  device: string;
}

let netnsCount = 0;

/**
 * A network namespace pq-<name>-<pid> joined to this one by a veth pair on a /30 of 198.19.0.0/16
 * (RFC 2544 test space), for daemons that need a well-known port or a non-loopback interface; removed
 * when the test ends. The /30 comes from this process's id and a per-process count, so two test runs
 * at the same time (a developer's and CI's, or tap's parallel files) do not share a subnet.
 */
export function netnsHost(t: TestLike, name: string): NetnsHost {
  const slot = netnsCount++ % 4;
  const netns = `pq-${name}-${process.pid}`;
  const index = (process.pid % 4096) * 4 + slot; // one of the 16384 /30s
  const address = (host: number) => `198.19.${index >> 6}.${(index & 63) * 4 + host}`;
  const veth = `pq${process.pid % 1000000}${slot}`;
  const [outer, inner] = [`${veth}a`, `${veth}b`];
  const destroy = () => {
    spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' }); // takes the veth pair with it
    spawnSync('ip', ['link', 'del', outer], { stdio: 'ignore' });
  };
  destroy(); // left over from an interrupted run of a process with the same id
  t.teardown(destroy);
  run('ip', ['netns', 'add', netns]);
  run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', netns]);
  run('ip', ['addr', 'add', `${address(1)}/30`, 'dev', outer]);
  run('ip', ['link', 'set', outer, 'up']);
  run('ip', ['-n', netns, 'addr', 'add', `${address(2)}/30`, 'dev', inner]);
  run('ip', ['-n', netns, 'link', 'set', inner, 'up']);
  run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  return { netns, address: address(2), device: inner };
}
