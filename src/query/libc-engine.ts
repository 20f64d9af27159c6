/**
 * The Linux libc query engine: TCP connects without a probe (the whole of a wide scan) through glibc's
 * socket()/connect()/poll() called with koffi, instead of one libuv TCP handle per port. Same system
 * calls per port as nmap -sT (socket, connect, getsockopt SO_ERROR, close) and no per-port handle,
 * request object, epoll registration or timer: a 1–65535 loopback scan costs about what nmap costs.
 *
 * One attempt's life: socket(SOCK_NONBLOCK) → [-sp: SO_REUSEADDR + bind, as libuv does] → connect →
 * the poller → SO_ERROR → libc-verdict.ts decides → [LISTENING: SO_LINGER 0, a RST like the Node
 * engine's handle.reset()] → close. Verdicts only come from libc-verdict.ts, which names errno values
 * as Node does and classifies them with tcp-connect.ts's rule, so both engines agree.
 *
 * The poller: every waiting socket is in one pollfd array. A tick polls them all with timeout 0 on
 * this thread (never blocks), ends the ready ones and the ones past their deadline, and, when nothing
 * was ready, waits in poll() with a timeout on a koffi worker thread (the event loop stays free). A
 * socket added during that wait wakes it through an eventfd in the same array. Sockets are closed only
 * from a tick, never while a poll() in flight may look at them. A timeout is declared only after a
 * poll made after the deadline found the socket still not ready.
 *
 * Connections a probe needs (a net.Socket), UDP, and IPv6 link-local targets with a zone go through
 * the Node engine (tcp-connect.ts, udp-exchange.ts).
 */
import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';
import { formatIPv4 } from '../platform/address';
import {
  AF_INET,
  AF_INET6,
  EAGAIN,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EINTR,
  type Libc,
  loadLibc,
  POLLIN,
  POLLOUT,
  pollAsync,
  SO_ERROR,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from './libc-api';
import { connectedVerdict, errnoName, type LibcTcpStep, libcTcpStep } from './libc-verdict';
import { type ConnectCallback, type PortState, type TcpConnectOptions, tcpConnectCb as nodeTcpConnect } from './tcp-connect';
import { ipv4Bytes, ipv6Bytes } from './winsock-sockaddr';

type Options = TcpConnectOptions & { attempts: number };

interface Attempt {
  fd: number;
  address: string;
  port: number;
  v6: boolean;
  options: Options;
  cb: ConnectCallback;
  /** Attempts made so far (PortQry: up to options.attempts while the port times out). */
  n: number;
  started: number;
  /** ms on the nowMs() clock. */
  deadline: number;
}

/** ms since `started` (performance.now()), rounded to the µs as tcp-connect.ts rounds hrtime. */
function since(started: number): number {
  return Math.round((performance.now() - started) * 1e3) / 1e3;
}

const nowMs = () => performance.now();

/** sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes) as Linux lays them out; port in network order. */
export function linuxSockaddr(address: string, port: number): Buffer {
  if (!address.includes(':')) {
    const buf = Buffer.alloc(16);
    buf.writeUInt16LE(AF_INET, 0);
    buf.writeUInt16BE(port, 2);
    ipv4Bytes(address).copy(buf, 4);
    return buf;
  }
  const { bytes, scopeId } = ipv6Bytes(address);
  const buf = Buffer.alloc(28);
  buf.writeUInt16LE(AF_INET6, 0);
  buf.writeUInt16BE(port, 2);
  bytes.copy(buf, 8);
  buf.writeUInt32LE(scopeId, 24);
  return buf;
}

export class LibcTcpEngine {
  private pending: Attempt[] = [];
  private scheduled = false;
  private inFlight = false;
  private woken = false;
  private readonly wakeFd: number;
  private pollBuf = Buffer.alloc(8 * 1025);
  private pollView = new Int32Array(this.pollBuf.buffer, this.pollBuf.byteOffset, this.pollBuf.length / 4);
  private readonly intBuf = Buffer.alloc(4);
  private readonly lenBuf = Buffer.alloc(4);
  private readonly eight = Buffer.alloc(8);
  private readonly nameBuf = Buffer.alloc(128);
  private readonly textBuf = Buffer.alloc(64);
  private readonly linger = Buffer.alloc(8);
  private lastAddress = '';
  private lastSockaddr: Buffer = Buffer.alloc(0);

  constructor(private readonly api: Libc) {
    const fd = api.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw new Error(`eventfd() for the poller's wake-up failed: ${errnoName(api.errno())}`);
    this.wakeFd = fd;
    // struct linger { int l_onoff = 1; int l_linger = 0; }: close() sends a RST, no TIME_WAIT here.
    this.linger.writeInt32LE(1, 0);
    this.eight.writeBigUInt64LE(1n, 0);
  }

  /** Sockets waited on now (tests). */
  get size(): number {
    return this.pending.length;
  }

  readonly tcpConnect = (address: string, port: number, options: Options, cb: ConnectCallback): void => {
    if (options.keepOpen || address.includes('%')) return nodeTcpConnect(address, port, options, cb);
    const a: Attempt = { fd: -1, address, port, v6: address.includes(':'), options, cb, n: 0, started: 0, deadline: 0 };
    this.attempt(a);
  };

  private attempt(a: Attempt): void {
    const { api } = this;
    a.n++;
    a.started = performance.now();
    a.deadline = a.started + a.options.timeoutMs;
    const fd = api.socket(a.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return this.step(a, libcTcpStep({ kind: 'call', call: 'socket', errno: api.errno() }, a.options.sourcePort), null);
    a.fd = fd;
    const { sourcePort, sourceAddress } = a.options;
    if (sourcePort || sourceAddress) {
      // What libuv's uv_tcp_bind does before bind(): SO_REUSEADDR, so -sp can be reused at once.
      this.intBuf.writeInt32LE(1, 0);
      api.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, this.intBuf, 4);
      const local = linuxSockaddr(sourceAddress ?? (a.v6 ? '::' : '0.0.0.0'), sourcePort ?? 0);
      if (api.bind(fd, local, local.length) !== 0) return this.step(a, libcTcpStep({ kind: 'call', call: 'bind', errno: api.errno() }, sourcePort), null);
    }
    const addr = this.sockaddr(a.address, a.port);
    const rc = api.connect(fd, addr, addr.length);
    const step = libcTcpStep({ kind: 'call', call: 'connect', errno: rc === 0 ? 0 : api.errno() }, sourcePort);
    if (step.kind !== 'wait') return this.step(a, step, null);
    this.pending.push(a);
    if (this.inFlight) this.wake();
    else this.schedule();
  }

  private sockaddr(address: string, port: number): Buffer {
    if (address !== this.lastAddress) {
      this.lastSockaddr = linuxSockaddr(address, port);
      this.lastAddress = address;
    }
    this.lastSockaddr.writeUInt16BE(port, 2);
    return this.lastSockaddr;
  }

  /** Acts on a step of attempt `a`; `local` is the connected socket's own address. */
  private step(a: Attempt, step: LibcTcpStep, local: { address: string; port: number } | null): void {
    const { api } = this;
    if (step.kind === 'wait') return;
    if (step.kind === 'error') {
      if (a.fd >= 0) api.close(a.fd);
      a.fd = -1;
      return a.cb(step.error);
    }
    let state: PortState;
    let reason: string;
    if (step.kind === 'connected') {
      local = this.localName(a.fd);
      ({ state, reason } = connectedVerdict(local, a.address, a.port));
      // An RST instead of a FIN on an open port (the Node engine's handle.reset()); a self-connect is just closed.
      if (state === 'LISTENING') api.setsockopt(a.fd, SOL_SOCKET, SO_LINGER, this.linger, 8);
    } else {
      ({ state, reason } = step);
    }
    if (a.fd >= 0) api.close(a.fd);
    a.fd = -1;
    if (reason === 'timeout' && a.n < Math.max(1, a.options.attempts)) return this.attempt(a);
    a.cb(null, { state, reason, elapsedMs: since(a.started), localAddress: local?.address ?? null, localPort: local?.port ?? null, attempts: a.n });
  }

  /** getsockname() as Node reports it (uv_inet_ntop: glibc's inet_ntop is the same ISC code). */
  private localName(fd: number): { address: string; port: number } | null {
    const { api, nameBuf } = this;
    this.lenBuf.writeUInt32LE(nameBuf.length, 0);
    if (api.getsockname(fd, nameBuf, this.lenBuf) !== 0) return null;
    const family = nameBuf.readUInt16LE(0);
    const port = nameBuf.readUInt16BE(2);
    if (family === AF_INET) return { address: formatIPv4(nameBuf, 4), port };
    if (family !== AF_INET6) return null;
    if (api.inet_ntop(AF_INET6, nameBuf.subarray(8, 24), this.textBuf, this.textBuf.length) === null) return null;
    return { address: this.textBuf.toString('latin1', 0, this.textBuf.indexOf(0)), port };
  }

  private schedule(): void {
    // Attempts started in the same turn share one poll().
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.tick);
  }

  private wake(): void {
    if (this.woken) return;
    this.woken = true;
    this.api.write(this.wakeFd, this.eight, 8);
  }

  /** Fills the pollfd array: the eventfd first, then every waiting socket (POLLOUT: connect done). */
  private fill(list: readonly Attempt[]): number {
    const nfds = list.length + 1;
    if (this.pollBuf.length < nfds * 8) {
      this.pollBuf = Buffer.alloc(nfds * 16);
      this.pollView = new Int32Array(this.pollBuf.buffer, this.pollBuf.byteOffset, this.pollBuf.length / 4);
    }
    const v = this.pollView;
    v[0] = this.wakeFd;
    v[1] = POLLIN; // events = POLLIN, revents = 0 (little-endian shorts)
    for (let k = 0; k < list.length; k++) {
      v[2 * k + 2] = list[k]!.fd;
      v[2 * k + 3] = POLLOUT;
    }
    return nfds;
  }

  private readonly tick = (): void => {
    this.scheduled = false;
    if (this.inFlight) return;
    const list = this.pending;
    if (list.length === 0) return;
    const { api } = this;
    const nfds = this.fill(list);
    const now = nowMs();
    const n = api.poll(this.pollBuf, nfds, 0) as number;
    if (n < 0) {
      const errno = api.errno();
      if (errno === EINTR || errno === EAGAIN) return this.schedule();
      return this.failAll(new PortqryError(`poll() failed: ${errnoName(errno)}`, ExitCode.OsError));
    }
    // Callbacks below start new attempts; they go to a fresh list and join the survivors after.
    this.pending = [];
    const keep: Attempt[] = [];
    const v = this.pollView;
    let progress = false;
    let k = 0;
    let finished = false;
    try {
      for (; k < list.length; k++) {
        const a = list[k]!;
        if (v[2 * k + 3]! >>> 16 !== 0) {
          progress = true;
          this.lenBuf.writeUInt32LE(4, 0);
          const soError = api.getsockopt(a.fd, SOL_SOCKET, SO_ERROR, this.intBuf, this.lenBuf) === 0 ? this.intBuf.readInt32LE(0) : api.errno();
          this.step(a, libcTcpStep({ kind: 'ready', soError }, a.options.sourcePort), null);
        } else if (a.deadline <= now) {
          progress = true;
          this.step(a, libcTcpStep({ kind: 'deadline' }, a.options.sourcePort), null);
        } else {
          keep.push(a);
        }
      }
      finished = true;
    } finally {
      // A callback that throws leaves the sockets after its own waiting, not lost (the next tick sees them).
      if (!finished) for (let j = k + 1; j < list.length; j++) keep.push(list[j]!);
      this.pending = this.pending.length === 0 ? keep : keep.concat(this.pending);
      if (!finished && this.pending.length > 0) this.schedule();
    }
    if (this.pending.length === 0) return;
    if (progress) this.schedule();
    else this.waitAsync();
  };

  /** Nothing ready: poll() on a worker thread until a socket is ready, the nearest deadline, or a wake-up. */
  private waitAsync(): void {
    const list = this.pending;
    let nearest = Infinity;
    for (const a of list) if (a.deadline < nearest) nearest = a.deadline;
    const timeout = Math.max(1, Math.ceil(nearest - nowMs()));
    const nfds = this.fill(list);
    // Drain an old wake-up (EAGAIN when there is none).
    this.api.read(this.wakeFd, this.eight, 8);
    this.eight.writeBigUInt64LE(1n, 0);
    this.woken = false;
    this.inFlight = true;
    pollAsync(this.api, this.pollBuf, nfds, timeout, () => {
      this.inFlight = false;
      // The decision is always made by a tick's own poll (timeout 0), after this wait.
      this.tick();
    });
  }

  private failAll(err: Error): void {
    const list = this.pending;
    this.pending = [];
    for (const a of list) {
      this.api.close(a.fd);
      a.fd = -1;
      a.cb(err);
    }
  }
}

let engine: LibcTcpEngine | undefined;

/** The process's libc engine, started on first use. Throws with the reason when libc cannot be used. */
export function libcEngine(): LibcTcpEngine {
  engine ??= new LibcTcpEngine(loadLibc());
  return engine;
}
