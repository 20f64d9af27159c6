/**
 * Pure encoding and decoding of NETLINK_SOCK_DIAG inet dumps (what `ss` reads; sock_diag(7)):
 * the same rows as /proc/net/{tcp,tcp6,udp,udp6}, from binary messages the kernel fills without
 * printing text. The socket I/O is in linux-netlink.ts. Layouts (include/uapi/linux/netlink.h,
 * sock_diag.h, inet_diag.h), all in host byte order except the ports (big-endian) and addresses
 * (network order bytes):
 *   nlmsghdr (16): len u32 @0, type u16 @4, flags u16 @6, seq u32 @8, pid u32 @12
 *   inet_diag_req_v2 (56): family u8 @0, protocol u8 @1, ext u8 @2, pad @3, states u32 @4, sockid (48) @8
 *   inet_diag_msg (72): family u8 @0, state u8 @1, timer @2, retrans @3, sport be16 @4, dport be16 @6,
 *     src[16] @8, dst[16] @24, if u32 @40, cookie u32×2 @44, expires @52, rqueue @56, wqueue @60,
 *     uid u32 @64, inode u32 @68
 */
import * as os from 'node:os';
import { formatIPv4, formatIPv6 } from './address';
import { linuxTcpState, type ProcNetRow } from './linux-decode';
import type { TcpState } from './types';

export const AF_NETLINK = 16;
export const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_HDRLEN = 16;
const INET_DIAG_MSG_LEN = 72;
const AF_INET = 2;
const AF_INET6 = 10;

function sameSocket(known: KnownRow, buf: Buffer, u32: Uint32Array | null, m: number, inode: number): boolean {
  if (known.inode !== inode) return false;
  for (let w = 0; w < ID_WORDS; w++) if (known.words[w] !== word(buf, u32, m + 4 + 4 * w)) return false;
  return true;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * The buffer as 32-bit words when they can be read in place (a little-endian host and an aligned
 * buffer, as the reader's is): an element read instead of a readUInt32LE call, which is what most of
 * a dump's decoding cost before the code was optimized (a one-shot snapshot never gets that far).
 */
function wordView(buf: Buffer, length: number): Uint32Array | null {
  return LITTLE_ENDIAN && buf.byteOffset % 4 === 0 ? new Uint32Array(buf.buffer, buf.byteOffset, length >>> 2) : null;
}

/**
 * Walks one batch of netlink messages: each SOCK_DIAG_BY_FAMILY payload to message (with a
 * word view of the batch, made once), NLMSG_ERROR as SockDiagError. True at NLMSG_DONE.
 */
function walkBatch(buf: Buffer, length: number, message: (buf: Buffer, u32: Uint32Array | null, off: number) => void): boolean {
  let off = 0;
  let u32: Uint32Array | null | undefined;
  while (off + NLMSG_HDRLEN <= length) {
    const len = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    if (len < NLMSG_HDRLEN || off + len > length) throw new Error(`malformed netlink message (length ${len} at ${off} of ${length})`);
    if (type === NLMSG_DONE) return true;
    if (type === NLMSG_ERROR) throw new SockDiagError(-buf.readInt32LE(off + NLMSG_HDRLEN));
    if (type === SOCK_DIAG_BY_FAMILY && len >= NLMSG_HDRLEN + INET_DIAG_MSG_LEN) message(buf, (u32 ??= wordView(buf, length)), off + NLMSG_HDRLEN);
    off += (len + 3) & ~3;
  }
  return false;
}

/** The little-endian u32 at `at` (a multiple of 4). */
function word(buf: Buffer, u32: Uint32Array | null, at: number): number {
  return u32 !== null ? u32[at >>> 2]! : buf.readUInt32LE(at);
}

/** A dump request for every socket of one protocol and family (all states). */
export function inetDiagRequest(protocol: 'TCP' | 'UDP', family: 4 | 6, seq: number): Buffer {
  const req = Buffer.alloc(NLMSG_HDRLEN + 56);
  req.writeUInt32LE(req.length, 0);
  req.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
  req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  req.writeUInt32LE(seq >>> 0, 8);
  req.writeUInt8(family === 4 ? AF_INET : AF_INET6, 16);
  req.writeUInt8(protocol === 'TCP' ? 6 : 17, 17);
  req.writeUInt32LE(0xffffffff, 20); // every state, TIME_WAIT and request sockets included, as /proc lists them
  return req;
}

/** The kernel refused the dump: errno as NLMSG_ERROR carries it (ENOENT: no tcp_diag/udp_diag module). */
export class SockDiagError extends Error {
  constructor(readonly errno: number) {
    super(`NETLINK_SOCK_DIAG error ${errno}`);
  }
}

interface KnownRow {
  row: ProcNetRow;
  /** Identity: sport+dport, src and dst as the nine 32-bit words of bytes 4-40 of the message, and the inode. */
  words: number[];
  inode: number;
  generation: number;
  /** Next row with the same hash. */
  next: KnownRow | undefined;
}

const ID_WORDS = 9;

/**
 * Decodes the messages of one protocol/family dump into ProcNetRows, fed one recv() batch at a
 * time. Like ProcNetDecoder it returns the same row object for a socket that did not change since
 * the last dump (identity: ports, addresses and inode; then the state), and a socket the kernel sent
 * twice (a dump is not a snapshot either) once.
 */
export class InetDiagDecoder implements InetDiagRowDecoder {
  /** By a hash of the identity, chained; no strings are built for a socket already known. */
  private known = new Map<number, KnownRow>();
  private size = 0;
  private generation = 0;
  private rows: ProcNetRow[] = [];
  private readonly addresses = new AddressTexts(4096);

  constructor(
    readonly protocol: 'TCP' | 'UDP',
    readonly family: 4 | 6,
  ) {}

  begin(): void {
    this.generation++;
    this.rows = [];
  }

  /** Decodes one batch; true once the dump is complete (NLMSG_DONE). Throws SockDiagError on NLMSG_ERROR. */
  feed(buf: Buffer, length: number): boolean {
    return walkBatch(buf, length, (b, u32, m) => this.message(b, u32, m));
  }

  /** The rows of the dump since begin(). */
  end(): ProcNetRow[] {
    if (this.size > this.rows.length) {
      for (const [hash, first] of this.known) {
        let head: KnownRow | undefined;
        for (let k: KnownRow | undefined = first; k; ) {
          const next: KnownRow | undefined = k.next;
          if (k.generation === this.generation) {
            k.next = head;
            head = k;
          } else {
            this.size--;
          }
          k = next;
        }
        if (head) this.known.set(hash, head);
        else this.known.delete(hash);
      }
    }
    return this.rows;
  }

  private message(buf: Buffer, u32: Uint32Array | null, m: number): void {
    const inode = word(buf, u32, m + 68);
    let hash = inode;
    for (let w = 0; w < ID_WORDS; w++) hash = Math.imul(hash ^ word(buf, u32, m + 4 + 4 * w), 0x9e3779b1);
    let known = this.known.get(hash);
    while (known && !sameSocket(known, buf, u32, m, inode)) known = known.next;
    if (known?.generation === this.generation) return;
    const state = this.protocol === 'TCP' ? linuxTcpState(buf[m + 1]!) : null;
    if (!known || known.row.state !== state) {
      const row = this.decode(buf, m, state);
      if (known) {
        known.row = row;
      } else {
        const words: number[] = [];
        for (let w = 0; w < ID_WORDS; w++) words.push(word(buf, u32, m + 4 + 4 * w));
        known = { row, words, inode, generation: 0, next: this.known.get(hash) };
        this.known.set(hash, known);
        this.size++;
      }
    }
    known.generation = this.generation;
    this.rows.push(known.row);
  }

  private decode(buf: Buffer, m: number, state: TcpState | null): ProcNetRow {
    return inetDiagRow(buf, m, this.protocol, this.family, state, (at) => this.address(buf, at));
  }

  private address(buf: Buffer, at: number): string {
    return this.addresses.text(buf, at, this.family);
  }
}

/** A row of a one-shot dump: already an Endpoint (pid filled in by the backend once owners are known). */
export interface OnceRow extends ProcNetRow {
  pid: number | null;
  creationTime: null;
}

/** What SockDiagReader.dump drives: InetDiagDecoder (repeated snapshots) or InetDiagOnceDecoder (one). */
export interface InetDiagRowDecoder<R extends ProcNetRow = ProcNetRow> {
  readonly protocol: 'TCP' | 'UDP';
  readonly family: 4 | 6;
  begin(): void;
  feed(buf: Buffer, length: number): boolean;
  end(): R[];
}

/**
 * The decoder of one dump that is not followed by another (`record --once`): the same rows as
 * InetDiagDecoder's first dump, in the same order, a socket sent twice once, but nothing is kept for a
 * next dump (InetDiagDecoder keeps a KnownRow and an array of nine identity words per socket, alive
 * with the rows until the output is written: garbage-collector work for a process that ends anyway).
 * Identities of this dump are kept as words in one typed array, only to drop a socket sent twice.
 * Each row is also the Endpoint the backend hands out (pid set once owners are known), so no second
 * object is made per socket. Never used by the recorder: its per-socket memo is what makes polls cheap.
 */
export class InetDiagOnceDecoder implements InetDiagRowDecoder<OnceRow> {
  private rows: OnceRow[] = [];
  /** Identity words (9) and inode of rows[i] at ids[10 * i ...]. */
  private ids = new Uint32Array(10 * 1024);
  /** Hash of an identity → index of the first row with that hash; further ones chained through nextSame. */
  private byHash = new Map<number, number>();
  private nextSame = new Int32Array(1024);
  // No bound: the decoder lives for one dump, and each address is made once (thousands of clients).
  private readonly addresses = new AddressTexts(Infinity);

  constructor(
    readonly protocol: 'TCP' | 'UDP',
    readonly family: 4 | 6,
  ) {}

  begin(): void {
    this.rows = [];
    this.byHash.clear();
    this.addresses.clear();
  }

  feed(buf: Buffer, length: number): boolean {
    return walkBatch(buf, length, (b, u32, m) => this.message(b, u32, m));
  }

  end(): OnceRow[] {
    const rows = this.rows;
    this.rows = [];
    this.byHash.clear();
    this.addresses.clear();
    return rows;
  }

  private message(buf: Buffer, u32: Uint32Array | null, m: number): void {
    const inode = word(buf, u32, m + 68);
    let hash = inode;
    for (let w = 0; w < ID_WORDS; w++) hash = Math.imul(hash ^ word(buf, u32, m + 4 + 4 * w), 0x9e3779b1);
    const index = this.rows.length;
    const first = this.byHash.get(hash);
    if (first !== undefined) {
      let last = first;
      for (let k = first; k >= 0; k = this.nextSame[k]!) {
        if (this.sameIdentity(k, buf, u32, m, inode)) return; // sent twice within the dump
        last = k;
      }
      this.grow(index);
      this.nextSame[last] = index;
    } else {
      this.grow(index);
      this.byHash.set(hash, index);
    }
    this.nextSame[index] = -1;
    const ids = this.ids;
    for (let w = 0; w < ID_WORDS; w++) ids[10 * index + w] = word(buf, u32, m + 4 + 4 * w);
    ids[10 * index + ID_WORDS] = inode;

    const protocol = this.protocol;
    const state = protocol === 'TCP' ? linuxTcpState(buf[m + 1]!) : null;
    // As inetDiagRow: a listener's remote side is all zeros, and UDP endpoints carry none.
    const remoteAddress = this.address(buf, m + 24);
    const remotePort = buf.readUInt16BE(m + 6);
    const noRemote = protocol === 'UDP' || state === 'Listen' || (remotePort === 0 && (remoteAddress === '0.0.0.0' || remoteAddress === '::'));
    this.rows.push({
      protocol,
      family: this.family,
      localAddress: this.address(buf, m + 8),
      localPort: buf.readUInt16BE(m + 4),
      remoteAddress: noRemote ? null : remoteAddress,
      remotePort: noRemote ? null : remotePort,
      state,
      uid: word(buf, u32, m + 64),
      inode,
      pid: null,
      creationTime: null,
    });
  }

  private sameIdentity(k: number, buf: Buffer, u32: Uint32Array | null, m: number, inode: number): boolean {
    const ids = this.ids;
    if (ids[10 * k + ID_WORDS] !== inode) return false;
    for (let w = 0; w < ID_WORDS; w++) if (ids[10 * k + w] !== word(buf, u32, m + 4 + 4 * w)) return false;
    return true;
  }

  private grow(index: number): void {
    if (index < this.nextSame.length) return;
    const nextSame = new Int32Array(this.nextSame.length * 2);
    nextSame.set(this.nextSame);
    this.nextSame = nextSame;
    const ids = new Uint32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.ids = ids;
  }

  private address(buf: Buffer, at: number): string {
    return this.addresses.text(buf, at, this.family);
  }
}

/**
 * Address texts by their bytes, made once each: an IPv4 address is its own key (its 32-bit word: no
 * string is made to look it up), an IPv6 address its 16 bytes. Cleared when it holds limit entries.
 */
class AddressTexts {
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();

  constructor(private readonly limit: number) {}

  text(buf: Buffer, at: number, family: 4 | 6): string {
    if (family === 4) {
      const key = buf.readUInt32LE(at);
      let text = this.v4.get(key);
      if (text === undefined) {
        if (this.v4.size >= this.limit) this.v4.clear();
        text = formatIPv4(buf, at);
        this.v4.set(key, text);
      }
      return text;
    }
    const key = buf.toString('latin1', at, at + 16);
    let text = this.v6.get(key);
    if (text === undefined) {
      if (this.v6.size >= this.limit) this.v6.clear();
      text = formatIPv6(buf, at);
      this.v6.set(key, text);
    }
    return text;
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
  }
}

/** One inet_diag_msg at m as a ProcNetRow (the shape /proc/net rows have). */
function inetDiagRow(buf: Buffer, m: number, protocol: 'TCP' | 'UDP', family: 4 | 6, state: TcpState | null, address: (at: number) => string): ProcNetRow {
  const remoteAddress = address(m + 24);
  const remotePort = buf.readUInt16BE(m + 6);
  // As in /proc: a listener's remote side is all zeros, and UDP endpoints carry none in the shared shape.
  const noRemote = protocol === 'UDP' || state === 'Listen' || (remotePort === 0 && (remoteAddress === '0.0.0.0' || remoteAddress === '::'));
  return {
    protocol,
    family,
    localAddress: address(m + 8),
    localPort: buf.readUInt16BE(m + 4),
    remoteAddress: noRemote ? null : remoteAddress,
    remotePort: noRemote ? null : remotePort,
    state,
    uid: buf.readUInt32LE(m + 64),
    inode: buf.readUInt32LE(m + 68),
  };
}

/**
 * The sock_diag destroy multicast groups (include/uapi/linux/sock_diag.h, enum sknetlink_groups):
 * every inet socket the kernel frees is announced to their members, one SOCK_DIAG_BY_FAMILY message
 * per socket (what `ss -E` prints). Joining needs CAP_NET_ADMIN in the socket's network namespace.
 */
export const SKNLGRP_INET_TCP_DESTROY = 1;
export const SKNLGRP_INET_UDP_DESTROY = 2;
export const SKNLGRP_INET6_TCP_DESTROY = 3;
export const SKNLGRP_INET6_UDP_DESTROY = 4;
/** Attribute after the inet_diag_msg that names the protocol (enum inet_diag_attr). */
export const INET_DIAG_PROTOCOL = 10;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** A socket the kernel destroyed: its last addresses, ports, state and uid (inode 0: no file held it any more). */
export type DestroyedSocket = ProcNetRow;

/**
 * Decodes one recv() of a destroy-group socket: zero or more SOCK_DIAG_BY_FAMILY messages, each an
 * inet_diag_msg followed by attributes (rtattr: u16 length, u16 type, 4-byte aligned). The protocol
 * comes from INET_DIAG_PROTOCOL, else from `protocol` (the groups the socket joined). Sockets that
 * were never bound (local port 0) are not port uses and are left out; unknown message types and
 * families are passed over.
 */
export function decodeDestroyMessages(buf: Buffer, length: number, protocol: 'TCP' | 'UDP' | null = null): DestroyedSocket[] {
  const out: DestroyedSocket[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= length) {
    const len = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    if (len < NLMSG_HDRLEN || off + len > length) throw new Error(`malformed netlink message (length ${len} at ${off} of ${length})`);
    if (type === SOCK_DIAG_BY_FAMILY && len >= NLMSG_HDRLEN + INET_DIAG_MSG_LEN) {
      const m = off + NLMSG_HDRLEN;
      const af = buf[m]!;
      let proto = protocol;
      for (let a = m + INET_DIAG_MSG_LEN; a + 4 <= off + len; ) {
        const alen = buf.readUInt16LE(a);
        if (alen < 4) break;
        if (buf.readUInt16LE(a + 2) === INET_DIAG_PROTOCOL && alen >= 5) {
          const p = buf[a + 4];
          proto = p === IPPROTO_TCP ? 'TCP' : p === IPPROTO_UDP ? 'UDP' : null;
        }
        a += (alen + 3) & ~3;
      }
      if ((af === AF_INET || af === AF_INET6) && proto !== null) {
        const family = af === AF_INET ? 4 : 6;
        const state = proto === 'TCP' ? (linuxTcpStateOrNull(buf[m + 1]!) ?? 'Closed') : null;
        const row = inetDiagRow(buf, m, proto, family, state, (at) => (family === 4 ? formatIPv4(buf, at) : formatIPv6(buf, at)));
        if (row.localPort !== 0) out.push(row);
      }
    }
    off += (len + 3) & ~3;
  }
  return out;
}

function linuxTcpStateOrNull(code: number): TcpState | null {
  try {
    return linuxTcpState(code);
  } catch {
    return null;
  }
}
