import { decodeHeader, decodeName, decodeResourceRecord, encodeHeader, encodeName, skipQuestion, type ResourceRecord } from './codec/dns';
import { type DatagramProbe, ProbeDecodeError, type ProbeFields } from './types';

/**
 * DNS (UDP 53): PortQry's query, an A lookup of portqry.microsoft.com with recursion desired. Any
 * answer, positive or negative, shows a DNS server is listening (PortQry's documented rule); the
 * decoded reply says which answer it was.
 */
export const QUERY_NAME = 'portqry.microsoft.com';
/** Fixed transaction id: each query has its own ephemeral socket, so the id only has to be checked. */
const TRANSACTION_ID = 0x5051;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
const TYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 41: 'OPT' };

export interface DnsRecordFields {
  Name: string;
  Type: string;
  Ttl: number;
  Data: string;
}

export function encodeDnsQuery(): Buffer {
  const header = encodeHeader({ id: TRANSACTION_ID, flags: 0x0100 /* RD */, qdCount: 1, anCount: 0, nsCount: 0, arCount: 0 });
  const question = Buffer.alloc(4);
  question.writeUInt16BE(1, 0); // A
  question.writeUInt16BE(1, 2); // IN
  return Buffer.concat([header, encodeName(QUERY_NAME), question]);
}

export function decodeDnsReply(reply: Buffer): ProbeFields {
  const h = decodeHeader(reply);
  if ((h.flags & 0x8000) === 0) throw new ProbeDecodeError('DNS message is a query, not a response');
  if (h.id !== TRANSACTION_ID) throw new ProbeDecodeError(`DNS response id 0x${h.id.toString(16)} does not match the query`);
  const rcode = h.flags & 0x000f;
  let offset = 12;
  let question: string | null = null;
  for (let i = 0; i < h.qdCount; i++) {
    if (i === 0) question = decodeName(reply, offset).name;
    offset = skipQuestion(reply, offset);
  }
  const readSection = (count: number): DnsRecordFields[] => {
    const records: DnsRecordFields[] = [];
    for (let i = 0; i < count; i++) {
      const rr = decodeResourceRecord(reply, offset);
      offset = rr.end;
      if (rr.type !== 41) records.push({ Name: rr.name, Type: TYPES[rr.type] ?? `TYPE${rr.type}`, Ttl: rr.ttl, Data: rdataText(reply, rr) });
    }
    return records;
  };
  const answers = readSection(h.anCount);
  const authority = readSection(h.nsCount);
  return {
    QueryName: question,
    ResponseCode: RCODES[rcode] ?? `RCODE${rcode}`,
    Authoritative: (h.flags & 0x0400) !== 0,
    Truncated: (h.flags & 0x0200) !== 0,
    RecursionAvailable: (h.flags & 0x0080) !== 0,
    Answers: answers,
    Authority: authority,
  };
}

/** RDATA in presentation format for the common types, hex otherwise. */
function rdataText(msg: Buffer, rr: ResourceRecord): string {
  const d = rr.data;
  const name = (at: number) => decodeName(msg, rr.dataOffset + at);
  switch (rr.type) {
    case 1:
      if (d.length === 4) return [...d].join('.');
      break;
    case 28:
      if (d.length === 16) return ipv6Text(d);
      break;
    case 2:
    case 5:
    case 12:
      return name(0).name;
    case 15:
      if (d.length >= 3) return `${d.readUInt16BE(0)} ${name(2).name}`;
      break;
    case 16: {
      const strings: string[] = [];
      for (let p = 0; p < d.length; ) {
        const len = d[p];
        if (p + 1 + len > d.length) throw new ProbeDecodeError('DNS TXT string truncated');
        strings.push(JSON.stringify(d.subarray(p + 1, p + 1 + len).toString('latin1')));
        p += 1 + len;
      }
      return strings.join(' ');
    }
    case 6: {
      const mname = name(0);
      const rname = decodeName(msg, mname.end);
      const at = rname.end - rr.dataOffset;
      if (at + 20 > d.length) throw new ProbeDecodeError('DNS SOA record truncated');
      const nums = [0, 4, 8, 12, 16].map((o) => d.readUInt32BE(at + o));
      return `${mname.name} ${rname.name} ${nums.join(' ')}`;
    }
    case 33:
      if (d.length >= 7) return `${d.readUInt16BE(0)} ${d.readUInt16BE(2)} ${d.readUInt16BE(4)} ${name(6).name}`;
      break;
  }
  return `\\# ${d.length} ${d.toString('hex')}`;
}

function ipv6Text(d: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(d.readUInt16BE(i).toString(16));
  // RFC 5952: the longest run (at least two) of zero groups becomes "::".
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j > i ? j : i + 1;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

export function describeDns(fields: ProbeFields): string[] {
  const lines = [`DNS response: ${String(fields.ResponseCode)}${fields.Authoritative ? ' (authoritative)' : ''}`];
  for (const [section, records] of [['Answer', fields.Answers], ['Authority', fields.Authority]] as const) {
    for (const r of (records as DnsRecordFields[] | undefined) ?? []) lines.push(`${section}: ${r.Name} ${r.Ttl} ${r.Type} ${r.Data}`);
  }
  return lines;
}

const dns: DatagramProbe = {
  kind: 'datagram',
  name: 'dns',
  label: 'DNS',
  ports: [53],
  encode: () => encodeDnsQuery(),
  decode: (reply) => decodeDnsReply(reply),
  describe: describeDns,
};

export default dns;
