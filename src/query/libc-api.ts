/**
 * glibc through koffi: the declarations the Linux libc query engine (libc-engine.ts) calls, and
 * nothing else. Every pointer argument is a Node Buffer; errno is read with koffi.errno() right after
 * the call, on this thread.
 *
 * Every call here is non-blocking (the sockets are SOCK_NONBLOCK) except poll() with a timeout, which
 * the engine only makes through pollAsync(): a koffi async call, run on a worker thread, so the event
 * loop never waits on the network.
 *
 * Constants from the Linux UAPI headers (asm-generic/socket.h, bits/socket_type.h, poll.h,
 * errno-base.h), the same on x86_64 and arm64, the two architectures this engine is enabled on.
 */
import { holdUntilCalled, loadKoffi } from '../platform/koffi';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const EINTR = 4;
export const EAGAIN = 11;
export const EINPROGRESS = 115;

type Fn = (...args: unknown[]) => unknown;
interface AsyncFn extends Fn {
  async(...args: unknown[]): void;
}

export interface Libc {
  /** errno of the last call made on this thread. */
  errno(): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockname(fd: number, addr: Buffer, len: Buffer): number;
  close(fd: number): number;
  /** poll(fds, nfds, timeout): only with timeout 0 on this thread; pollAsync() for a wait. */
  poll: AsyncFn;
  eventfd(initval: number, flags: number): number;
  read(fd: number, buf: Buffer, len: number): number;
  write(fd: number, buf: Buffer, len: number): number;
  inet_ntop(af: number, src: Buffer, dst: Buffer, size: number): unknown;
}

let libc: Libc | undefined;
let loadError: string | undefined;

/** True where this engine is built for: Linux on x86_64 or arm64 (the constants above). */
export function libcEngineSupported(platform: NodeJS.Platform = process.platform, arch: string = process.arch): boolean {
  return platform === 'linux' && (arch === 'x64' || arch === 'arm64');
}

/** libc.so.6 loaded through koffi, once per process. Throws with the reason when it cannot be. */
export function loadLibc(): Libc {
  if (libc) return libc;
  if (loadError) throw new Error(loadError);
  try {
    if (!libcEngineSupported()) throw new Error(`the libc engine is built for Linux on x64 and arm64, not ${process.platform} ${process.arch}`);
    const koffi = loadKoffi();
    const lib = koffi.load('libc.so.6');
    const f = (decl: string) => lib.func(decl) as Fn;
    libc = {
      errno: () => koffi.errno(),
      socket: f('int socket(int domain, int type, int protocol)'),
      bind: f('int bind(int fd, void *addr, uint32_t len)'),
      connect: f('int connect(int fd, void *addr, uint32_t len)'),
      getsockopt: f('int getsockopt(int fd, int level, int name, void *value, void *len)'),
      setsockopt: f('int setsockopt(int fd, int level, int name, void *value, uint32_t len)'),
      getsockname: f('int getsockname(int fd, void *addr, void *len)'),
      close: f('int close(int fd)'),
      poll: f('int poll(void *fds, uint64_t nfds, int timeout)') as AsyncFn,
      eventfd: f('int eventfd(unsigned int initval, int flags)'),
      read: f('intptr_t read(int fd, void *buf, uintptr_t count)'),
      write: f('intptr_t write(int fd, void *buf, uintptr_t count)'),
      inet_ntop: f('void *inet_ntop(int af, void *src, void *dst, uint32_t size)'),
    } as unknown as Libc;
    return libc;
  } catch (err) {
    loadError = `libc (libc.so.6 through koffi) is not usable: ${err instanceof Error ? err.message : String(err)}`;
    throw new Error(loadError);
  }
}

/**
 * poll() on a worker thread. The pollfd buffer is written in place by the kernel; it must not be
 * touched and its descriptors not closed until the callback runs.
 */
export function pollAsync(api: Libc, fds: Buffer, nfds: number, timeoutMs: number, cb: (err: unknown, n: number) => void): void {
  api.poll.async(fds, nfds, timeoutMs, holdUntilCalled([fds], (err: unknown, n: unknown) => cb(err, Number(n))));
}
