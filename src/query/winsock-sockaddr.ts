/**
 * Winsock socket addresses as bytes (ws2def.h / ws2ipdef.h), pure functions with byte tests:
 * - SOCKADDR_IN (16 bytes): ADDRESS_FAMILY sin_family = AF_INET (2, little-endian), USHORT sin_port
 *   (network order), IN_ADDR (4 bytes), 8 zero bytes.
 * - SOCKADDR_IN6 (28 bytes): sin6_family = AF_INET6 (23 on Windows, 10 on Linux), sin6_port (network
 *   order), ULONG sin6_flowinfo, IN6_ADDR (16 bytes), ULONG sin6_scope_id (little-endian).
 * Also the fd_set and TIMEVAL layouts select() takes on 64-bit Windows, and ICMP_ERROR_INFO.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv4, formatIPv6 } from '../platform/address';

export const AF_INET = 2;
export const AF_INET6 = 23;
export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;
/** Large enough for either (SOCKADDR_STORAGE is 128; 28 is what Winsock writes for IPv6). */
export const SOCKADDR_MAX = 128;

/** Four bytes of a dotted quad. Throws on anything else. */
export function ipv4Bytes(address: string): Buffer {
  if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

/** Sixteen bytes of an IPv6 literal (with `::`, an embedded IPv4 tail, an optional %zone dropped). */
export function ipv6Bytes(address: string): { bytes: Buffer; scopeId: number } {
  const [text, zone] = address.split('%') as [string, string | undefined];
  if (!isIPv6(text)) throw new Error(`not an IPv6 address: ${address}`);
  let groups: number[] = [];
  let tail = text;
  let v4: Buffer | null = null;
  const lastColon = tail.lastIndexOf(':');
  if (tail.slice(lastColon + 1).includes('.')) {
    v4 = ipv4Bytes(tail.slice(lastColon + 1));
    tail = tail.slice(0, lastColon + 1) + '0:0';
  }
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const gap = tail.indexOf('::');
  if (gap >= 0) {
    const head = parse(tail.slice(0, gap));
    const rest = parse(tail.slice(gap + 2));
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    groups = parse(tail);
  }
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  if (v4) v4.copy(bytes, 12);
  const scopeId = zone !== undefined && /^\d+$/.test(zone) ? Number(zone) : 0;
  return { bytes, scopeId };
}

/** SOCKADDR_IN or SOCKADDR_IN6 for an IP literal and a port. */
export function encodeSockaddr(address: string, port: number): Buffer {
  if (isIPv4(address)) {
    const buf = Buffer.alloc(SOCKADDR_IN_SIZE);
    buf.writeUInt16LE(AF_INET, 0);
    buf.writeUInt16BE(port, 2);
    ipv4Bytes(address).copy(buf, 4);
    return buf;
  }
  const { bytes, scopeId } = ipv6Bytes(address);
  const buf = Buffer.alloc(SOCKADDR_IN6_SIZE);
  buf.writeUInt16LE(AF_INET6, 0);
  buf.writeUInt16BE(port, 2);
  buf.writeUInt32LE(0, 4);
  bytes.copy(buf, 8);
  buf.writeUInt32LE(scopeId, 24);
  return buf;
}

/** The wildcard address of the same family, for bind (-sp). */
export function anySockaddr(forAddress: string, port: number): Buffer {
  return encodeSockaddr(isIPv4(forAddress) ? '0.0.0.0' : '::', port);
}

/** Address and port from a SOCKADDR_IN/IN6 (getsockname, recvfrom); null for another family. */
export function decodeSockaddr(buf: Buffer, offset = 0): { address: string; port: number } | null {
  const family = buf.readUInt16LE(offset);
  if (family === AF_INET) return { address: formatIPv4(buf, offset + 4), port: buf.readUInt16BE(offset + 2) };
  if (family === AF_INET6) return { address: formatIPv6(buf, offset + 8), port: buf.readUInt16BE(offset + 2) };
  return null;
}

/** Address text the way Node prints it, so both engines give the same LocalAddress (no IPv4-mapped prefix). */
export function sameAddress(a: string, b: string): boolean {
  return a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}

/**
 * fd_set on 64-bit Windows: u_int fd_count, 4 bytes of padding (SOCKET is 8-byte aligned), SOCKET
 * fd_array[fd_count]. Winsock's select() reads fd_count entries, so a set may hold more than the
 * FD_SETSIZE (64) a C program compiles with.
 */
export function encodeFdSet(sockets: readonly bigint[], into?: Buffer): Buffer {
  const buf = into && into.length >= 8 + sockets.length * 8 ? into : Buffer.alloc(8 + Math.max(1, sockets.length) * 8);
  buf.writeUInt32LE(sockets.length, 0);
  buf.writeUInt32LE(0, 4);
  for (let i = 0; i < sockets.length; i++) buf.writeBigUInt64LE(sockets[i]!, 8 + i * 8);
  return buf;
}

/** The sockets select() left in a set. */
export function decodeFdSet(buf: Buffer): bigint[] {
  const n = buf.readUInt32LE(0);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(buf.readBigUInt64LE(8 + i * 8));
  return out;
}

/** TIMEVAL: long tv_sec, long tv_usec (long is 32 bits on Windows). */
export function encodeTimeval(ms: number): Buffer {
  const buf = Buffer.alloc(8);
  const whole = Math.max(0, Math.floor(ms));
  buf.writeInt32LE(Math.floor(whole / 1000), 0);
  buf.writeInt32LE((whole % 1000) * 1000, 4);
  return buf;
}

/**
 * ICMP_ERROR_INFO (mstcpip.h): SOCKADDR_INET srcaddress (28 bytes), IPPROTO protocol (4 bytes), UINT8
 * type, UINT8 code; 36 bytes with padding. Null when no ICMP error was recorded (type 0 and code 0 with
 * an empty source address).
 */
export const ICMP_ERROR_INFO_SIZE = 36;
export function decodeIcmpErrorInfo(buf: Buffer): { source: string | null; v6: boolean; type: number; code: number } | null {
  if (buf.length < 34) return null;
  const from = decodeSockaddr(buf, 0);
  const type = buf.readUInt8(32);
  const code = buf.readUInt8(33);
  if (!from || (type === 0 && code === 0)) return null;
  return { source: from.address, v6: buf.readUInt16LE(0) === AF_INET6, type, code };
}

/** TCP_INITIAL_RTO_PARAMETERS { USHORT Rtt; UCHAR MaxSynRetransmissions; } (4 bytes with padding). */
export function encodeInitialRto(rtt: number, maxSynRetransmissions: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt16LE(rtt, 0);
  buf.writeUInt8(maxSynRetransmissions, 2);
  return buf;
}
