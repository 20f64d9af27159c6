import * as net from 'node:net';
import * as util from 'node:util';
import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';

export type PortState = 'LISTENING' | 'NOT LISTENING' | 'FILTERED' | 'LISTENING or FILTERED';

export interface TcpAttemptResult {
  state: PortState;
  /** connected, reset, timeout, icmp-unreachable, self-connect */
  reason: string;
  elapsedMs: number;
  localAddress: string | null;
  localPort: number | null;
  /** Connect attempts made. */
  attempts: number;
  /** The open connection, only when asked for (keepOpen) and the port is LISTENING: a stream probe runs on it. */
  socket?: net.Socket;
  /** The verdict's engine could not give the probe a connection (Winsock engine: Node's reconnect failed). */
  probeError?: string;
}

export interface TcpConnectOptions {
  timeoutMs: number;
  sourcePort?: number;
  sourceAddress?: string;
  /** Keep a LISTENING connection open and return it (for a stream probe); the caller destroys it. */
  keepOpen?: boolean;
}

/**
 * A local shortage (no file descriptors, no ephemeral ports, no buffers): not a verdict about the
 * port. The engine waits, lowers its concurrency and tries the port again.
 */
export class LocalResourceError extends Error {
  constructor(readonly code: string) {
    super(`local resource exhausted: ${code}`);
    this.name = 'LocalResourceError';
  }
}

/** The source port given with -sp is taken: PortQry's message, and the end of the run (exit 64). */
export class SourcePortInUseError extends PortqryError {
  constructor(readonly port: number) {
    super(`Cannot use specified source port ${port}. Port is already in use. Specify a port that is not in use and run the command again.`, ExitCode.Usage);
  }
}

const LOCAL_SHORTAGE = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL']);
// Errors that mean a router or firewall answered for the host: ICMP unreachable other than
// port-unreachable (Linux reports port-unreachable on a TCP connect as ECONNREFUSED, like a reset).
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM', 'EHOSTDOWN', 'ENETDOWN', 'ENOPROTOOPT', 'EPROTO']);

/** Verdict for a failed connect; throws for local problems that say nothing about the port. */
export function classifyConnectError(code: string, sourcePort: number | undefined): { state: PortState; reason: string } {
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return { state: 'NOT LISTENING', reason: 'reset' };
  if (code === 'ETIMEDOUT') return { state: 'FILTERED', reason: 'timeout' };
  if (UNREACHABLE.has(code)) return { state: 'FILTERED', reason: 'icmp-unreachable' };
  if (code === 'EADDRINUSE' && sourcePort) throw new SourcePortInUseError(sourcePort);
  if (LOCAL_SHORTAGE.has(code) || code === 'EADDRINUSE') throw new LocalResourceError(code);
  return { state: 'FILTERED', reason: code.toLowerCase() };
}

/**
 * On loopback Linux may pick the target port as our ephemeral source port and connect the socket to
 * itself (TCP simultaneous open). That is not a listener.
 */
function isSelfConnect(localAddress: string | undefined, localPort: number | undefined, address: string, port: number): boolean {
  return localPort === port && localAddress === address;
}

function since(started: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3;
}

/** Node-style callback: a verdict, or a LocalResourceError / SourcePortInUseError. */
export type ConnectCallback = (err: Error | null, result?: TcpAttemptResult) => void;

/**
 * One TCP connect attempt. SYN-ACK → LISTENING; RST (or ICMP port unreachable) → NOT LISTENING;
 * silence until the timeout or another ICMP unreachable → FILTERED.
 */
function connectAttempt(address: string, port: number, options: TcpConnectOptions, cb: ConnectCallback): void {
  if (!options.keepOpen && fastTcp) fastConnect(fastTcp, address, port, options, cb);
  else socketConnect(address, port, options, cb);
}

/** The portable path through net.Socket; used when the socket is needed afterwards (probes). */
function socketConnect(address: string, port: number, options: TcpConnectOptions, cb: ConnectCallback): void {
  const started = process.hrtime.bigint();
  const socket = new net.Socket();
  let settled = false;
  const finish = (state: PortState, reason: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    const localAddress = socket.localAddress ?? null;
    const localPort = socket.localPort ?? null;
    const keep = state === 'LISTENING' && options.keepOpen;
    if (!keep) {
      // An RST instead of a FIN: no TIME_WAIT pile-up on either side during wide scans.
      if (state === 'LISTENING' && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
    }
    cb(null, { state, reason, elapsedMs: since(started), localAddress, localPort, attempts: 1, socket: keep ? socket : undefined });
  };
  const timer = setTimeout(() => finish('FILTERED', 'timeout'), options.timeoutMs);
  socket.once('connect', () => {
    if (isSelfConnect(socket.localAddress, socket.localPort, address, port)) finish('NOT LISTENING', 'self-connect');
    else finish('LISTENING', 'connected');
  });
  socket.once('error', (err: NodeJS.ErrnoException) => {
    if (settled) return;
    try {
      const verdict = classifyConnectError(err.code ?? 'error', options.sourcePort);
      finish(verdict.state, verdict.reason);
    } catch (local) {
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      cb(local as Error);
    }
  });
  socket.connect({ host: address, port, localPort: options.sourcePort, localAddress: options.sourceAddress ?? (options.sourcePort ? anyAddress(address) : undefined) });
}

function anyAddress(address: string): string {
  return net.isIPv6(address) ? '::' : '0.0.0.0';
}

// ---------------------------------------------------------------------------------------------
// Fast path. A net.Socket costs stream and event machinery that a connect-and-close never uses: a
// 1–65535 loopback scan takes ~3.5 s through net.Socket and ~1.2 s through libuv's TCP handle (the
// object net.Socket itself wraps), which is what nmap -sT takes. The handle is reached through
// process.binding('tcp_wrap'), so it is feature-checked once and the portable path is used if the
// running Node does not offer it (or PORTQRY_PORTABLE_CONNECT is set).
// ---------------------------------------------------------------------------------------------

interface TcpHandle {
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  getsockname(out: { address?: string; port?: number }): number;
  close(cb?: () => void): void;
  reset?(cb?: () => void): number;
}
interface ConnectReq {
  oncomplete: (status: number) => void;
  address?: string;
  port?: number;
}
interface TcpWrapBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  constants: { SOCKET: number };
}

const fastTcp: TcpWrapBinding | undefined = loadFastTcp();

function loadFastTcp(): TcpWrapBinding | undefined {
  if (process.env.PORTQRY_PORTABLE_CONNECT) return undefined;
  try {
    const binding = (process as unknown as { binding(name: string): TcpWrapBinding }).binding('tcp_wrap');
    const handle = new binding.TCP(binding.constants.SOCKET);
    const usable = typeof handle.connect === 'function' && typeof handle.connect6 === 'function' && typeof handle.getsockname === 'function' && typeof binding.TCPConnectWrap === 'function';
    handle.close();
    return usable ? binding : undefined;
  } catch {
    return undefined;
  }
}

function fastConnect(binding: TcpWrapBinding, address: string, port: number, options: TcpConnectOptions, cb: ConnectCallback): void {
  const started = process.hrtime.bigint();
  const handle = new binding.TCP(binding.constants.SOCKET);
  const v6 = address.includes(':'); // an IP literal; net.isIPv6's regex costs more than a connect here
  let settled = false;
  const local: { address?: string; port?: number } = {};
  const done = (state: PortState, reason: string, reset = false) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (reset && typeof handle.reset === 'function') handle.reset();
    else handle.close();
    cb(null, { state, reason, elapsedMs: since(started), localAddress: local.address ?? null, localPort: local.port ?? null, attempts: 1 });
  };
  const failWith = (status: number) => {
    try {
      const verdict = classifyConnectError(util.getSystemErrorName(status), options.sourcePort);
      done(verdict.state, verdict.reason);
    } catch (err) {
      settled = true;
      clearTimeout(timer);
      handle.close();
      cb(err as Error);
    }
  };
  const timer = setTimeout(() => done('FILTERED', 'timeout'), options.timeoutMs);
  if (options.sourcePort || options.sourceAddress) {
    const bindAddress = options.sourceAddress ?? anyAddress(address);
    const status = v6 ? handle.bind6(bindAddress, options.sourcePort ?? 0, 0) : handle.bind(bindAddress, options.sourcePort ?? 0);
    if (status) return failWith(status);
  }
  const req = new binding.TCPConnectWrap();
  req.address = address;
  req.port = port;
  req.oncomplete = (status: number) => {
    if (settled) return;
    if (status < 0) return failWith(status);
    handle.getsockname(local);
    if (isSelfConnect(local.address, local.port, address, port)) done('NOT LISTENING', 'self-connect');
    else done('LISTENING', 'connected', true);
  };
  const status = v6 ? handle.connect6(req, address, port) : handle.connect(req, address, port);
  if (status) failWith(status);
}

/**
 * PortQry's rule: a TCP port is tried up to `attempts` times before it is called FILTERED; a definite
 * answer (connected, reset, an ICMP unreachable) ends the attempts at once. Callback form: this is
 * the hot path of a 65535-port scan, where promise frames cost as much as the connects.
 */
export function tcpConnectCb(address: string, port: number, options: TcpConnectOptions & { attempts: number }, cb: ConnectCallback): void {
  const max = Math.max(1, options.attempts);
  let n = 0;
  const attempt = () => {
    n++;
    connectAttempt(address, port, options, (err, r) => {
      if (err) return cb(err);
      if (r!.reason === 'timeout' && n < max) return attempt();
      r!.attempts = n;
      cb(null, r);
    });
  };
  attempt();
}
