import { ProbeDecodeError, type ProbeFields, type StreamProbe } from './types';

/**
 * RDP security negotiation ([MS-RDPBCGR] 2.2.1.1 / 2.2.1.2): an X.224 Connection Request carrying
 * RDP_NEG_REQ, and the server's Connection Confirm with RDP_NEG_RSP (the protocol it selected) or
 * RDP_NEG_FAILURE (why it refused). A server that predates negotiation confirms without either:
 * standard RDP security.
 */

/** requestedProtocols / selectedProtocol bits (2.2.1.1.1). */
export const RdpProtocol = { RDP: 0, SSL: 0x1, HYBRID: 0x2, RDSTLS: 0x4, HYBRID_EX: 0x8, RDSAAD: 0x10 } as const;

const PROTOCOL_NAMES: Record<number, string> = {
  0x0: 'Standard RDP Security',
  0x1: 'TLS',
  0x2: 'CredSSP (NLA)',
  0x4: 'RDSTLS',
  0x8: 'CredSSP (NLA) with Early User Authorization Result',
  0x10: 'RDS AAD Auth',
};

const RESPONSE_FLAGS: [number, string][] = [
  [0x01, 'EXTENDED_CLIENT_DATA_SUPPORTED'],
  [0x02, 'DYNVC_GFX_PROTOCOL_SUPPORTED'],
  [0x04, 'NEGRSP_FLAG_RESERVED'],
  [0x08, 'RESTRICTED_ADMIN_MODE_SUPPORTED'],
  [0x10, 'REDIRECTED_AUTHENTICATION_MODE_SUPPORTED'],
];

/** failureCode values (2.2.1.2.2). */
const FAILURE_NAMES: Record<number, string> = {
  1: 'SSL_REQUIRED_BY_SERVER',
  2: 'SSL_NOT_ALLOWED_BY_SERVER',
  3: 'SSL_CERT_NOT_ON_SERVER',
  4: 'INCONSISTENT_FLAGS',
  5: 'HYBRID_REQUIRED_BY_SERVER',
  6: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER',
};

/**
 * What the probe asks for: TLS, CredSSP and RDSTLS, so the server names the strongest it accepts. Not
 * HYBRID_EX as well: xrdp 0.9 answers RDSTLS|HYBRID_EX with a disconnect instead of a confirm.
 */
export const REQUESTED_PROTOCOLS = RdpProtocol.SSL | RdpProtocol.HYBRID | RdpProtocol.RDSTLS;

/** TPKT (RFC 1006) + X.224 Connection Request (class 0) + RDP_NEG_REQ. */
export function encodeConnectionRequest(requested = REQUESTED_PROTOCOLS): Buffer {
  const negReq = Buffer.alloc(8);
  negReq.writeUInt8(0x01, 0); // TYPE_RTS_NEG_REQ
  negReq.writeUInt8(0x00, 1); // flags
  negReq.writeUInt16LE(8, 2);
  negReq.writeUInt32LE(requested, 4);
  const x224 = Buffer.from([6 + negReq.length, 0xe0, 0, 0, 0, 0, 0]); // LI, CR CDT, DST-REF, SRC-REF, class 0
  const tpkt = Buffer.from([3, 0, 0, 0]);
  tpkt.writeUInt16BE(4 + x224.length + negReq.length, 2);
  return Buffer.concat([tpkt, x224, negReq]);
}

/** True once the whole TPKT the server announced has arrived. */
export function tpktComplete(buffered: Buffer): boolean {
  return buffered.length >= 4 && buffered.length >= buffered.readUInt16BE(2);
}

function protocolNames(bits: number): string[] {
  return Object.entries(RdpProtocol)
    .filter(([, bit]) => bit !== 0 && (bits & bit) !== 0)
    .map(([name]) => name);
}

/** Decodes the Connection Confirm; throws ProbeDecodeError for anything that is not one. */
export function decodeConnectionConfirm(bytes: Buffer): ProbeFields {
  if (bytes.length < 4 || bytes[0] !== 3) throw new ProbeDecodeError('not a TPKT (RDP) reply');
  const length = bytes.readUInt16BE(2);
  if (length < 6 || bytes.length < length) throw new ProbeDecodeError(`TPKT of ${length} bytes cut at ${bytes.length}`);
  const li = bytes[4]!;
  if (bytes[5] === 0xf0) return disconnectInsteadOfConfirm(bytes.subarray(4 + 1 + li, length));
  if ((bytes[5]! & 0xf0) !== 0xd0) throw new ProbeDecodeError(`X.224 TPDU 0x${bytes[5]!.toString(16)} is not a Connection Confirm`);
  if (li < 6 || 5 + li > length) throw new ProbeDecodeError(`X.224 length indicator ${li} does not fit the TPKT`);
  const base = {
    RequestedProtocols: protocolNames(REQUESTED_PROTOCOLS),
    Negotiation: 'none' as string,
    SelectedProtocol: 'RDP' as string | null,
    SecurityProtocol: PROTOCOL_NAMES[0] as string | null,
    ServerFlags: [] as string[],
    FailureCode: null as number | null,
    Failure: null as string | null,
  };
  if (li === 6) return base; // no negotiation data: a server that only knows standard RDP security
  if (li < 14) throw new ProbeDecodeError(`X.224 Connection Confirm with ${li - 6} bytes of negotiation data, 8 expected`);
  const neg = bytes.subarray(11, 19);
  const type = neg[0]!;
  const flags = neg[1]!;
  const value = neg.readUInt32LE(4);
  if (neg.readUInt16LE(2) !== 8) throw new ProbeDecodeError(`RDP negotiation structure of length ${neg.readUInt16LE(2)}, 8 expected`);
  if (type === 0x02) {
    return {
      ...base,
      Negotiation: 'response',
      SelectedProtocol: protocolNames(value).join('|') || 'RDP',
      SecurityProtocol: PROTOCOL_NAMES[value] ?? `protocol 0x${value.toString(16)}`,
      ServerFlags: RESPONSE_FLAGS.filter(([bit]) => flags & bit).map(([, name]) => name),
    };
  }
  if (type === 0x03) {
    return { ...base, Negotiation: 'failure', SelectedProtocol: null, SecurityProtocol: null, FailureCode: value, Failure: FAILURE_NAMES[value] ?? `failure code ${value}` };
  }
  throw new ProbeDecodeError(`RDP negotiation type ${type}, expected RDP_NEG_RSP (2) or RDP_NEG_FAILURE (3)`);
}

const DISCONNECT_REASONS = ['domain-disconnected', 'provider-initiated', 'token-purged', 'user-requested', 'channel-purged'];

/**
 * Some servers (xrdp with security_layer=rdp, asked for TLS/CredSSP only) answer the Connection Request
 * with an X.224 Data TPDU carrying the T.125 DisconnectProviderUltimatum instead of a Connection Confirm.
 */
function disconnectInsteadOfConfirm(mcs: Buffer): ProbeFields {
  // PER: DomainMCSPDU choice 8 in the top 6 bits, then the 3-bit reason across the byte boundary.
  if (mcs.length < 2 || mcs[0]! >> 2 !== 8) throw new ProbeDecodeError('X.224 data instead of a Connection Confirm');
  const reason = ((mcs[0]! & 0x03) << 1) | (mcs[1]! >> 7);
  return {
    RequestedProtocols: protocolNames(REQUESTED_PROTOCOLS),
    Negotiation: 'disconnect',
    SelectedProtocol: null,
    SecurityProtocol: null,
    ServerFlags: [],
    FailureCode: null,
    Failure: `DisconnectProviderUltimatum (${DISCONNECT_REASONS[reason] ?? `reason ${reason}`})`,
  };
}

const rdp: StreamProbe = {
  kind: 'stream',
  name: 'rdp',
  label: 'RDP',
  ports: [3389],
  async converse(stream, ctx) {
    await stream.write(encodeConnectionRequest());
    const reply = await stream.read({ maxBytes: 1024, timeoutMs: ctx.timeoutMs, until: tpktComplete });
    if (reply.length === 0) throw new ProbeDecodeError(`no X.224 Connection Confirm within ${ctx.timeoutMs} ms`);
    return decodeConnectionConfirm(reply);
  },
  describe(f) {
    if (f.Negotiation === 'disconnect') return [`The server disconnected instead of negotiating: ${String(f.Failure)}`];
    if (f.Negotiation === 'failure') return [`RDP security negotiation refused: ${String(f.Failure)} (${String(f.FailureCode)})`];
    const lines = [`RDP security protocol selected: ${String(f.SecurityProtocol)} (${String(f.SelectedProtocol)})`];
    if (f.Negotiation === 'none') lines.push('The server does not negotiate (standard RDP security only)');
    if (Array.isArray(f.ServerFlags) && f.ServerFlags.length > 0) lines.push(`Server flags: ${f.ServerFlags.join(', ')}`);
    return lines;
  },
};

export default rdp;
