/**
 * The Winsock query engine: PortQry's TCP and UDP verdicts on Windows from ws2_32 itself, because
 * libuv (under Node's net and dgram) hides what Windows reports (issue 9; nmap#2113; libuv
 * src/win/udp.c ignores WSAECONNRESET/WSAENETRESET on UDP receives).
 *
 * One attempt's life: socket → FIONBIO → per-socket options (each may be refused; the verdict machine
 * knows which) → [-sp: SO_EXCLUSIVEADDRUSE + bind] → connect → the poller → SO_ERROR /
 * TCP_ICMP_ERROR_INFO → winsock-verdict.ts decides → closesocket. Verdicts only come from
 * winsock-verdict.ts; this file turns sockets into its events.
 */
import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';
import { type ConnectCallback, LocalResourceError, SourcePortInUseError, type TcpConnectOptions, tcpConnectCb as nodeTcpConnect } from './tcp-connect';
import type { UdpExchangeOptions, UdpExchangeResult } from './udp-exchange';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  SIO_TCP_INITIAL_RTO,
  SO_ERROR,
  SO_EXCLUSIVEADDRUSE,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  TCP_FAIL_CONNECT_ON_ICMP_ERROR,
  TCP_ICMP_ERROR_INFO,
  TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS,
  TCP_INITIAL_RTO_UNSPECIFIED_RTT,
  TCP_MAXRT,
  TCP_MAXRTMS,
  type Ws2,
  check,
  getOption,
  invalidSocket,
  ioctlIn,
  setAbortiveClose,
  setIntOption,
  setNonBlocking,
  sockname,
  winsock,
} from './winsock-api';
import { WinsockPoller } from './winsock-poller';
import { AF_INET, AF_INET6, anySockaddr, decodeIcmpErrorInfo, decodeSockaddr, encodeInitialRto, encodeSockaddr, ICMP_ERROR_INFO_SIZE, sameAddress } from './winsock-sockaddr';
import { type Step, type TcpOptionResults, type TcpPlan, type UdpStep, WSA, planTcpAttempt, tcpStep, udpStep, wsaName } from './winsock-verdict';

interface Runtime {
  api: Ws2;
  poller: WinsockPoller;
  /** Options Windows refused once are not asked again (the answer does not change within a run). */
  refused: Map<string, number>;
}

let runtime: Runtime | undefined;

function rt(): Runtime {
  if (!runtime) {
    const api = winsock();
    runtime = { api, poller: new WinsockPoller(api), refused: new Map() };
  }
  return runtime;
}

/**
 * Tests: run the engine over another ws2_32 (a fake with Windows' documented semantics, which Wine
 * cannot show); undefined goes back to the real one.
 */
export function useWinsockApi(api: Ws2 | undefined): void {
  runtime = api ? { api, poller: new WinsockPoller(api), refused: new Map() } : undefined;
}

/** Loads ws2_32 and starts the poller now; throws with the reason when Winsock is unusable. */
export function winsockAvailable(): void {
  rt();
}

function since(started: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3;
}

/** An option call, skipped (with the remembered code) once Windows refused it. */
function option(r: Runtime, name: string, call: () => number): number {
  const known = r.refused.get(name);
  if (known !== undefined) return known;
  const code = call();
  if (code === WSA.EINVAL || code === WSA.ENOPROTOOPT || code === WSA.EOPNOTSUPP || code === WSA.EFAULT) r.refused.set(name, code);
  return code;
}

function applyTcpOptions(r: Runtime, s: Socket, timeoutMs: number): TcpOptionResults {
  const { api } = r;
  const initialRto = option(r, 'SIO_TCP_INITIAL_RTO', () => ioctlIn(api, s, SIO_TCP_INITIAL_RTO, encodeInitialRto(TCP_INITIAL_RTO_UNSPECIFIED_RTT, TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS)));
  // Windows ends the attempt itself at the deadline (WSAETIMEDOUT), RST or not; TCP_MAXRT (seconds) when TCP_MAXRTMS is refused.
  const deadline = planTcpAttempt(timeoutMs, { initialRto, maxRt: 0, failOnIcmp: 0 }).deadlineMs;
  let maxRt = option(r, 'TCP_MAXRTMS', () => setIntOption(api, s, IPPROTO_TCP, TCP_MAXRTMS, deadline));
  if (maxRt !== 0) maxRt = option(r, 'TCP_MAXRT', () => setIntOption(api, s, IPPROTO_TCP, TCP_MAXRT, Math.ceil(deadline / 1000))) === 0 ? 0 : maxRt;
  const failOnIcmp = option(r, 'TCP_FAIL_CONNECT_ON_ICMP_ERROR', () => setIntOption(api, s, IPPROTO_TCP, TCP_FAIL_CONNECT_ON_ICMP_ERROR, 1));
  return { initialRto, maxRt, failOnIcmp };
}

function family(address: string): number {
  return address.includes(':') ? AF_INET6 : AF_INET;
}

function close(api: Ws2, s: Socket): void {
  api.closesocket(s);
}

/** Raises what a non-verdict step means for the run. */
function nonVerdict(step: Exclude<Step | UdpStep, { kind: 'verdict' } | { kind: 'wait' }>, sourcePort: number | undefined): Error {
  if (step.kind === 'local-shortage') return new LocalResourceError(step.code);
  if (step.kind === 'source-port-in-use') return new SourcePortInUseError(sourcePort ?? 0);
  return new PortqryError(`${step.code}: Winsock cannot create a socket for this query`, ExitCode.OsError);
}

/** Binds to the source port with SO_EXCLUSIVEADDRUSE (the Windows way to own it); 0 or the bind error. */
function bindSource(api: Ws2, s: Socket, address: string, port: number): number {
  setIntOption(api, s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
  const addr = anySockaddr(address, port);
  return check(api, api.bind(s, addr, addr.length));
}

function local(api: Ws2, s: Socket): { address: string | null; port: number | null } {
  const buf = sockname(api, s);
  const decoded = buf ? decodeSockaddr(buf) : null;
  return { address: decoded?.address ?? null, port: decoded?.port ?? null };
}

/** One TCP connect attempt through Winsock. */
function tcpAttempt(address: string, port: number, options: TcpConnectOptions, cb: ConnectCallback): void {
  const r = rt();
  const { api } = r;
  const started = process.hrtime.bigint();
  const sp = options.sourcePort;
  let plan: TcpPlan = planTcpAttempt(options.timeoutMs, { initialRto: 0, maxRt: 0, failOnIcmp: 0 });
  const s = api.socket(family(address), SOCK_STREAM, IPPROTO_TCP);
  if (invalidSocket(s)) return settle(tcpStep(plan, { type: 'socket-error', code: api.WSAGetLastError() }, sp));
  const sock = s;
  let where = { address: null as string | null, port: null as number | null };

  function settle(step: Step, connected = false): void {
    if (step.kind === 'wait') return;
    if (step.kind !== 'verdict') {
      if (!invalidSocket(s)) close(api, s);
      return cb(nonVerdict(step, sp));
    }
    if (!invalidSocket(s)) {
      // A RST instead of a FIN for an open connection: no TIME_WAIT pile-up on either side in wide scans.
      if (step.state === 'LISTENING') setAbortiveClose(api, s);
      close(api, s);
    }
    let { state, reason } = step;
    // Loopback: our ephemeral port may be the target port, and the socket then connects to itself.
    if (connected && where.port === port && where.address !== null && sameAddress(where.address, address)) {
      state = 'NOT LISTENING';
      reason = 'self-connect';
    }
    cb(null, { state, reason, elapsedMs: since(started), localAddress: where.address, localPort: where.port, attempts: 1 });
  }

  setNonBlocking(api, sock);
  plan = planTcpAttempt(options.timeoutMs, applyTcpOptions(r, sock, options.timeoutMs));
  if (sp) {
    const code = bindSource(api, sock, address, sp);
    if (code !== 0) return settle(tcpStep(plan, { type: 'bind-error', code }, sp));
  }
  const addr = encodeSockaddr(address, port);
  const rc = check(api, api.connect(sock, addr, addr.length));
  const first = tcpStep(plan, { type: 'connect-call', code: rc, atMs: since(started) }, sp);
  if (first.kind !== 'wait') {
    if (first.kind === 'verdict' && first.state === 'LISTENING') where = local(api, sock);
    return settle(first, true);
  }
  r.poller.wait(sock, { write: true }, plan.deadlineMs, (ready, pollCode) => {
    const atMs = since(started);
    if (ready === 'deadline') return settle(tcpStep(plan, { type: 'deadline', atMs }, sp));
    if (ready === 'error') return settle({ kind: 'local-error', code: wsaName(pollCode ?? -1) });
    // Writable normally means connected; SO_ERROR is read either way (an emulation may report a failed
    // connect as writable).
    const soError = getOption(api, sock, SOL_SOCKET, SO_ERROR, 4);
    const code = soError.code === 0 ? soError.value.readInt32LE(0) : soError.code;
    if (ready === 'write' && code === 0) {
      where = local(api, sock);
      return settle(tcpStep(plan, { type: 'connected', atMs }, sp), true);
    }
    let icmp = null;
    if (plan.icmpReported) {
      const info = getOption(api, sock, IPPROTO_TCP, TCP_ICMP_ERROR_INFO, ICMP_ERROR_INFO_SIZE);
      const decoded = info.code === 0 ? decodeIcmpErrorInfo(info.value) : null;
      if (decoded) icmp = { type: decoded.type, code: decoded.code, v6: decoded.v6 };
    }
    settle(tcpStep(plan, { type: 'failed', code: code || WSA.ECONNREFUSED, atMs, icmp }, sp));
  });
}

/**
 * PortQry's TCP rule through Winsock: up to `attempts` connects while they time out. With keepOpen (a
 * stream probe follows), a LISTENING port is connected again through Node's net for the probe only:
 * a Winsock SOCKET cannot be handed to a net.Socket, and the verdict stays Winsock's.
 */
export function winsockTcpConnect(address: string, port: number, options: TcpConnectOptions & { attempts: number }, cb: ConnectCallback): void {
  const max = Math.max(1, options.attempts);
  let n = 0;
  const attempt = () => {
    n++;
    tcpAttempt(address, port, options, (err, r) => {
      if (err) return cb(err);
      if (r!.reason.startsWith('timeout') && n < max) return attempt();
      r!.attempts = n;
      if (!options.keepOpen || r!.state !== 'LISTENING') return cb(null, r);
      // The probe's own connection: Node's, from an ephemeral port (never -sp's: the verdict's socket just left it).
      nodeTcpConnect(address, port, { timeoutMs: options.timeoutMs, attempts: 1, keepOpen: true }, (perr, pr) => {
        if (perr || !pr?.socket) {
          const why = perr ? perr.message : `${pr?.state ?? 'no answer'} (${pr?.reason ?? 'no socket'})`;
          return cb(null, { ...r!, probeError: `the probe's connection failed: ${why}` });
        }
        cb(null, { ...r!, socket: pr.socket });
      });
    });
  };
  attempt();
}

/**
 * One datagram through Winsock on a connected UDP socket (SIO_UDP_CONNRESET left on, its default), and
 * the first answer: a reply, WSAECONNRESET (ICMP port unreachable), another ICMP error, or silence.
 * With anySourcePort (TFTP) the socket is not connected and a reply from any port of the target counts.
 * `preferredSourcePort` (IKE: 500) is used when free, otherwise an ephemeral port and a note.
 */
export function winsockUdpExchange(address: string, port: number, payload: Buffer, options: UdpExchangeOptions & { preferredSourcePort?: number }): Promise<UdpExchangeResult> {
  return new Promise((resolve, reject) => {
    const r = rt();
    const { api } = r;
    const started = process.hrtime.bigint();
    const sp = options.sourcePort;
    let note: string | undefined;
    const s = api.socket(family(address), SOCK_DGRAM, IPPROTO_UDP);
    let where = { address: null as string | null, port: null as number | null };
    const settle = (step: UdpStep, reply: Buffer | null = null) => {
      if (step.kind === 'wait') return;
      if (!invalidSocket(s)) close(api, s);
      if (step.kind !== 'verdict') return reject(nonVerdict(step, sp));
      const result: UdpExchangeResult = { outcome: step.outcome, reply, elapsedMs: since(started), localAddress: where.address, localPort: where.port, reason: step.reason };
      if (note) result.note = note;
      resolve(result);
    };
    if (invalidSocket(s)) return settle(udpStep({ type: 'socket-error', code: api.WSAGetLastError() }));
    setNonBlocking(api, s);
    if (sp) {
      const code = bindSource(api, s, address, sp);
      if (code !== 0) return settle(udpStep({ type: 'bind-error', code }, sp));
    } else if (options.preferredSourcePort) {
      const code = bindSource(api, s, address, options.preferredSourcePort);
      if (code !== 0) {
        note = `sent from an ephemeral port: UDP ${options.preferredSourcePort} is in use here (${wsaName(code)})`;
        const any = anySockaddr(address, 0);
        api.bind(s, any, any.length);
      }
    } else if (options.anySourcePort) {
      const any = anySockaddr(address, 0);
      api.bind(s, any, any.length);
    }
    const to = encodeSockaddr(address, port);
    if (!options.anySourcePort) {
      const code = check(api, api.connect(s, to, to.length));
      if (code !== 0) return settle(udpStep({ type: 'connect-error', code }));
    }
    const sent = options.anySourcePort ? api.sendto(s, payload, payload.length, 0, to, to.length) : api.send(s, payload, payload.length, 0);
    const sendCode = sent < 0 ? api.WSAGetLastError() : 0;
    where = local(api, s);
    if (sent < 0) return settle(udpStep({ type: 'send-error', code: sendCode }));
    const buf = Buffer.alloc(65536);
    const from = Buffer.alloc(128);
    const fromLen = Buffer.alloc(4);
    const deadline = options.timeoutMs;
    // Windows makes the socket readable and recv() fails with WSAECONNRESET (KB 263823). Wine keeps the
    // ICMP error on the socket without making it readable; SO_ERROR reads it there (0 on Windows).
    const pendingError = () => {
      const e = getOption(api, s, SOL_SOCKET, SO_ERROR, 4);
      return e.code === 0 && e.value.length >= 4 ? e.value.readInt32LE(0) : 0;
    };
    const wait = (remainingMs: number) =>
      r.poller.wait(s, { read: true, check: options.anySourcePort ? undefined : pendingError }, remainingMs, (ready, pollCode) => {
        if (ready === 'deadline') return settle(udpStep({ type: 'deadline', atMs: since(started) }));
        if (ready === 'checked') return settle(udpStep({ type: 'pending-error', code: pollCode! }));
        if (ready === 'error') return settle({ kind: 'local-error', code: wsaName(pollCode ?? -1) });
        // 'read' or 'except': the datagram or the socket's pending error comes from the receive.
        let n: number;
        if (options.anySourcePort) {
          fromLen.writeInt32LE(from.length, 0);
          n = api.recvfrom(s, buf, buf.length, 0, from, fromLen);
        } else {
          n = api.recv(s, buf, buf.length, 0);
        }
        if (n < 0) {
          const code = api.WSAGetLastError();
          // Readable but nothing to read (a spurious wake-up): keep waiting for the rest of the time.
          if (code === WSA.EWOULDBLOCK) return wait(Math.max(0, deadline - since(started)));
          // WSAEMSGSIZE: a datagram larger than 64 KiB arrived: still a reply (truncated).
          if (code === WSA.EMSGSIZE) return settle(udpStep({ type: 'reply' }), Buffer.from(buf));
          return settle(udpStep({ type: 'recv-error', code }));
        }
        if (options.anySourcePort) {
          const src = decodeSockaddr(from);
          if (!src || !sameAddress(src.address, address)) return wait(Math.max(0, deadline - since(started)));
        }
        const own = where.port === port && where.address !== null && sameAddress(where.address, address);
        settle(udpStep({ type: 'reply', own }), Buffer.from(buf.subarray(0, n)));
      });
    wait(deadline);
  });
}
