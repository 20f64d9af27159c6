import * as net from 'node:net';
import {
  applicationTag, children, contextTag, decodeInteger, decodeString, decodeTime, expectElement, generalizedTime, integer,
  octetString, readElement, sequence, Tag, taggedFields, tlv, type Element,
} from './codec/ber';
import { type DatagramProbe, ProbeDecodeError, type ProbeContext, type ProbeFields } from './types';

/**
 * Kerberos (UDP/TCP 88, RFC 4120): an AS-REQ without pre-authentication for a principal that does not
 * exist. A KDC answers with a KRB-ERROR (principal unknown, pre-authentication required, wrong realm...)
 * that names its realm and carries its clock, which is what an admin checking a DC wants to see.
 */
export const PROBE_PRINCIPAL = 'portqry-ts-probe';
const NONCE = 0x50515253;
const AS_REQ = 10;
const AS_REP = 11;
const KRB_ERROR = 30;
const NT_PRINCIPAL = 1;
const NT_SRV_INST = 2;
/** aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, rc4-hmac: what AD and MIT KDCs accept. */
const ETYPES = [18, 17, 23];

const ERRORS: Record<number, string> = {
  0: 'KDC_ERR_NONE', 1: 'KDC_ERR_NAME_EXP', 2: 'KDC_ERR_SERVICE_EXP', 3: 'KDC_ERR_BAD_PVNO', 4: 'KDC_ERR_C_OLD_MAST_KVNO',
  5: 'KDC_ERR_S_OLD_MAST_KVNO', 6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN', 7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 8: 'KDC_ERR_PRINCIPAL_NOT_UNIQUE',
  9: 'KDC_ERR_NULL_KEY', 10: 'KDC_ERR_CANNOT_POSTDATE', 11: 'KDC_ERR_NEVER_VALID', 12: 'KDC_ERR_POLICY', 13: 'KDC_ERR_BADOPTION',
  14: 'KDC_ERR_ETYPE_NOSUPP', 15: 'KDC_ERR_SUMTYPE_NOSUPP', 16: 'KDC_ERR_PADATA_TYPE_NOSUPP', 17: 'KDC_ERR_TRTYPE_NOSUPP',
  18: 'KDC_ERR_CLIENT_REVOKED', 19: 'KDC_ERR_SERVICE_REVOKED', 20: 'KDC_ERR_TGT_REVOKED', 21: 'KDC_ERR_CLIENT_NOTYET',
  22: 'KDC_ERR_SERVICE_NOTYET', 23: 'KDC_ERR_KEY_EXPIRED', 24: 'KDC_ERR_PREAUTH_FAILED', 25: 'KDC_ERR_PREAUTH_REQUIRED',
  26: 'KDC_ERR_SERVER_NOMATCH', 27: 'KDC_ERR_MUST_USE_USER2USER', 28: 'KDC_ERR_PATH_NOT_ACCEPTED', 29: 'KDC_ERR_SVC_UNAVAILABLE',
  31: 'KRB_AP_ERR_BAD_INTEGRITY', 37: 'KRB_AP_ERR_SKEW', 41: 'KRB_AP_ERR_MODIFIED', 52: 'KRB_ERR_RESPONSE_TOO_BIG', 60: 'KRB_ERR_GENERIC',
  61: 'KRB_ERR_FIELD_TOOLONG', 68: 'KDC_ERR_WRONG_REALM',
};

/**
 * The realm to ask for: the domain part of a DNS host name (dc01.contoso.com -> CONTOSO.COM), which is
 * the Active Directory convention. For an address or a single-label name the realm is unknown, and the
 * KDC's error still names its own realm or says WRONG_REALM.
 */
export function guessRealm(host: string): string {
  if (net.isIP(host)) return 'PORTQRY-TS.INVALID';
  const labels = host.replace(/\.$/, '').split('.');
  if (labels.length === 1) return 'PORTQRY-TS.INVALID';
  return (labels.length === 2 ? labels : labels.slice(1)).join('.').toUpperCase();
}

function principalName(type: number, ...names: string[]): Buffer {
  return sequence(tlv(contextTag(0), integer(type)), tlv(contextTag(1), sequence(...names.map((n) => octetString(n, Tag.GeneralString)))));
}

export function encodeAsRequest(realm: string): Buffer {
  const body = sequence(
    tlv(contextTag(0), tlv(Tag.BitString, Buffer.from([0, 0x40, 0, 0, 0]))), // kdc-options: forwardable
    tlv(contextTag(1), principalName(NT_PRINCIPAL, PROBE_PRINCIPAL)),
    tlv(contextTag(2), octetString(realm, Tag.GeneralString)),
    tlv(contextTag(3), principalName(NT_SRV_INST, 'krbtgt', realm)),
    tlv(contextTag(5), generalizedTime(new Date('2037-09-13T02:48:05Z'))), // till: the "no end" time kinit uses
    tlv(contextTag(7), integer(NONCE)),
    tlv(contextTag(8), sequence(...ETYPES.map((e) => integer(e)))),
  );
  return tlv(applicationTag(AS_REQ), sequence(tlv(contextTag(1), integer(5)), tlv(contextTag(2), integer(AS_REQ)), tlv(contextTag(4), body)));
}

function principalText(el: Element | undefined): string | null {
  if (!el) return null;
  const fields = taggedFields(el);
  const names = fields.get(1);
  if (!names || names.tag !== Tag.Sequence) throw new ProbeDecodeError('Kerberos PrincipalName without name-string');
  return children(names).map(decodeString).join('/');
}

function required(fields: Map<number, Element>, n: number, what: string): Element {
  const el = fields.get(n);
  if (!el) throw new ProbeDecodeError(`KRB-ERROR without ${what}`);
  return el;
}

/** Decodes a KRB-ERROR (or an AS-REP, should the principal exist without pre-authentication). */
export function decodeKdcReply(reply: Buffer, requestedRealm: string, now: Date = new Date()): ProbeFields {
  const outer = readElement(reply, 0);
  if (outer.tagClass !== 'application' || !outer.constructed) throw new ProbeDecodeError(`not a Kerberos message (tag 0x${outer.tag.toString(16)})`);
  const body = expectElement(outer.value, 0, Tag.Sequence, 'Kerberos message');
  const fields = taggedFields(body);
  if (outer.tagNumber === AS_REP) {
    const crealm = fields.get(3);
    return {
      MessageType: 'AS-REP', ErrorCode: null, ErrorName: null, Realm: crealm ? decodeString(crealm) : null, RequestedRealm: requestedRealm, ServerPrincipal: null,
      ServerTime: null, ClockSkewSeconds: null, ErrorText: null,
    };
  }
  if (outer.tagNumber !== KRB_ERROR) throw new ProbeDecodeError(`Kerberos message type ${outer.tagNumber} is not KRB-ERROR or AS-REP`);
  const pvno = decodeInteger(required(fields, 0, 'pvno'));
  if (pvno !== 5) throw new ProbeDecodeError(`Kerberos protocol version ${pvno}, expected 5`);
  const stime = decodeTime(required(fields, 4, 'stime'));
  const susec = decodeInteger(required(fields, 5, 'susec'));
  const code = decodeInteger(required(fields, 6, 'error-code'));
  const serverMs = Date.parse(stime) + Math.floor(susec / 1000);
  const etext = fields.get(11);
  return {
    MessageType: 'KRB-ERROR',
    ErrorCode: code,
    ErrorName: ERRORS[code] ?? `KRB_ERROR_${code}`,
    Realm: decodeString(required(fields, 9, 'realm')),
    // MIT and Heimdal echo the requested realm even when they do not serve it: equal values are not proof.
    RequestedRealm: requestedRealm,
    ServerPrincipal: principalText(fields.get(10)),
    ServerTime: new Date(serverMs).toISOString(),
    // Server clock minus ours as this reply shows it (network delay included): Kerberos fails beyond 5 minutes.
    ClockSkewSeconds: Math.round((serverMs - now.getTime()) / 100) / 10,
    ErrorText: etext ? decodeString(etext) : null,
  };
}

export function describeKerberos(fields: ProbeFields): string[] {
  if (fields.MessageType === 'AS-REP') return [`KDC response: AS-REP for realm ${String(fields.Realm)}`];
  const lines = [
    `KDC response: ${String(fields.ErrorName)} (${String(fields.ErrorCode)})`,
    `Realm: ${String(fields.Realm)}${fields.Realm === fields.RequestedRealm ? '' : ` (asked for ${String(fields.RequestedRealm)})`}`,
    `Server time: ${String(fields.ServerTime)} (clock skew ${String(fields.ClockSkewSeconds)} s)`,
  ];
  if (fields.ErrorText) lines.push(`Error text: ${String(fields.ErrorText)}`);
  return lines;
}

const kerberos: DatagramProbe = {
  kind: 'datagram',
  name: 'kerberos',
  label: 'Kerberos',
  ports: [88],
  encode: (ctx: ProbeContext) => encodeAsRequest(guessRealm(ctx.host)),
  decode: (reply, ctx) => decodeKdcReply(reply, guessRealm(ctx.host)),
  describe: describeKerberos,
};

export default kerberos;
