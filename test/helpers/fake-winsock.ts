import type { Ws2 } from '../../src/query/winsock-api';
import { decodeFdSet, decodeSockaddr, encodeFdSet, encodeSockaddr } from '../../src/query/winsock-sockaddr';
import { WSA } from '../../src/query/winsock-verdict';

/**
 * A ws2_32 with Windows' documented behaviour, in memory, for the Winsock engine's driver tests (Wine
 * runs on the Linux stack and cannot show it):
 * - a RST to a SYN is reported as WSAECONNREFUSED at once only when SIO_TCP_INITIAL_RTO set no SYN
 *   retransmissions, otherwise after `synRetrySpanMs` (2002 ms on Windows CI runners, nmap#2113);
 * - TCP_MAXRTMS makes a silent connect fail with WSAETIMEDOUT at its value;
 * - with TCP_FAIL_CONNECT_ON_ICMP_ERROR an ICMP unreachable fails the connect with WSAEHOSTUNREACH and
 *   TCP_ICMP_ERROR_INFO tells type and code; without it the ICMP error is ignored;
 * - a failed connect is in select()'s except set, a connected socket in its write set;
 * - an ICMP port unreachable on UDP makes the socket readable and recv() fail with WSAECONNRESET
 *   (SIO_UDP_CONNRESET, KB 263823); SO_ERROR stays 0 on UDP.
 * - select() may report a socket readable while recv() then fails with WSAEWOULDBLOCK ("udp-spurious",
 *   for ever: the Remarks of select() allow it, and Wine did it for a UDP socket with an ICMP error);
 *   a UDP socket that is not connected may get datagrams from anybody ("udp-foreign": an endless flood
 *   from 198.18.0.99).
 * Peers are described by remote port. Option refusals and local shortages are configurable.
 */
export type FakePeer = 'open' | 'closed' | 'drop' | 'icmp-13' | 'udp-reply' | 'udp-closed' | 'udp-silent' | 'udp-spurious' | 'udp-foreign';

export interface FakeOptions {
  peers: Record<number, FakePeer>;
  /** Winsock error for SIO_TCP_INITIAL_RTO, TCP_MAXRTMS / TCP_MAXRT, TCP_FAIL_CONNECT_ON_ICMP_ERROR; 0 = accepted. */
  refuse?: { initialRto?: number; maxRt?: number; failOnIcmp?: number };
  synRetrySpanMs?: number;
  /** TCP socket() fails with this code this many times first (WSAENOBUFS, WSAEMFILE). */
  socketFailures?: { code: number; times: number };
  /** Local ports already owned by another process (bind → WSAEADDRINUSE). */
  takenPorts?: number[];
  rttMs?: number;
}

interface Sock {
  id: number;
  udp: boolean;
  localPort: number;
  peer?: FakePeer;
  nosyn: boolean;
  maxRtMs: number | null;
  failOnIcmp: boolean;
  /** When the state below becomes visible. */
  readyAt: number;
  ready: 'write' | 'except' | 'read' | null;
  soError: number;
  recvError: number;
  data: Buffer | null;
  icmp: [number, number] | null;
}

export function fakeWinsock(options: FakeOptions): Ws2 & { calls: string[]; open: () => number } {
  const sockets = new Map<number, Sock>();
  let lastError = 0;
  let nextId = 100;
  let nextPort = 50000;
  let socketFailures = options.socketFailures?.times ?? 0;
  const calls: string[] = [];
  const rtt = options.rttMs ?? 1;
  const fail = (code: number) => {
    lastError = code;
    return -1;
  };
  const now = () => performance.now();
  const visible = (s: Sock) => s.ready !== null && s.readyAt <= now();

  const api = {
    calls,
    open: () => sockets.size,
    WSAGetLastError: () => lastError,
    socket(_af: number, type: number) {
      calls.push('socket');
      if (socketFailures > 0 && type === 1) {
        socketFailures--;
        lastError = options.socketFailures!.code;
        return 0xffff_ffff_ffff_ffffn;
      }
      const id = nextId++;
      sockets.set(id, { id, udp: type === 2, localPort: 0, nosyn: false, maxRtMs: null, failOnIcmp: false, readyAt: Infinity, ready: null, soError: 0, recvError: 0, data: null, icmp: null });
      return id;
    },
    ioctlsocket: () => 0,
    WSAIoctl(s: number, code: number, input: Buffer | null) {
      if (code === 0x98000011) {
        calls.push('SIO_TCP_INITIAL_RTO');
        if (options.refuse?.initialRto) return fail(options.refuse.initialRto);
        sockets.get(s)!.nosyn = input!.readUInt8(2) === 0xfe;
      }
      return 0;
    },
    setsockopt(s: number, level: number, name: number, value: Buffer) {
      const sock = sockets.get(s)!;
      if (level === 6 && (name === 14 || name === 5)) {
        calls.push(name === 14 ? 'TCP_MAXRTMS' : 'TCP_MAXRT');
        if (options.refuse?.maxRt) return fail(options.refuse.maxRt);
        sock.maxRtMs = value.readInt32LE(0) * (name === 5 ? 1000 : 1);
      }
      if (level === 6 && name === 18) {
        calls.push('TCP_FAIL_CONNECT_ON_ICMP_ERROR');
        if (options.refuse?.failOnIcmp) return fail(options.refuse.failOnIcmp);
        sock.failOnIcmp = value.readInt32LE(0) === 1;
      }
      return 0;
    },
    getsockopt(s: number, level: number, name: number, value: Buffer, len: Buffer) {
      const sock = sockets.get(s)!;
      if (level === 0xffff && name === 0x1007) {
        value.writeInt32LE(sock.udp ? 0 : sock.soError, 0);
        len.writeInt32LE(4, 0);
        return 0;
      }
      if (level === 6 && name === 19) {
        if (!sock.icmp) return fail(WSA.ENOPROTOOPT);
        value.fill(0);
        encodeSockaddr('198.18.0.254', 0).copy(value, 0);
        value.writeUInt8(sock.icmp[0], 32);
        value.writeUInt8(sock.icmp[1], 33);
        len.writeInt32LE(36, 0);
        return 0;
      }
      return fail(WSA.ENOPROTOOPT);
    },
    bind(s: number, addr: Buffer) {
      const port = addr.readUInt16BE(2);
      if (port !== 0 && (options.takenPorts ?? []).includes(port)) return fail(WSA.EADDRINUSE);
      sockets.get(s)!.localPort = port || nextPort++;
      return 0;
    },
    connect(s: number, addr: Buffer) {
      const sock = sockets.get(s)!;
      const port = decodeSockaddr(addr)!.port;
      sock.peer = options.peers[port] ?? 'closed';
      if (!sock.localPort) sock.localPort = nextPort++;
      if (sock.udp) return 0;
      const t = now();
      switch (sock.peer) {
        case 'open':
          Object.assign(sock, { ready: 'write', readyAt: t + rtt });
          break;
        case 'closed':
          Object.assign(sock, { ready: 'except', soError: WSA.ECONNREFUSED, readyAt: t + (sock.nosyn ? rtt : (options.synRetrySpanMs ?? 2002) + rtt) });
          break;
        case 'icmp-13':
          if (sock.failOnIcmp) Object.assign(sock, { ready: 'except', soError: WSA.EHOSTUNREACH, icmp: [3, 13], readyAt: t + rtt });
          else if (sock.maxRtMs !== null) Object.assign(sock, { ready: 'except', soError: WSA.ETIMEDOUT, readyAt: t + sock.maxRtMs });
          break;
        default:
          if (sock.maxRtMs !== null) Object.assign(sock, { ready: 'except', soError: WSA.ETIMEDOUT, readyAt: t + sock.maxRtMs });
      }
      return fail(WSA.EWOULDBLOCK);
    },
    getsockname(s: number, addr: Buffer, len: Buffer) {
      const sa = encodeSockaddr('127.0.0.1', sockets.get(s)!.localPort);
      sa.copy(addr);
      len.writeInt32LE(sa.length, 0);
      return 0;
    },
    send(s: number, _buf: Buffer, len: number) {
      const sock = sockets.get(s)!;
      if (sock.peer === 'udp-reply') Object.assign(sock, { ready: 'read', data: Buffer.from('pong'), readyAt: now() + rtt });
      if (sock.peer === 'udp-closed' || sock.peer === 'closed') Object.assign(sock, { ready: 'read', recvError: WSA.ECONNRESET, readyAt: now() + rtt });
      if (sock.peer === 'udp-spurious') Object.assign(sock, { ready: 'read', readyAt: now() + rtt });
      return len;
    },
    sendto(s: number, _buf: Buffer, len: number, _flags: number, to: Buffer) {
      const target = decodeSockaddr(to)!;
      const sock = sockets.get(s)!;
      // The poller's wake-up datagram to its own socket.
      if (target.address === '127.0.0.1') Object.assign(sock, { ready: 'read', data: Buffer.alloc(1), readyAt: 0 });
      else if (options.peers[target.port] === 'udp-foreign') Object.assign(sock, { peer: 'udp-foreign', ready: 'read', readyAt: now() + rtt });
      return len;
    },
    recv(s: number, buf: Buffer) {
      const sock = sockets.get(s)!;
      if (!visible(sock) || sock.peer === 'udp-spurious') return fail(WSA.EWOULDBLOCK);
      sock.ready = null;
      if (sock.recvError) return fail(sock.recvError);
      const data = sock.data!;
      data.copy(buf);
      return data.length;
    },
    recvfrom(s: number, buf: Buffer, _len: number, _flags: number, from: Buffer, fromLen: Buffer) {
      const sock = sockets.get(s)!;
      if (!visible(sock) || sock.peer !== 'udp-foreign') return fail(WSA.EWOULDBLOCK);
      const sa = encodeSockaddr('198.18.0.99', 69);
      sa.copy(from);
      fromLen.writeInt32LE(sa.length, 0);
      buf.write('junk');
      return 4;
    },
    closesocket(s: number) {
      sockets.delete(s);
      return 0;
    },
    select: Object.assign(() => 0, {
      async(_n: number, read: Buffer, write: Buffer, except: Buffer, tv: Buffer, cb: (err: unknown, n: number) => void) {
        const until = now() + tv.readInt32LE(0) * 1000 + tv.readInt32LE(4) / 1000;
        const r = decodeFdSet(read).map(Number);
        const w = decodeFdSet(write).map(Number);
        const e = decodeFdSet(except).map(Number);
        const check = () => {
          const ready = (list: number[], kind: Sock['ready']) => list.filter((id) => {
            const s = sockets.get(id);
            return s !== undefined && s.ready === kind && visible(s);
          });
          const rr = ready(r, 'read');
          const ww = ready(w, 'write');
          const ee = ready(e, 'except');
          const n = rr.length + ww.length + ee.length;
          if (n > 0 || now() >= until) {
            encodeFdSet(rr.map(BigInt), read);
            encodeFdSet(ww.map(BigInt), write);
            encodeFdSet(ee.map(BigInt), except);
            cb(null, n);
          } else setTimeout(check, 1);
        };
        setTimeout(check, 0);
      },
    }),
  };
  return api as unknown as Ws2 & { calls: string[]; open: () => number };
}
