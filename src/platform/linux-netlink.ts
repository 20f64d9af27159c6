/**
 * NETLINK_SOCK_DIAG dumps through libc via koffi (Node has no AF_NETLINK sockets). Used by the Linux
 * backend for its repeated snapshots (the recorder, watch mode): the kernel fills binary messages
 * instead of printing /proc/net text, which with 1,000 sockets costs about a quarter of the CPU
 * (sock_diag(7); scripts/bench/record). koffi is loaded on the first dump only, so one-shot
 * commands never load native code; anything that fails here makes the backend go back to /proc.
 */
import * as os from 'node:os';
import type { ProcNetRow } from './linux-decode';
import { libcLibrary } from './libc';
import {
  AF_NETLINK,
  decodeDestroyMessages,
  type DestroyedSocket,
  type InetDiagRowDecoder,
  inetDiagRequest,
  NETLINK_SOCK_DIAG,
  SKNLGRP_INET6_TCP_DESTROY,
  SKNLGRP_INET6_UDP_DESTROY,
  SKNLGRP_INET_TCP_DESTROY,
  SKNLGRP_INET_UDP_DESTROY,
} from './linux-sockdiag';

const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const EINTR = 4;
const EPERM = 1;
const EAGAIN = 11;
const ENOBUFS = 105;
const MSG_DONTWAIT = 0x40;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number | bigint;
  recv(fd: number, buf: Buffer, len: number, flags: number): number | bigint;
  close(fd: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  errno(): number;
}

let libc: Libc | undefined;

/** glibc's libc.so.6, else musl's (Alpine). The layouts are read as little-endian: other hosts keep /proc. */
function loadLibc(): Libc {
  if (libc) return libc;
  if (os.endianness() !== 'LE') throw new Error('NETLINK_SOCK_DIAG decoding assumes a little-endian host');
  const { koffi, lib } = libcLibrary();
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    send: lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    recv: lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    close: lib.func('int close(int fd)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

export class SockDiagReader {
  private readonly buf = Buffer.alloc(64 * 1024);
  private seq = 0;

  /** Every socket of one protocol and family, decoded by (and, for an InetDiagDecoder, reusing the rows of) `decoder`. */
  dump<R extends ProcNetRow>(decoder: InetDiagRowDecoder<R>): R[] {
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

/** Why the destroy groups cannot be joined: no CAP_NET_ADMIN (EPERM), or anything else. */
export class DestroyGroupsError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }

  get permissionDenied(): boolean {
    return this.errno === EPERM || this.errno === 13;
  }
}

export interface DestroyDrain {
  sockets: DestroyedSocket[];
  /** recv() reported ENOBUFS this many times: the kernel dropped announcements (socket buffer full). */
  overflows: number;
}

/**
 * Members of the sock_diag destroy groups (what `ss -E` joins): one non-blocking netlink socket for
 * TCP (groups 1 and 3) and one for UDP (2 and 4), each with a large receive buffer (SO_RCVBUFFORCE,
 * which CAP_NET_ADMIN allows past net.core.rmem_max). drain() reads whatever the kernel queued and
 * never blocks; the recorder calls it from a timer, so the event loop never waits on it.
 */
export class SockDiagDestroyListener {
  private readonly buf = Buffer.alloc(256 * 1024);
  private fds: { fd: number; protocol: 'TCP' | 'UDP' }[] = [];

  /** Throws DestroyGroupsError (permissionDenied without CAP_NET_ADMIN). */
  constructor(options: { receiveBufferBytes?: number } = {}) {
    const c = loadLibc();
    try {
      for (const [protocol, groups] of [
        ['TCP', [SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY]],
        ['UDP', [SKNLGRP_INET_UDP_DESTROY, SKNLGRP_INET6_UDP_DESTROY]],
      ] as const) {
        const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (fd < 0) throw new DestroyGroupsError(`socket(AF_NETLINK) failed: errno ${c.errno()}`, c.errno());
        this.fds.push({ fd, protocol });
        const size = Buffer.alloc(4);
        size.writeInt32LE(options.receiveBufferBytes ?? 8 * 1024 * 1024);
        // FORCE needs CAP_NET_ADMIN (which joining needs too); plain SO_RCVBUF is capped by rmem_max.
        if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) !== 0) c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
        // struct sockaddr_nl: family u16, pad u16, pid u32, groups u32 (bit n-1 for group n).
        const addr = Buffer.alloc(12);
        addr.writeUInt16LE(AF_NETLINK, 0);
        addr.writeUInt32LE(groups.reduce((mask, g) => mask | (1 << (g - 1)), 0), 8);
        if (c.bind(fd, addr, addr.length) !== 0) {
          const errno = c.errno();
          throw new DestroyGroupsError(`joining the sock_diag destroy groups failed: errno ${errno}${errno === EPERM ? ' (needs CAP_NET_ADMIN)' : ''}`, errno);
        }
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  drain(max = 100_000): DestroyDrain {
    const c = loadLibc();
    const result: DestroyDrain = { sockets: [], overflows: 0 };
    for (const { fd, protocol } of this.fds) {
      while (result.sockets.length < max) {
        const n = Number(c.recv(fd, this.buf, this.buf.length, MSG_DONTWAIT));
        if (n < 0) {
          const errno = c.errno();
          if (errno === EINTR) continue;
          if (errno === ENOBUFS) {
            // The kernel dropped messages; the socket stays usable and the next recv gets what follows.
            result.overflows++;
            continue;
          }
          if (errno === EAGAIN) break;
          throw new Error(`recv from the sock_diag destroy groups failed: errno ${errno}`);
        }
        if (n === 0) break;
        for (const s of decodeDestroyMessages(this.buf, n, protocol)) result.sockets.push(s);
      }
    }
    return result;
  }

  close(): void {
    const c = libc;
    for (const { fd } of this.fds) c?.close(fd);
    this.fds = [];
  }
}
