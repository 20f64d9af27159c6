import {
  children, decodeBigInteger, decodeInteger, decodeOid, expectElement, integer, nullValue, octetString, oid,
  sequence, Tag, tlv, type Element,
} from './codec/ber';
import { type DatagramProbe, ProbeDecodeError, type ProbeContext, type ProbeFields } from './types';

/**
 * SNMP (UDP 161): an SNMPv1 GetRequest for sysDescr.0 and sysName.0 with the -cn community (RFC 1157;
 * v1 because every agent speaks it). An agent that does not accept the community stays silent, so
 * silence is "LISTENING or FILTERED" as PortQry reports it; any GetResponse is decoded, v1 or v2c.
 */
const REQUEST_ID = 0x5051;
const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_NAME = '1.3.6.1.2.1.1.5.0';
const GET_REQUEST = 0xa0;
const GET_RESPONSE = 0xa2;
const VERSIONS = ['v1', 'v2c', 'v2u', 'v3'];
const ERROR_STATUS = [
  'noError', 'tooBig', 'noSuchName', 'badValue', 'readOnly', 'genErr', 'noAccess', 'wrongType', 'wrongLength', 'wrongEncoding',
  'wrongValue', 'noCreation', 'inconsistentValue', 'resourceUnavailable', 'commitFailed', 'undoFailed', 'authorizationError',
  'notWritable', 'inconsistentName',
];

export interface SnmpVariable {
  Oid: string;
  Type: string;
  Value: string | number | null;
}

export function encodeGetRequest(community: string): Buffer {
  const bindings = [SYS_DESCR, SYS_NAME].map((o) => sequence(oid(o), nullValue()));
  return sequence(integer(0), octetString(community), tlv(GET_REQUEST, integer(REQUEST_ID), integer(0), integer(0), sequence(...bindings)));
}

export function decodeGetResponse(reply: Buffer): ProbeFields {
  const message = expectElement(reply, 0, Tag.Sequence, 'SNMP message');
  const [version, community, pdu] = children(message);
  if (!version || version.tag !== Tag.Integer || !community || community.tag !== Tag.OctetString || !pdu) {
    throw new ProbeDecodeError('not an SNMP v1/v2c message');
  }
  if (pdu.tag !== GET_RESPONSE) throw new ProbeDecodeError(`SNMP PDU type 0x${pdu.tag.toString(16)} is not a GetResponse`);
  const [requestId, errorStatus, errorIndex, bindings] = children(pdu);
  if (!requestId || !errorStatus || !errorIndex || !bindings || bindings.tag !== Tag.Sequence) throw new ProbeDecodeError('SNMP GetResponse is incomplete');
  if (decodeBigInteger(requestId) !== BigInt(REQUEST_ID)) throw new ProbeDecodeError('SNMP response id does not match the request');
  const variables: SnmpVariable[] = children(bindings).map((vb) => {
    const [name, value] = children(vb);
    if (!name || name.tag !== Tag.Oid || !value) throw new ProbeDecodeError('SNMP variable binding is incomplete');
    return { Oid: decodeOid(name), ...decodeValue(value) };
  });
  const status = decodeInteger(errorStatus);
  const text = (o: string) => {
    const v = variables.find((x) => x.Oid === o);
    return v && typeof v.Value === 'string' && v.Type === 'OctetString' ? v.Value : null;
  };
  const versionNumber = decodeInteger(version);
  return {
    Version: VERSIONS[versionNumber] ?? String(versionNumber),
    Community: community.value.toString('latin1'),
    ErrorStatus: ERROR_STATUS[status] ?? String(status),
    ErrorIndex: decodeInteger(errorIndex),
    SysDescr: text(SYS_DESCR),
    SysName: text(SYS_NAME),
    Variables: variables,
  };
}

/** One varbind value by its SMI type (RFC 2578 application tags, RFC 3416 exceptions). */
function decodeValue(el: Element): Omit<SnmpVariable, 'Oid'> {
  switch (el.tag) {
    case Tag.Integer:
      return { Type: 'Integer', Value: decodeInteger(el) };
    case Tag.OctetString:
      return { Type: 'OctetString', Value: octetText(el.value) };
    case Tag.Null:
      return { Type: 'Null', Value: null };
    case Tag.Oid:
      return { Type: 'ObjectIdentifier', Value: decodeOid(el) };
    case 0x40:
      return { Type: 'IpAddress', Value: [...el.value].join('.') };
    case 0x41:
    case 0x42:
    case 0x43:
    case 0x46: {
      const names: Record<number, string> = { 0x41: 'Counter32', 0x42: 'Gauge32', 0x43: 'TimeTicks', 0x46: 'Counter64' };
      const n = decodeBigInteger(el);
      return { Type: names[el.tag], Value: n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= 0n ? Number(n) : n.toString() };
    }
    case 0x80:
      return { Type: 'noSuchObject', Value: null };
    case 0x81:
      return { Type: 'noSuchInstance', Value: null };
    case 0x82:
      return { Type: 'endOfMibView', Value: null };
    default:
      return { Type: `0x${el.tag.toString(16)}`, Value: el.value.toString('hex') };
  }
}

/** Text when the bytes are valid UTF-8 without control characters other than whitespace, hex otherwise. */
function octetText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD') && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) return text;
  return bytes.toString('hex');
}

export function describeSnmp(fields: ProbeFields): string[] {
  const lines = [`SNMP ${String(fields.Version)} response for community ${String(fields.Community)}: ${String(fields.ErrorStatus)}`];
  if (fields.SysDescr !== null) lines.push(`sysDescr: ${String(fields.SysDescr)}`);
  if (fields.SysName !== null) lines.push(`sysName: ${String(fields.SysName)}`);
  return lines;
}

const snmp: DatagramProbe = {
  kind: 'datagram',
  name: 'snmp',
  label: 'SNMP',
  ports: [161],
  encode: (ctx: ProbeContext) => encodeGetRequest(ctx.community || 'public'),
  decode: (reply) => decodeGetResponse(reply),
  describe: describeSnmp,
};

export default snmp;
