/**
 * NETLINK_SOCK_DIAG dumps through libc via koffi (Node has no AF_NETLINK sockets). Used by the Linux
 * backend for its repeated snapshots (the recorder, watch mode): the kernel fills binary messages
 * instead of printing /proc/net text, which with 1,000 sockets costs about a quarter of the CPU
 * (sock_diag(7); scripts/bench/record). koffi is loaded on the first dump only, so one-shot
 * commands never load native code; anything that fails here makes the backend go back to /proc.
 */
import * as os from 'node:os';
import { loadKoffi } from './koffi';
import type { ProcNetRow } from './linux-decode';
import { AF_NETLINK, InetDiagDecoder, inetDiagRequest, NETLINK_SOCK_DIAG } from './linux-sockdiag';

const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const EINTR = 4;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number | bigint;
  recv(fd: number, buf: Buffer, len: number, flags: number): number | bigint;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | undefined;

/** glibc's libc.so.6, else musl's (Alpine). The layouts are read as little-endian: other hosts keep /proc. */
function loadLibc(): Libc {
  if (libc) return libc;
  if (os.endianness() !== 'LE') throw new Error('NETLINK_SOCK_DIAG decoding assumes a little-endian host');
  const koffi = loadKoffi();
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  let lib: ReturnType<typeof koffi.load> | undefined;
  let firstError: unknown;
  for (const name of ['libc.so.6', `libc.musl-${arch}.so.1`]) {
    try {
      lib = koffi.load(name);
      break;
    } catch (err) {
      firstError ??= err;
    }
  }
  if (!lib) throw firstError;
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    send: lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    recv: lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    close: lib.func('int close(int fd)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

export class SockDiagReader {
  private readonly buf = Buffer.alloc(64 * 1024);
  private seq = 0;

  /** Every socket of one protocol and family, decoded by (and reusing the rows of) `decoder`. */
  dump(decoder: InetDiagDecoder): ProcNetRow[] {
    const c = loadLibc();
    const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) throw new Error(`socket(AF_NETLINK) failed: errno ${c.errno()}`);
    try {
      const req = inetDiagRequest(decoder.protocol, decoder.family, ++this.seq);
      if (Number(c.send(fd, req, req.length, 0)) !== req.length) throw new Error(`send to NETLINK_SOCK_DIAG failed: errno ${c.errno()}`);
      decoder.begin();
      for (;;) {
        const n = Number(c.recv(fd, this.buf, this.buf.length, 0));
        if (n < 0) {
          if (c.errno() === EINTR) continue;
          throw new Error(`recv from NETLINK_SOCK_DIAG failed: errno ${c.errno()}`);
        }
        if (n === 0) throw new Error('NETLINK_SOCK_DIAG dump ended without NLMSG_DONE');
        if (decoder.feed(this.buf, n)) break;
      }
      return decoder.end();
    } finally {
      c.close(fd);
    }
  }
}
