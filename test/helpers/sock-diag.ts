/**
 * NETLINK_SOCK_DIAG messages built to the kernel's layouts (linux/inet_diag.h, linux/netlink.h), for
 * the sock_diag decoders' tests: host-order fields little-endian, ports big-endian, as on x86/arm64.
 */
export interface InetDiagMessage {
  family?: 2 | 10;
  state: number;
  sport: number;
  dport?: number;
  src: number[];
  dst?: number[];
  uid?: number;
  inode?: number;
  /** After the inet_diag_msg: a count of zero bytes (the kernel appends attributes), or the attributes. */
  attrs?: number | Buffer;
  /** nlmsg_flags: NLM_F_MULTI (2) for a dump's messages, 0 for the destroy groups' broadcasts. */
  flags?: number;
}

/** One nlmsghdr + inet_diag_msg (SOCK_DIAG_BY_FAMILY), padded to 4 bytes. */
export function inetDiagMessage(m: InetDiagMessage): Buffer {
  const attrs = typeof m.attrs === 'number' ? Buffer.alloc(m.attrs) : (m.attrs ?? Buffer.alloc(0));
  const len = 16 + 72 + attrs.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(20, 4); // SOCK_DIAG_BY_FAMILY
  b.writeUInt16LE(m.flags ?? 2, 6); // NLM_F_MULTI
  b.writeUInt8(m.family ?? 2, 16);
  b.writeUInt8(m.state, 17);
  b.writeUInt16BE(m.sport, 20);
  b.writeUInt16BE(m.dport ?? 0, 22);
  Buffer.from(m.src).copy(b, 24);
  Buffer.from(m.dst ?? []).copy(b, 40);
  b.writeUInt32LE(m.uid ?? 0, 16 + 64);
  b.writeUInt32LE(m.inode ?? 0, 16 + 68);
  attrs.copy(b, 16 + 72);
  return b;
}

/** NLMSG_DONE: the end of a dump. */
export function nlmsgDone(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(20, 0);
  b.writeUInt16LE(3, 4); // NLMSG_DONE
  return b;
}

/** NLMSG_ERROR carrying -errno (e.g. 2, ENOENT: no udp_diag module). */
export function nlmsgError(errno: number): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt32LE(36, 0);
  b.writeUInt16LE(2, 4); // NLMSG_ERROR
  b.writeInt32LE(-errno, 16);
  return b;
}
