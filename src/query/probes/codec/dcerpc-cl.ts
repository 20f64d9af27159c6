import { ProbeDecodeError } from '../types';
import { guidBytes, readGuid } from './guid';
import { rpcStatusName } from './dcerpc';

/**
 * DCE/RPC connectionless PDUs (C706 chapter 12.5, "ncadg_ip_udp"), as an unauthenticated client needs
 * them for one call in one datagram: a request, and the first (often only) fragment of its response, a
 * fault or a reject. The 80-byte header (C706 12.5.3.1), little-endian data representation (drep 0x10):
 *
 *   rpc_vers 4, ptype, flags1, flags2, drep[3], serial_hi, object uuid, if_id uuid, act_id uuid,
 *   server_boot u32, if_vers u32, seqnum u32, opnum u16, ihint u16, ahint u16, len u16, fragnum u16,
 *   auth_proto u8, serial_lo u8
 */
export const ClPduType = { Request: 0, Response: 2, Fault: 3, Reject: 6 } as const;
export const CL_HEADER = 80;
const PF_LAST_FRAG = 0x02;
const PF_FRAG = 0x04;
const PF_IDEMPOTENT = 0x20;
const NIL = '00000000-0000-0000-0000-000000000000';

export interface ClRequest {
  iface: { uuid: string; major: number; minor?: number };
  opnum: number;
  stub: Buffer;
  /** The call's activity id (a random UUID per call). */
  activity: string;
  seqnum?: number;
}

export function encodeClRequest(r: ClRequest): Buffer {
  const h = Buffer.alloc(CL_HEADER);
  h.writeUInt8(4, 0); // rpc_vers
  h.writeUInt8(ClPduType.Request, 1);
  h.writeUInt8(PF_IDEMPOTENT, 2); // a lookup may be repeated; one fragment, so no PF_FRAG
  h.writeUInt8(0, 3);
  h.writeUInt8(0x10, 4); // drep: little-endian, ASCII
  guidBytes(NIL).copy(h, 8); // object
  guidBytes(r.iface.uuid).copy(h, 24);
  guidBytes(r.activity).copy(h, 40);
  h.writeUInt32LE(0, 56); // server_boot: unknown yet
  h.writeUInt32LE(((r.iface.minor ?? 0) << 16) | r.iface.major, 60);
  h.writeUInt32LE(r.seqnum ?? 0, 64);
  h.writeUInt16LE(r.opnum, 68);
  h.writeUInt16LE(0xffff, 70); // ihint: none
  h.writeUInt16LE(0xffff, 72); // ahint: none
  h.writeUInt16LE(r.stub.length, 74);
  h.writeUInt16LE(0, 76); // fragnum
  return Buffer.concat([h, r.stub]);
}

/**
 * The stub of a response to `activity` (any activity when undefined); a fault or reject is a ProbeDecodeError naming its status.
 * `complete` is false when the server split the answer into fragments and this is only the first.
 */
export function decodeClResponse(buf: Buffer, activity: string | undefined): { stub: Buffer; complete: boolean } {
  if (buf.length < CL_HEADER) throw new ProbeDecodeError(`connectionless DCE/RPC reply of ${buf.length} bytes, the header alone is ${CL_HEADER}`);
  if (buf.readUInt8(0) !== 4) throw new ProbeDecodeError(`connectionless DCE/RPC version ${buf.readUInt8(0)}, expected 4`);
  if ((buf.readUInt8(4) & 0xf0) !== 0x10) throw new ProbeDecodeError('big-endian DCE/RPC data representation is not supported');
  const type = buf.readUInt8(1);
  const flags = buf.readUInt8(2);
  const act = readGuid(buf, 40);
  if (activity !== undefined && act !== activity) throw new ProbeDecodeError(`DCE/RPC reply for activity ${act}, not ours`);
  const len = buf.readUInt16LE(74);
  if (CL_HEADER + len > buf.length) throw new ProbeDecodeError(`connectionless DCE/RPC body of ${len} bytes cut at ${buf.length - CL_HEADER}`);
  const body = buf.subarray(CL_HEADER, CL_HEADER + len);
  if (type === ClPduType.Fault || type === ClPduType.Reject) {
    const status = body.length >= 4 ? body.readUInt32LE(0) : -1;
    throw new ProbeDecodeError(`DCE/RPC ${type === ClPduType.Fault ? 'fault' : 'reject'} ${status < 0 ? '(cut)' : rpcStatusName(status)}`);
  }
  if (type !== ClPduType.Response) throw new ProbeDecodeError(`connectionless DCE/RPC PDU type ${type} instead of response`);
  if (flags & PF_FRAG && buf.readUInt16LE(76) !== 0) throw new ProbeDecodeError(`DCE/RPC response fragment ${buf.readUInt16LE(76)} without the first`);
  return { stub: Buffer.from(body), complete: !(flags & PF_FRAG) || !!(flags & PF_LAST_FRAG) };
}
