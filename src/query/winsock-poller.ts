/**
 * Readiness of many non-blocking Winsock sockets at once: one select() at a time, on a koffi worker
 * thread (selectAsync), over every socket that waits, so thousands of pending connects cost one
 * thread and the event loop never blocks.
 *
 * Why select() and not WSAPoll(): before Windows 10 2004, WSAPoll() does not report a failed connect
 * (no POLLERR/POLLHUP; see the Remarks of https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsapoll),
 * so a refused port would wait for the deadline. select() reports a failed connect in the except set on
 * every Windows version (https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-select).
 *
 * A socket added while a select() is in flight wakes it: a loopback UDP socket of our own sits in
 * every read set and gets a one-byte datagram. Sockets are closed by their owners only from a
 * callback of this poller (after select() returned), never while select() may be looking at them.
 */
import { decodeFdSet, encodeFdSet, encodeSockaddr, encodeTimeval } from './winsock-sockaddr';
import { type Socket, type Ws2, IPPROTO_UDP, SOCK_DGRAM, invalidSocket, selectAsync, selectNow, setNonBlocking, sockname } from './winsock-api';

export type Readiness = 'read' | 'write' | 'except' | 'deadline' | 'error' | 'checked';

interface Waiter {
  socket: Socket;
  read: boolean;
  write: boolean;
  /** process.hrtime in ms. */
  deadline: number;
  cb(ready: Readiness, code?: number): void;
  /** A pending-error check (SO_ERROR) made between selects: a nonzero code ends the wait ('checked'). */
  check?: () => number;
  checkAt: number;
  checkEvery: number;
}

/** First SO_ERROR check 2 ms after the wait starts, then doubling up to every 200 ms. */
const FIRST_CHECK_MS = 2;
const MAX_CHECK_MS = 200;

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export class WinsockPoller {
  private readonly waiting = new Map<Socket, Waiter>();
  private inFlight = false;
  private woken = false;
  private readonly waker: Socket;
  private readonly wakerAddr: Buffer;
  private readonly one = Buffer.alloc(1);
  private readonly drain = Buffer.alloc(16);

  constructor(private readonly api: Ws2) {
    const s = api.socket(2, SOCK_DGRAM, IPPROTO_UDP);
    if (invalidSocket(s)) throw new Error(`socket() for the poller's wake-up failed: Winsock error ${api.WSAGetLastError()}`);
    this.waker = s;
    setNonBlocking(api, s);
    const loop = encodeSockaddr('127.0.0.1', 0);
    if (api.bind(s, loop, loop.length) !== 0) throw new Error(`bind() for the poller's wake-up failed: Winsock error ${api.WSAGetLastError()}`);
    this.wakerAddr = sockname(api, s) ?? loop;
  }

  /** Sockets waited on now (for tests and the shortage back-off). */
  get size(): number {
    return this.waiting.size;
  }

  /**
   * Calls cb once: when the socket is readable / writable / in error, at the deadline, or when
   * `what.check` (called between selects, on a doubling schedule) returns a nonzero error code.
   */
  wait(socket: Socket, what: { read?: boolean; write?: boolean; check?: () => number }, deadlineMs: number, cb: Waiter['cb']): void {
    const now = nowMs();
    this.waiting.set(socket, { socket, read: !!what.read, write: !!what.write, deadline: now + deadlineMs, cb, check: what.check, checkAt: what.check ? now + FIRST_CHECK_MS : Infinity, checkEvery: FIRST_CHECK_MS });
    if (this.inFlight) this.wake();
    else this.schedule();
  }

  private scheduled = false;
  private schedule(): void {
    // Sockets registered in the same tick share one select().
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.poll();
    });
  }

  private wake(): void {
    if (this.woken) return;
    this.woken = true;
    this.api.sendto(this.waker, this.one, 1, 0, this.wakerAddr, this.wakerAddr.length);
  }

  private poll(): void {
    if (this.inFlight || this.waiting.size === 0) return;
    const reads: bigint[] = [BigInt(this.waker)];
    const writes: bigint[] = [];
    const excepts: bigint[] = [];
    let nearest = Infinity;
    for (const w of this.waiting.values()) {
      const s = BigInt(w.socket);
      if (w.read) reads.push(s);
      if (w.write) writes.push(s);
      // Except: a failed connect (Windows), and a pending socket error on UDP (Wine reports a queued
      // ICMP error there, not as readable; on Windows WSAECONNRESET makes the socket readable).
      excepts.push(s);
      if (w.deadline < nearest) nearest = w.deadline;
      if (w.checkAt < nearest) nearest = w.checkAt;
    }
    const read = encodeFdSet(reads);
    const write = encodeFdSet(writes);
    const except = encodeFdSet(excepts);
    const timeout = encodeTimeval(Math.max(0, Math.ceil(nearest - nowMs())));
    this.inFlight = true;
    this.woken = false;
    selectAsync(this.api, read, write, except, timeout, (err, n) => {
      this.inFlight = false;
      if (err || n < 0) this.failed(read, write, except, reads, writes, excepts, err);
      else this.dispatch(read, write, except);
      this.poll();
    });
  }

  private dispatch(read: Buffer, write: Buffer, except: Buffer): void {
    const ready = new Map<bigint, Readiness>();
    for (const s of decodeFdSet(except)) ready.set(s, 'except');
    for (const s of decodeFdSet(write)) if (!ready.has(s)) ready.set(s, 'write');
    for (const s of decodeFdSet(read)) if (!ready.has(s)) ready.set(s, 'read');
    const waker = BigInt(this.waker);
    if (ready.delete(waker)) while (this.api.recv(this.waker, this.drain, this.drain.length, 0) > 0);
    for (const [s, what] of ready) this.fire(Number(s), what);
    const now = nowMs();
    for (const w of [...this.waiting.values()]) {
      if (w.check && w.checkAt <= now) {
        const code = w.check();
        if (code !== 0) {
          this.fire(w.socket, 'checked', code);
          continue;
        }
        w.checkEvery = Math.min(MAX_CHECK_MS, w.checkEvery * 2);
        w.checkAt = now + w.checkEvery;
      }
      if (w.deadline <= now) this.fire(w.socket, 'deadline');
    }
  }

  /** select() failed as a whole: ask again on this thread for the code, and end every waiter with it. */
  private failed(read: Buffer, write: Buffer, except: Buffer, reads: bigint[], writes: bigint[], excepts: bigint[], err: unknown): void {
    const code = selectNow(this.api, encodeFdSet(reads, read), encodeFdSet(writes, write), encodeFdSet(excepts, except));
    if (code === 0) return this.dispatch(read, write, except);
    for (const w of [...this.waiting.values()]) this.fire(w.socket, 'error', err ? -1 : code);
  }

  private fire(socket: Socket, what: Readiness, code?: number): void {
    const w = this.waiting.get(socket);
    if (!w) return;
    this.waiting.delete(socket);
    w.cb(what, code);
  }
}
