import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The subset of a tap test these helpers need (teardown and skip). */
interface TestLike {
  teardown(fn: () => void | Promise<void>): void;
}

/** True when `cmd` is on PATH (or an existing absolute path). */
export function haveCommand(cmd: string): boolean {
  if (path.isAbsolute(cmd)) return fs.existsSync(cmd);
  return spawnSync('sh', ['-c', `command -v "${cmd}"`], { stdio: 'ignore' }).status === 0;
}

/** A temp directory named ptcp-<name>-XXXX, removed when the test ends. */
export function tempDir(t: TestLike, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ptcp-${name}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback TCP port that was free a moment ago (for servers that cannot listen on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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

/**
 * A network namespace ptcp-<name>-<pid> joined to this one by a veth pair on a /30 of 198.19.0.0/16
 * (RFC 2544 test space): returns the address inside it. Removed when the test ends.
 */
export function netnsHost(t: TestLike, name: string): { netns: string; address: string } {
  const netns = `ptcp-${name}-${process.pid}`;
  const third = (process.pid % 250) + 1;
  const fourth = (name.length * 4) % 252;
  const [outer, inner] = [`198.19.${third}.${fourth + 1}`, `198.19.${third}.${fourth + 2}`];
  const veth = `pt${process.pid % 100000}${name.slice(0, 3)}`.slice(0, 13);
  const sh = (cmd: string) => {
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  };
  spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  sh(`ip netns add ${netns}`);
  t.teardown(() => void spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' }));
  sh(`ip link add ${veth}a type veth peer name ${veth}b && ip link set ${veth}b netns ${netns}`);
  sh(`ip addr add ${outer}/30 dev ${veth}a && ip link set ${veth}a up`);
  sh(`ip netns exec ${netns} sh -c 'ip addr add ${inner}/30 dev ${veth}b && ip link set ${veth}b up && ip link set lo up'`);
  return { netns, address: inner };
}

export interface StartedServer {
  child: ChildProcess;
  /** What the server wrote on stdout and stderr so far (for assertion messages). */
  output(): string;
}

/**
 * Starts a real server in the foreground, waits until `port` accepts connections, and stops it (SIGTERM,
 * then SIGKILL) when the test ends. The server must not daemonize.
 */
export async function startServer(
  t: TestLike,
  cmd: string,
  args: string[],
  options: { port: number; host?: string; cwd?: string; env?: NodeJS.ProcessEnv; netns?: string; readyTimeoutMs?: number },
): Promise<StartedServer> {
  const [file, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, cmd, ...args]] : [cmd, args];
  // detached: its own process group, so a daemon that signals "its" group on shutdown (smbd does) cannot
  // hit the test runner.
  const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => (clearTimeout(kill), resolve()));
        child.kill('SIGTERM');
      }),
  );
  try {
    await Promise.race([
      waitForTcp(options.port, { host: options.host, timeoutMs: options.readyTimeoutMs }),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code} before listening: ${out}`)))),
    ]);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${cmd} output: ${out}`);
  }
  return { child, output: () => out };
}
