import { createRequire } from 'node:module';

/**
 * A receiving AF_UNIX SOCK_DGRAM socket bound at a path: a stand-in for journald's /dev/log that
 * returns the exact datagrams a writer sent. Node has no Unix datagram sockets, so libc's
 * socket/bind/recv are called through koffi (from node_modules), like the code under test does.
 */
type Koffi = typeof import('koffi');
const koffi = createRequire(import.meta.url)('koffi') as Koffi;
const lib = koffi.load('libc.so.6');
const socket = lib.func('int socket(int domain, int type, int protocol)') as (d: number, t: number, p: number) => number;
const bind = lib.func('int bind(int fd, const void *addr, uint32_t len)') as (fd: number, a: Buffer, l: number) => number;
const recv = lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)') as (fd: number, b: Buffer, l: number, f: number) => number | bigint;
const close = lib.func('int close(int fd)') as (fd: number) => number;
const MSG_DONTWAIT = 0x40;

export class DgramReceiver {
  private fd: number;
  constructor(readonly path: string) {
    this.fd = socket(1, 2 | 0o2000000, 0);
    if (this.fd < 0) throw new Error(`socket failed: errno ${koffi.errno()}`);
    const addr = Buffer.alloc(110);
    addr.writeUInt16LE(1, 0);
    Buffer.from(path).copy(addr, 2);
    if (bind(this.fd, addr, 2 + Buffer.byteLength(path) + 1) !== 0) throw new Error(`bind ${path} failed: errno ${koffi.errno()}`);
  }

  /** Every datagram queued now (non-blocking), in order. */
  drain(): Buffer[] {
    const out: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      const n = Number(recv(this.fd, buf, buf.length, MSG_DONTWAIT));
      if (n < 0) return out;
      out.push(Buffer.from(buf.subarray(0, n)));
    }
  }

  close(): void {
    if (this.fd >= 0) close(this.fd);
    this.fd = -1;
  }
}
