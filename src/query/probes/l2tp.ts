import { randomInt } from 'node:crypto';
import { type DatagramProbe, ProbeDecodeError, type ProbeFields } from './types';

/**
 * L2TP (UDP 1701, RFC 2661): a Start-Control-Connection-Request with the mandatory AVPs. An LNS answers
 * with SCCRP naming its host, vendor and firmware, or StopCCN with a result code; either is LISTENING.
 * The tunnel is left half-open: the LNS times it out as it does for any lost SCCCN.
 */
const MESSAGE_TYPES: Record<number, string> = {
  0: 'ZLB', 1: 'SCCRQ', 2: 'SCCRP', 3: 'SCCCN', 4: 'StopCCN', 6: 'HELLO', 7: 'OCRQ', 8: 'OCRP', 9: 'OCCN', 10: 'ICRQ', 11: 'ICRP', 12: 'ICCN',
  14: 'CDN', 15: 'WEN', 16: 'SLI',
};
const STOP_RESULTS = ['Reserved', 'General request to clear control connection', 'General error', 'Control channel already exists', 'Requester is not authorized', 'The protocol version of the requester is not supported', 'Requester is being shut down', 'Finite State Machine error'];
const PROBE_HOST_NAME = 'portqry-ts';

function avp(type: number, value: Buffer, mandatory = true): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE((mandatory ? 0x8000 : 0) | (6 + value.length), 0);
  b.writeUInt16BE(0, 2); // IETF
  b.writeUInt16BE(type, 4);
  return Buffer.concat([b, value]);
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/**
 * `tunnelId` is ours for this attempt: an LNS keys tunnels by peer address and assigned id, and answers
 * a repeated SCCRQ for a tunnel it already has with a bare ZLB ack, so each probe picks a new one.
 */
export function encodeSccrq(tunnelId: number = randomInt(1, 0x10000)): Buffer {
  const avps = Buffer.concat([
    avp(0, u16(1)), // Message Type: SCCRQ
    avp(2, Buffer.from([1, 0])), // Protocol Version 1.0
    avp(3, u32(3)), // Framing Capabilities: sync + async
    avp(7, Buffer.from(PROBE_HOST_NAME, 'ascii')), // Host Name
    avp(9, u16(tunnelId)), // Assigned Tunnel ID
    avp(10, u16(4), false), // Receive Window Size
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0xc802, 0); // T, L, S; version 2
  header.writeUInt16BE(12 + avps.length, 2);
  // tunnel id 0, session id 0, Ns 0, Nr 0
  return Buffer.concat([header, avps]);
}

export function decodeL2tpReply(reply: Buffer): ProbeFields {
  if (reply.length < 6) throw new ProbeDecodeError(`reply of ${reply.length} bytes is shorter than an L2TP header`);
  const flags = reply.readUInt16BE(0);
  if ((flags & 0x000f) !== 2) throw new ProbeDecodeError(`L2TP version ${flags & 0x0f}, expected 2`);
  if ((flags & 0x8000) === 0) throw new ProbeDecodeError('L2TP data message, not a control message');
  let p = 2;
  const need = (n: number, what: string) => {
    if (p + n > reply.length) throw new ProbeDecodeError(`L2TP ${what} truncated`);
  };
  let end = reply.length;
  if (flags & 0x4000) {
    need(2, 'length');
    end = reply.readUInt16BE(p);
    p += 2;
    if (end > reply.length) throw new ProbeDecodeError(`L2TP length ${end} exceeds the ${reply.length}-byte datagram`);
  }
  need(4, 'tunnel and session ids');
  const tunnelId = reply.readUInt16BE(p);
  p += 4;
  if (flags & 0x0800) p += 4; // Ns, Nr
  if (flags & 0x0200) {
    need(2, 'offset');
    p += 2 + reply.readUInt16BE(p);
  }
  if (p > end) throw new ProbeDecodeError('L2TP header runs past the message');
  const fields: Record<string, unknown> = {
    MessageType: 'ZLB', TunnelId: tunnelId, AssignedTunnelId: null, ProtocolVersion: null, HostName: null, VendorName: null,
    FirmwareRevision: null, ReceiveWindowSize: null, FramingCapabilities: null, BearerCapabilities: null, ResultCode: null,
    ResultError: null, ResultMessage: null, HiddenAvps: 0,
  };
  while (p < end) {
    if (p + 6 > end) throw new ProbeDecodeError('L2TP AVP header truncated');
    const word = reply.readUInt16BE(p);
    const length = word & 0x03ff;
    if (length < 6 || p + length > end) throw new ProbeDecodeError(`L2TP AVP length ${length} is invalid`);
    const vendor = reply.readUInt16BE(p + 2);
    const type = reply.readUInt16BE(p + 4);
    const value = reply.subarray(p + 6, p + length);
    p += length;
    if (word & 0x4000) {
      // Hidden AVPs are encrypted with the tunnel secret: count them, do not guess.
      fields.HiddenAvps = (fields.HiddenAvps as number) + 1;
      continue;
    }
    if (vendor !== 0) continue;
    const num = (bytes: number) => {
      if (value.length < bytes) throw new ProbeDecodeError(`L2TP AVP ${type} too short`);
      return bytes === 2 ? value.readUInt16BE(0) : value.readUInt32BE(0);
    };
    switch (type) {
      case 0:
        fields.MessageType = MESSAGE_TYPES[num(2)] ?? `type ${num(2)}`;
        break;
      case 1:
        fields.ResultCode = num(2);
        fields.ResultError = value.length >= 4 ? value.readUInt16BE(2) : null;
        fields.ResultMessage = value.length > 4 ? value.subarray(4).toString('latin1') : null;
        break;
      case 2:
        fields.ProtocolVersion = `${num(2) >> 8}.${value[1]}`;
        break;
      case 3:
        fields.FramingCapabilities = framing(num(4));
        break;
      case 4:
        fields.BearerCapabilities = [num(4) & 2 ? 'analog' : null, num(4) & 1 ? 'digital' : null].filter((x) => x);
        break;
      case 6:
        fields.FirmwareRevision = num(2);
        break;
      case 7:
        fields.HostName = value.toString('latin1');
        break;
      case 8:
        fields.VendorName = value.toString('latin1');
        break;
      case 9:
        fields.AssignedTunnelId = num(2);
        break;
      case 10:
        fields.ReceiveWindowSize = num(2);
        break;
    }
  }
  return fields;
}

function framing(bits: number): string[] {
  return [bits & 2 ? 'async' : null, bits & 1 ? 'sync' : null].filter((x): x is string => x !== null);
}

export function describeL2tp(fields: ProbeFields): string[] {
  const lines = [`L2TP response: ${String(fields.MessageType)}`];
  if (fields.HostName !== null) lines.push(`Host name: ${String(fields.HostName)}`);
  if (fields.VendorName !== null) lines.push(`Vendor: ${String(fields.VendorName)}`);
  if (fields.FirmwareRevision !== null) lines.push(`Firmware revision: ${String(fields.FirmwareRevision)}`);
  if (fields.ResultCode !== null) {
    const code = fields.ResultCode as number;
    const message = fields.ResultMessage ? `: ${String(fields.ResultMessage)}` : '';
    lines.push(`Result: ${code} (${STOP_RESULTS[code] ?? 'unknown'})${message}`);
  }
  return lines;
}

const l2tp: DatagramProbe = {
  kind: 'datagram',
  name: 'l2tp',
  label: 'L2TP',
  ports: [1701],
  encode: () => encodeSccrq(),
  decode: (reply) => decodeL2tpReply(reply),
  describe: describeL2tp,
};

export default l2tp;
