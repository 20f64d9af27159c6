import { ProbeDecodeError } from '../types';
import { guidBytes, readGuid } from './guid';

/**
 * DCE/RPC connection-oriented PDUs (C706 chapter 12, [MS-RPCE] 2.2.2) as an unauthenticated client
 * needs them: bind, bind_ack / bind_nak, request, and response reassembled from its fragments.
 * Little-endian data representation throughout (drep 0x10), which is what clients send and what
 * servers answer in.
 */

export const PduType = { Request: 0, Response: 2, Fault: 3, Bind: 11, BindAck: 12, BindNak: 13 } as const;
const PFC_FIRST_FRAG = 0x01;
const PFC_LAST_FRAG = 0x02;
const HEADER = 16;

/** NDR 2.0 transfer syntax. */
export const NDR_SYNTAX = { uuid: '8a885d04-1ceb-11c9-9fe8-08002b104860', version: 2 };

/** Largest fragment we offer to send and receive (what Windows clients offer). */
export const MAX_FRAGMENT = 5840;

function header(type: number, body: Buffer, callId: number): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt8(5, 0); // rpc_vers
  h.writeUInt8(0, 1); // rpc_vers_minor
  h.writeUInt8(type, 2);
  h.writeUInt8(PFC_FIRST_FRAG | PFC_LAST_FRAG, 3);
  h.writeUInt32BE(0x10000000, 4); // drep: little-endian integers, ASCII, IEEE floats
  h.writeUInt16LE(HEADER + body.length, 8); // frag_length
  h.writeUInt16LE(0, 10); // auth_length
  h.writeUInt32LE(callId, 12);
  return Buffer.concat([h, body]);
}

function syntaxId(uuid: string, major: number, minor = 0): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt16LE(major, 0);
  version.writeUInt16LE(minor, 2);
  return Buffer.concat([guidBytes(uuid), version]);
}

/** A bind with one presentation context: the interface, transfer syntax NDR. */
export function encodeBind(iface: { uuid: string; major: number; minor?: number }, callId = 1): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(MAX_FRAGMENT, 0); // max_xmit_frag
  fixed.writeUInt16LE(MAX_FRAGMENT, 2); // max_recv_frag
  fixed.writeUInt32LE(0, 4); // assoc_group_id: a new association
  const contexts = Buffer.from([1, 0, 0, 0]); // n_context_elem, reserved
  const element = Buffer.from([0, 0, 1, 0]); // p_cont_id 0, n_transfer_syn 1, reserved
  return header(PduType.Bind, Buffer.concat([fixed, contexts, element, syntaxId(iface.uuid, iface.major, iface.minor), syntaxId(NDR_SYNTAX.uuid, NDR_SYNTAX.version)]), callId);
}

/** A request PDU (one fragment) carrying `stub` for operation `opnum` on presentation context 0. */
export function encodeRequest(opnum: number, stub: Buffer, callId: number): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt32LE(stub.length, 0); // alloc_hint
  fixed.writeUInt16LE(0, 4); // p_cont_id
  fixed.writeUInt16LE(opnum, 6);
  return header(PduType.Request, Buffer.concat([fixed, stub]), callId);
}

interface Pdu {
  type: number;
  flags: number;
  callId: number;
  /** The PDU after the common header, without any auth verifier. */
  body: Buffer;
  end: number;
}

/** Reads the PDU at `offset`, or returns undefined if it has not fully arrived. */
function readPdu(buf: Buffer, offset: number): Pdu | undefined {
  if (offset + HEADER > buf.length) return undefined;
  if (buf[offset] !== 5) throw new ProbeDecodeError(`not a DCE/RPC PDU (version ${buf[offset]})`);
  if ((buf[offset + 4]! & 0xf0) !== 0x10) throw new ProbeDecodeError('big-endian DCE/RPC replies are not supported');
  const length = buf.readUInt16LE(offset + 8);
  const authLength = buf.readUInt16LE(offset + 10);
  if (length < HEADER + (authLength > 0 ? authLength + 8 : 0)) throw new ProbeDecodeError(`DCE/RPC fragment length ${length} is too small`);
  if (offset + length > buf.length) return undefined;
  return {
    type: buf[offset + 2]!,
    flags: buf[offset + 3]!,
    callId: buf.readUInt32LE(offset + 12),
    body: buf.subarray(offset + HEADER, offset + length - (authLength > 0 ? authLength + 8 : 0)),
    end: offset + length,
  };
}

/** True once the buffer holds whole PDUs up to one with the last-fragment flag (or an unreadable one). */
export function pduSequenceComplete(buffered: Buffer): boolean {
  try {
    for (let offset = 0; ; ) {
      const pdu = readPdu(buffered, offset);
      if (!pdu) return false;
      if (pdu.flags & PFC_LAST_FRAG || pdu.type !== PduType.Response) return true;
      offset = pdu.end;
    }
  } catch {
    return true;
  }
}

const NAK_REASONS: Record<number, string> = {
  0: 'reason not specified', 1: 'temporary congestion', 2: 'local limit exceeded', 3: 'called paddr unknown',
  4: 'protocol version not supported', 5: 'default context not supported', 6: 'user data not readable', 7: 'no PSAP available',
};

/** Checks a bind_ack accepted our one context; a bind_nak or rejection is a ProbeDecodeError naming why. */
export function decodeBindAck(buf: Buffer, callId = 1): { secondaryAddress: string } {
  const pdu = readPdu(buf, 0);
  if (!pdu) throw new ProbeDecodeError(`DCE/RPC bind answer cut at ${buf.length} bytes`);
  if (pdu.type === PduType.BindNak) {
    const reason = pdu.body.length >= 2 ? pdu.body.readUInt16LE(0) : -1;
    throw new ProbeDecodeError(`bind rejected (bind_nak: ${NAK_REASONS[reason] ?? `reason ${reason}`})`);
  }
  if (pdu.type !== PduType.BindAck) throw new ProbeDecodeError(`DCE/RPC PDU type ${pdu.type} instead of bind_ack`);
  if (pdu.callId !== callId) throw new ProbeDecodeError(`bind_ack for call ${pdu.callId}, expected ${callId}`);
  const body = pdu.body;
  if (body.length < 10) throw new ProbeDecodeError('bind_ack cut');
  const addressLength = body.readUInt16LE(8);
  if (10 + addressLength > body.length) throw new ProbeDecodeError('bind_ack secondary address runs past the PDU');
  const secondaryAddress = body.subarray(10, 10 + addressLength).toString('latin1').replace(/\0+$/, '');
  // p_result_list starts 4-byte aligned relative to the PDU start (header is 16, so relative to the body too).
  let p = 10 + addressLength;
  p += (4 - (p % 4)) % 4;
  if (p + 4 + 24 > body.length) throw new ProbeDecodeError('bind_ack without a result list');
  const results = body[p]!;
  if (results < 1) throw new ProbeDecodeError('bind_ack with no results');
  const result = body.readUInt16LE(p + 4);
  const reason = body.readUInt16LE(p + 6);
  if (result !== 0) throw new ProbeDecodeError(`presentation context rejected (result ${result}, reason ${reason})`);
  const transfer = readGuid(body, p + 8);
  if (transfer !== NDR_SYNTAX.uuid) throw new ProbeDecodeError(`server chose transfer syntax ${transfer}, not NDR`);
  return { secondaryAddress };
}

/** Known fault and status codes ([MS-RPCE] 2.3.1 / [MS-ERREF]). */
const STATUS_NAMES: Record<number, string> = {
  0x1c010002: 'nca_s_op_rng_error', 0x1c010003: 'nca_s_unknown_if', 0x1c010014: 'nca_s_fault_ndr',
  0x00000005: 'access denied', 0x000006f7: 'RPC_X_BAD_STUB_DATA', 0x16c9a0d6: 'EPT_S_NOT_REGISTERED', 0x000006d9: 'EPT_S_NOT_REGISTERED',
};

export function rpcStatusName(status: number): string {
  return STATUS_NAMES[status] ?? `0x${status.toString(16).padStart(8, '0')}`;
}

/** Stub data of a response, reassembled from its fragments; a fault is a ProbeDecodeError with its status. */
export function decodeResponse(buf: Buffer, callId: number): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; ; ) {
    const pdu = readPdu(buf, offset);
    if (!pdu) throw new ProbeDecodeError(`DCE/RPC response cut at ${buf.length} bytes`);
    if (pdu.callId !== callId) throw new ProbeDecodeError(`DCE/RPC response for call ${pdu.callId}, expected ${callId}`);
    if (pdu.type === PduType.Fault) {
      const status = pdu.body.length >= 12 ? pdu.body.readUInt32LE(8) : -1;
      throw new ProbeDecodeError(`DCE/RPC fault ${status < 0 ? '(cut)' : rpcStatusName(status)}`);
    }
    if (pdu.type !== PduType.Response) throw new ProbeDecodeError(`DCE/RPC PDU type ${pdu.type} instead of response`);
    if (pdu.body.length < 8) throw new ProbeDecodeError('DCE/RPC response fragment cut');
    if (parts.length === 0 && !(pdu.flags & PFC_FIRST_FRAG)) throw new ProbeDecodeError('DCE/RPC response starts without its first fragment');
    parts.push(pdu.body.subarray(8));
    if (pdu.flags & PFC_LAST_FRAG) return Buffer.concat(parts);
    offset = pdu.end;
  }
}
