/**
 * syslog over the local datagram socket /dev/log (AF_UNIX, SOCK_DGRAM), the socket journald (and
 * rsyslog without journald) reads. Node has no AF_UNIX datagram sockets, so libc's socket/connect/send
 * are called through koffi, as src/platform/linux-netlink.ts does for netlink.
 *
 * Sends never block the caller (MSG_DONTWAIT): when the daemon's queue is full the message is reported
 * as not sent and the caller hands it to its fallback. A daemon restart (ECONNREFUSED, ENOTCONN, ENOENT)
 * is answered by one reconnect and one resend.
 */
import * as os from 'node:os';
import { libcLibrary } from '../platform/libc';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const ENOENT = 2;
const EINTR = 4;
const ENOTCONN = 107;
const ECONNREFUSED = 111;
/** sizeof(struct sockaddr_un) on Linux: sa_family_t (2 bytes) + sun_path[108]. */
const SOCKADDR_UN_SIZE = 110;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number | bigint;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const { koffi, lib } = libcLibrary();
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
    send: lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    close: lib.func('int close(int fd)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

/** struct sockaddr_un for a path (NUL-terminated), and the length to pass to connect. */
export function sockaddrUn(socketPath: string): { addr: Buffer; len: number } {
  const pathBytes = Buffer.from(socketPath, 'utf8');
  if (pathBytes.length === 0 || pathBytes.length > SOCKADDR_UN_SIZE - 3) throw new Error(`syslog socket path too long or empty: ${socketPath}`);
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(AF_UNIX, 0); // sa_family_t is host order; Linux hosts we build for are little-endian
  pathBytes.copy(addr, 2);
  return { addr, len: 2 + pathBytes.length + 1 };
}

export class SyslogSocket {
  private fd = -1;
  private readonly c: Libc;
  private readonly address: { addr: Buffer; len: number };

  /** Connects at once; throws (with errno) when the socket cannot be reached, so the caller can fall back. */
  constructor(readonly socketPath: string) {
    if (os.endianness() !== 'LE') throw new Error('syslog over /dev/log assumes a little-endian host');
    this.c = loadLibc();
    this.address = sockaddrUn(socketPath);
    const err = this.connect();
    if (err !== null) throw new Error(err);
  }

  /** null when connected, else why not. */
  private connect(): string | null {
    this.closeFd();
    const fd = this.c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return `socket(AF_UNIX, SOCK_DGRAM) failed: errno ${this.c.errno()}`;
    if (this.c.connect(fd, this.address.addr, this.address.len) !== 0) {
      const errno = this.c.errno();
      this.c.close(fd);
      return `connect to ${this.socketPath} failed: errno ${errno}`;
    }
    this.fd = fd;
    return null;
  }

  /** Sends one datagram; returns null on success, else why it was not sent. Never throws. */
  send(datagram: Buffer): string | null {
    let reconnected = false;
    for (let attempt = 0; attempt < 4; attempt++) {
      if (this.fd < 0) {
        if (reconnected) return `not connected to ${this.socketPath}`;
        reconnected = true;
        const err = this.connect();
        if (err !== null) return err;
      }
      const n = Number(this.c.send(this.fd, datagram, datagram.length, MSG_DONTWAIT | MSG_NOSIGNAL));
      if (n === datagram.length) return null;
      const errno = n < 0 ? this.c.errno() : 0;
      if (errno === EINTR) continue;
      if ((errno === ECONNREFUSED || errno === ENOTCONN || errno === ENOENT) && !reconnected) {
        // the daemon restarted and re-created its socket: connect to the new one once
        this.closeFd();
        continue;
      }
      return n < 0 ? `send to ${this.socketPath} failed: errno ${errno}` : `send to ${this.socketPath} sent ${n} of ${datagram.length} bytes`;
    }
    return `send to ${this.socketPath} kept being interrupted`;
  }

  private closeFd(): void {
    if (this.fd >= 0) this.c.close(this.fd);
    this.fd = -1;
  }

  close(): void {
    this.closeFd();
  }
}
