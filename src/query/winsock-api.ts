/**
 * ws2_32.dll through koffi: the declarations and thin call wrappers the Winsock query engine uses, and
 * nothing else (the verdicts are in winsock-verdict.ts, byte layouts in winsock-sockaddr.ts, the
 * socket life cycle in winsock-engine.ts). Every pointer argument is a Node Buffer; SOCKET is
 * UINT_PTR (a JS number here: real handles are small, INVALID_SOCKET comes back as a BigInt).
 *
 * Every call here is non-blocking (the sockets are FIONBIO) except select(), which the engine only
 * makes through selectAsync(): a koffi async call, run on a worker thread, so the event loop never
 * waits on the network.
 *
 * Constants from winsock2.h, ws2def.h, ws2ipdef.h and mstcpip.h (Windows SDK 10.0.19041).
 */
import { holdUntilCalled, loadKoffi } from '../platform/koffi';

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const SOL_SOCKET = 0xffff;
export const SO_ERROR = 0x1007;
export const SO_LINGER = 0x0080;
/** ~SO_REUSEADDR: nobody else may bind the port while we hold it (the Windows way to own -sp). */
export const SO_EXCLUSIVEADDRUSE = ~0x0004;
/** _IOW('f', 126, u_long) */
export const FIONBIO = 0x8004667e;
/** _WSAIOW(IOC_VENDOR, 17): TCP_INITIAL_RTO_PARAMETERS (Windows 8 / Server 2012+). */
export const SIO_TCP_INITIAL_RTO = 0x98000011;
/** _WSAIOW(IOC_VENDOR, 12): report ICMP port unreachable as WSAECONNRESET (on by default; KB 263823). */
export const SIO_UDP_CONNRESET = 0x9800000c;
export const TCP_INITIAL_RTO_UNSPECIFIED_RTT = 0xffff;
export const TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS = 0xfe;
export const TCP_MAXRT = 5;
export const TCP_MAXRTMS = 14;
export const TCP_FAIL_CONNECT_ON_ICMP_ERROR = 18;
export const TCP_ICMP_ERROR_INFO = 19;
export const SOCKET_ERROR = -1;

export type Socket = number;

type Fn = (...args: unknown[]) => unknown;
interface AsyncFn extends Fn {
  async(...args: unknown[]): void;
}

export interface Ws2 {
  WSAGetLastError(): number;
  socket(af: number, type: number, protocol: number): Socket | bigint;
  ioctlsocket(s: Socket, cmd: number, arg: Buffer): number;
  WSAIoctl(s: Socket, code: number, inBuf: Buffer | null, inLen: number, outBuf: Buffer | null, outLen: number, returned: Buffer, overlapped: null, completion: null): number;
  setsockopt(s: Socket, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(s: Socket, level: number, name: number, value: Buffer, len: Buffer): number;
  bind(s: Socket, addr: Buffer, len: number): number;
  connect(s: Socket, addr: Buffer, len: number): number;
  getsockname(s: Socket, addr: Buffer, len: Buffer): number;
  send(s: Socket, buf: Buffer, len: number, flags: number): number;
  sendto(s: Socket, buf: Buffer, len: number, flags: number, to: Buffer, toLen: number): number;
  recv(s: Socket, buf: Buffer, len: number, flags: number): number;
  recvfrom(s: Socket, buf: Buffer, len: number, flags: number, from: Buffer, fromLen: Buffer): number;
  select: AsyncFn;
  closesocket(s: Socket): number;
}

let ws2: Ws2 | undefined;
let startupError: string | undefined;

/** ws2_32 loaded and WSAStartup(2.2) done, once per process. Throws with the reason when it cannot be. */
export function winsock(): Ws2 {
  if (ws2) return ws2;
  if (startupError) throw new Error(startupError);
  try {
    const koffi = loadKoffi();
    const lib = koffi.load('ws2_32.dll');
    // SOCKET is UINT_PTR; the declarations use uintptr_t so that 32-bit and 64-bit builds agree.
    const f = (decl: string) => lib.func(decl) as Fn;
    const api = {
      WSAStartup: f('int __stdcall WSAStartup(uint16_t wVersionRequested, void *lpWSAData)'),
      WSAGetLastError: f('int __stdcall WSAGetLastError()'),
      socket: f('uintptr_t __stdcall socket(int af, int type, int protocol)'),
      ioctlsocket: f('int __stdcall ioctlsocket(uintptr_t s, uint32_t cmd, void *argp)'),
      WSAIoctl: f('int __stdcall WSAIoctl(uintptr_t s, uint32_t code, void *inBuf, uint32_t inLen, void *outBuf, uint32_t outLen, void *bytesReturned, void *overlapped, void *completion)'),
      setsockopt: f('int __stdcall setsockopt(uintptr_t s, int level, int optname, void *optval, int optlen)'),
      getsockopt: f('int __stdcall getsockopt(uintptr_t s, int level, int optname, void *optval, void *optlen)'),
      bind: f('int __stdcall bind(uintptr_t s, void *name, int namelen)'),
      connect: f('int __stdcall connect(uintptr_t s, void *name, int namelen)'),
      getsockname: f('int __stdcall getsockname(uintptr_t s, void *name, void *namelen)'),
      send: f('int __stdcall send(uintptr_t s, void *buf, int len, int flags)'),
      sendto: f('int __stdcall sendto(uintptr_t s, void *buf, int len, int flags, void *to, int tolen)'),
      recv: f('int __stdcall recv(uintptr_t s, void *buf, int len, int flags)'),
      recvfrom: f('int __stdcall recvfrom(uintptr_t s, void *buf, int len, int flags, void *from, void *fromlen)'),
      select: f('int __stdcall select(int nfds, void *readfds, void *writefds, void *exceptfds, void *timeout)') as AsyncFn,
      closesocket: f('int __stdcall closesocket(uintptr_t s)'),
    };
    const rc = api.WSAStartup(0x0202, Buffer.alloc(1024)) as number;
    if (rc !== 0) throw new Error(`WSAStartup failed with Winsock error ${rc}`);
    ws2 = api as unknown as Ws2;
    return ws2;
  } catch (err) {
    startupError = `Winsock (ws2_32.dll) is not usable: ${err instanceof Error ? err.message : String(err)}`;
    throw new Error(startupError);
  }
}

/** True when a socket() result is INVALID_SOCKET. */
export function invalidSocket(s: Socket | bigint): s is bigint {
  return typeof s === 'bigint' || s === -1 || s >= 0xffff_ffff_ffff;
}

const intBuf = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
};

/** 0 when the call succeeded, else WSAGetLastError() (read at once, on this thread). */
export function check(api: Ws2, rc: number): number {
  return rc === SOCKET_ERROR ? api.WSAGetLastError() || SOCKET_ERROR : 0;
}

export function setNonBlocking(api: Ws2, s: Socket): number {
  return check(api, api.ioctlsocket(s, FIONBIO, intBuf(1)));
}

export function setIntOption(api: Ws2, s: Socket, level: number, name: number, value: number): number {
  return check(api, api.setsockopt(s, level, name, intBuf(value), 4));
}

/** LINGER { u_short l_onoff = 1, u_short l_linger = 0 }: closesocket() sends a RST, no TIME_WAIT left here. */
export function setAbortiveClose(api: Ws2, s: Socket): number {
  const linger = Buffer.alloc(4);
  linger.writeUInt16LE(1, 0);
  return check(api, api.setsockopt(s, SOL_SOCKET, SO_LINGER, linger, 4));
}

/** WSAIoctl with an input buffer and no output. */
export function ioctlIn(api: Ws2, s: Socket, code: number, input: Buffer): number {
  return check(api, api.WSAIoctl(s, code, input, input.length, null, 0, Buffer.alloc(4), null, null));
}

/** getsockopt into a buffer of `size` bytes; the error code, and the bytes when it succeeded. */
export function getOption(api: Ws2, s: Socket, level: number, name: number, size: number): { code: number; value: Buffer } {
  const value = Buffer.alloc(size);
  const len = intBuf(size);
  const code = check(api, api.getsockopt(s, level, name, value, len));
  return { code, value: value.subarray(0, code === 0 ? len.readInt32LE(0) : 0) };
}

export function sockname(api: Ws2, s: Socket): Buffer | null {
  const addr = Buffer.alloc(128);
  const len = intBuf(128);
  return api.getsockname(s, addr, len) === 0 ? addr.subarray(0, len.readInt32LE(0)) : null;
}

/**
 * select() on a worker thread. The fd_set buffers are written in place by Winsock; they must not be
 * touched and their sockets not closed until the callback runs. The error code of a failed select()
 * stays on the worker thread, so the callback gets -1 and the engine re-asks with a zero timeout.
 */
export function selectAsync(api: Ws2, read: Buffer, write: Buffer, except: Buffer, timeval: Buffer, cb: (err: unknown, n: number) => void): void {
  // The sets and the timeval must outlive the call: koffi holds none of them (holdUntilCalled).
  api.select.async(0, read, write, except, timeval, holdUntilCalled([read, write, except, timeval], (err: unknown, n: unknown) => cb(err, Number(n))));
}

/** select() with a zero timeout on this thread: for the error code after a failed async select(). */
export function selectNow(api: Ws2, read: Buffer, write: Buffer, except: Buffer): number {
  const rc = (api.select as Fn)(0, read, write, except, Buffer.alloc(8)) as number;
  return check(api, rc);
}
