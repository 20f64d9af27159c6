import { decodeHeader, decodeResourceRecord, encodeHeader, skipQuestion } from './codec/dns';
import { type DatagramProbe, ProbeDecodeError, type ProbeFields } from './types';

/**
 * NetBIOS name service (UDP 137): the node status request that `nbtstat -A` and PortQry send
 * (RFC 1002 §4.2.17, name "*", type NBSTAT). The reply lists the node's registered names and its
 * MAC address (the "unit id" at the start of the statistics block, RFC 1002 §4.2.18).
 */
const TRANSACTION_ID = 0x5051;
const NBSTAT = 0x0021;
const NAME_ENTRY_LENGTH = 18;

export interface NetbiosName {
  Name: string;
  /** The 16th byte, as nbtstat shows it: "00", "20", "1C"... */
  Suffix: string;
  Type: 'UNIQUE' | 'GROUP';
  Status: string;
  Permanent: boolean;
  NodeType: 'B' | 'P' | 'M' | 'H';
}

/** RFC 1001 §14.1 first-level encoding: each nibble of the 16-byte name as 'A' + nibble. */
function encodeNetbiosName(name: Buffer): Buffer {
  const out = Buffer.alloc(32);
  for (let i = 0; i < 16; i++) {
    out[2 * i] = 0x41 + (name[i] >> 4);
    out[2 * i + 1] = 0x41 + (name[i] & 0x0f);
  }
  return out;
}

export function encodeNodeStatusRequest(): Buffer {
  const header = encodeHeader({ id: TRANSACTION_ID, flags: 0x0000, qdCount: 1, anCount: 0, nsCount: 0, arCount: 0 });
  const wildcard = Buffer.alloc(16);
  wildcard[0] = 0x2a; // "*" followed by 15 NULs
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(NBSTAT, 0);
  tail.writeUInt16BE(1, 2); // IN
  return Buffer.concat([header, Buffer.from([32]), encodeNetbiosName(wildcard), Buffer.from([0]), tail]);
}

const NODE_TYPES = ['B', 'P', 'M', 'H'] as const;

export function decodeNodeStatusResponse(reply: Buffer): ProbeFields {
  const h = decodeHeader(reply);
  if ((h.flags & 0x8000) === 0) throw new ProbeDecodeError('NetBIOS message is a request, not a response');
  if (h.id !== TRANSACTION_ID) throw new ProbeDecodeError(`NetBIOS response id 0x${h.id.toString(16)} does not match the request`);
  const rcode = h.flags & 0x000f;
  if (rcode !== 0) throw new ProbeDecodeError(`NetBIOS node status failed with rcode ${rcode}`);
  if (h.anCount < 1) throw new ProbeDecodeError('NetBIOS node status response has no answer');
  // Questions are not echoed in node status responses (RFC 1002 §4.2.18), but skip any that are.
  let offset = 12;
  for (let i = 0; i < h.qdCount; i++) offset = skipQuestion(reply, offset);
  const rr = decodeResourceRecord(reply, offset);
  if (rr.type !== NBSTAT) throw new ProbeDecodeError(`NetBIOS answer has type 0x${rr.type.toString(16)}, not NBSTAT`);
  const d = rr.data;
  if (d.length < 1) throw new ProbeDecodeError('NetBIOS node status has no name count');
  const count = d[0];
  if (1 + count * NAME_ENTRY_LENGTH > d.length) throw new ProbeDecodeError(`NetBIOS node status announces ${count} names but is cut`);
  const names: NetbiosName[] = [];
  for (let i = 0; i < count; i++) {
    const at = 1 + i * NAME_ENTRY_LENGTH;
    const flags = d.readUInt16BE(at + 16);
    names.push({
      Name: d.subarray(at, at + 15).toString('latin1').replace(/[ \0]+$/, ''),
      Suffix: d[at + 15].toString(16).toUpperCase().padStart(2, '0'),
      Type: flags & 0x8000 ? 'GROUP' : 'UNIQUE',
      Status: flags & 0x1000 ? 'Deregistering' : flags & 0x0800 ? 'Conflict' : 'Registered',
      Permanent: (flags & 0x0200) !== 0,
      NodeType: NODE_TYPES[(flags >> 13) & 3],
    });
  }
  const statsAt = 1 + count * NAME_ENTRY_LENGTH;
  const mac = d.length >= statsAt + 6 ? d.subarray(statsAt, statsAt + 6) : null;
  const find = (suffix: string, type: NetbiosName['Type']) => names.find((n) => n.Suffix === suffix && n.Type === type && n.Status === 'Registered')?.Name ?? null;
  return {
    MachineName: find('00', 'UNIQUE') ?? find('20', 'UNIQUE'),
    Workgroup: find('00', 'GROUP'),
    MacAddress: mac ? [...mac].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('-') : null,
    Names: names,
  };
}

/** PortQry's line (`Server's response: MAC address 00155d01c61e`), then nbtstat's name table. */
export function describeNodeStatus(fields: ProbeFields): string[] {
  const mac = typeof fields.MacAddress === 'string' ? fields.MacAddress.replace(/-/g, '').toLowerCase() : 'unknown';
  const lines = [`Server's response: MAC address ${mac}`, '', '    Name               Type         Status', '    ---------------------------------------------'];
  for (const n of (fields.Names as NetbiosName[]) ?? []) lines.push(`    ${n.Name.padEnd(15)}<${n.Suffix}>  ${n.Type.padEnd(10)}  ${n.Status}`);
  return lines;
}

const netbiosNs: DatagramProbe = {
  kind: 'datagram',
  name: 'netbios-ns',
  label: 'NETBIOS adapter status',
  // PortQry's words (PortQry 2.0's output): the query always goes from an ephemeral port.
  announce: (port) => ['Using ephemeral source port', `Attempting NETBIOS adapter status query to UDP port ${port}...`],
  ports: [137],
  encode: () => encodeNodeStatusRequest(),
  decode: (reply) => decodeNodeStatusResponse(reply),
  describe: describeNodeStatus,
};

export default netbiosNs;
