import { ProbeDecodeError } from '../types';
import { applicationTag, boolean, children, contextTag, decodeInteger, enumerated, expectElement, integer, octetString, readElement, sequence, Tag, tlv, type Element } from './ber';

/**
 * LDAPv3 messages (RFC 4511) for the rootDSE query, over TCP (LDAP) and UDP (CLDAP, same LDAPMessage):
 * the anonymous base-object search request, and the entries and result that come back.
 */

/** Protocol operation tags (RFC 4511 §4.2–4.12): [APPLICATION n]. */
export const LdapOp = {
  SearchRequest: applicationTag(3),
  SearchResultEntry: applicationTag(4),
  SearchResultDone: applicationTag(5),
  SearchResultReference: applicationTag(19),
  ExtendedResponse: applicationTag(24),
} as const;

/** resultCode names (RFC 4511 §4.1.9) for the codes a rootDSE search can realistically get. */
const RESULT_NAMES: Record<number, string> = {
  0: 'success', 1: 'operationsError', 2: 'protocolError', 3: 'timeLimitExceeded', 4: 'sizeLimitExceeded',
  7: 'authMethodNotSupported', 8: 'strongerAuthRequired', 10: 'referral', 11: 'adminLimitExceeded',
  13: 'confidentialityRequired', 32: 'noSuchObject', 34: 'invalidDNSyntax', 48: 'inappropriateAuthentication',
  49: 'invalidCredentials', 50: 'insufficientAccessRights', 51: 'busy', 52: 'unavailable', 53: 'unwillingToPerform', 80: 'other',
};

export function ldapResultName(code: number): string {
  return RESULT_NAMES[code] ?? `resultCode ${code}`;
}

/**
 * The rootDSE search: base "" , scope baseObject, filter (objectClass=*), attributes "*" and "+" so that
 * servers which hide operational attributes by default (OpenLDAP, RFC 3673) return them too; Active
 * Directory returns its rootDSE attributes for "*".
 */
export function encodeRootDseSearch(messageId: number): Buffer {
  return sequence(
    integer(messageId),
    tlv(
      LdapOp.SearchRequest,
      octetString(''), // baseObject: the root DSE
      enumerated(0), // scope: baseObject
      enumerated(0), // derefAliases: neverDerefAliases
      integer(0), // sizeLimit
      integer(0), // timeLimit
      boolean(false), // typesOnly
      octetString('objectClass', contextTag(7, true)), // filter: present
      sequence(octetString('*'), octetString('+')),
    ),
  );
}

export interface LdapMessage {
  messageId: number;
  op: Element;
}

/** Reads one LDAPMessage at `offset`. */
export function readLdapMessage(buf: Buffer, offset = 0): LdapMessage & { end: number } {
  const message = expectElement(buf, offset, Tag.Sequence, 'LDAPMessage');
  const [id, op] = children(message);
  if (!id || id.tag !== Tag.Integer || !op) throw new ProbeDecodeError('LDAPMessage without messageID and protocolOp');
  return { messageId: decodeInteger(id), op, end: message.end };
}

/**
 * True when `buffered` holds complete LDAPMessages up to a SearchResultDone or an ExtendedResponse (a
 * notice of disconnection), i.e. the search's answer is all there. A complete message that is malformed
 * also ends the read (the decoder reports it); a cut one waits for more bytes.
 */
export function searchAnswerComplete(buffered: Buffer): boolean {
  for (let offset = 0; offset < buffered.length; ) {
    let element: Element;
    try {
      element = readElement(buffered, offset);
    } catch {
      return false;
    }
    try {
      const { op } = readLdapMessage(buffered, offset);
      if (op.tag === LdapOp.SearchResultDone || op.tag === LdapOp.ExtendedResponse) return true;
    } catch {
      return true;
    }
    offset = element.end;
  }
  return false;
}

export interface LdapResult {
  ResultCode: number;
  ResultName: string;
  MatchedDN: string;
  DiagnosticMessage: string;
}

function decodeResult(op: Element): LdapResult {
  const [code, matched, diagnostic] = children(op);
  if (!code || code.tag !== Tag.Enumerated || !matched || !diagnostic) throw new ProbeDecodeError('LDAPResult without resultCode, matchedDN and diagnosticMessage');
  const resultCode = decodeInteger(code);
  return { ResultCode: resultCode, ResultName: ldapResultName(resultCode), MatchedDN: ldapString(matched.value), DiagnosticMessage: ldapString(diagnostic.value) };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An attribute value as text: LDAP strings are UTF-8 (RFC 4511 §4.1.2). A value that is not UTF-8 is
 * binary; it is given as `base64:` and its Base64 text, as LDIF would mark it.
 */
export function ldapString(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return `base64:${bytes.toString('base64')}`;
  }
}

export interface RootDse extends LdapResult {
  /** DN of the entry ("" for the root DSE). */
  ObjectName: string | null;
  /** Attribute name to all its values, in the order the server sent them. */
  Attributes: Record<string, string[]>;
}

/**
 * Decodes the answer to encodeRootDseSearch(messageId): one SearchResultEntry (or none) and the
 * SearchResultDone. A notice of disconnection (ExtendedResponse, messageID 0) is reported as its result.
 */
export function decodeRootDseAnswer(buf: Buffer, messageId: number): RootDse {
  const attributes: Record<string, string[]> = Object.create(null);
  let objectName: string | null = null;
  for (let offset = 0; offset < buf.length; ) {
    const message = readLdapMessage(buf, offset);
    offset = message.end;
    const { op } = message;
    if (op.tag === LdapOp.ExtendedResponse && message.messageId === 0) return { ObjectName: objectName, Attributes: { ...attributes }, ...decodeResult(op) };
    if (message.messageId !== messageId) throw new ProbeDecodeError(`LDAP answer for message ${message.messageId}, expected ${messageId}`);
    if (op.tag === LdapOp.SearchResultEntry) {
      const [name, list] = children(op);
      if (!name || name.tag !== Tag.OctetString || !list || list.tag !== Tag.Sequence) throw new ProbeDecodeError('SearchResultEntry without objectName and attributes');
      objectName = ldapString(name.value);
      for (const attribute of children(list)) {
        const [type, values] = children(attribute);
        if (!type || type.tag !== Tag.OctetString || !values || values.tag !== Tag.Set) throw new ProbeDecodeError('PartialAttribute without type and vals');
        const key = ldapString(type.value);
        (attributes[key] ??= []).push(...children(values).map((v) => ldapString(v.value)));
      }
    } else if (op.tag === LdapOp.SearchResultDone) {
      return { ObjectName: objectName, Attributes: { ...attributes }, ...decodeResult(op) };
    } else if (op.tag !== LdapOp.SearchResultReference) {
      throw new ProbeDecodeError(`unexpected LDAP operation tag 0x${op.tag.toString(16)}`);
    }
  }
  throw new ProbeDecodeError(objectName === null ? 'LDAP answer cut before SearchResultDone' : 'LDAP answer cut after the entry, before SearchResultDone');
}
