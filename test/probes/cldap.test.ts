import t from 'tap';
import { enumerated, integer, octetString, sequence, tlv } from '../../src/query/probes/codec/ber';
import { encodeRootDseSearch, LdapOp } from '../../src/query/probes/codec/ldap';
import cldap from '../../src/query/probes/cldap';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

/*
 * No CLDAP server runs here: slapd has no connectionless LDAP, and Samba's AD DC (which has one) needs
 * a provisioned domain. The replies below are fixtures built from RFC 4511 §4.5.2 (SearchResultEntry,
 * SearchResultDone) with the rootDSE attributes of MS-ADTS §3.1.1.3.2 and of PortQry's sample (KB 310099),
 * sent as one datagram the way Active Directory answers LDAP over UDP (MS-ADTS §3.1.1.3.1.11).
 */
const ctx = { host: 'dc01', address: '127.0.0.1', port: 389, community: 'public', timeoutMs: 1000 };

const AD_ROOT_DSE: [string, string[]][] = [
  ['currentTime', ['20261125223916.0Z']],
  ['subschemaSubentry', ['CN=Aggregate,CN=Schema,CN=Configuration,DC=domain,DC=example,DC=com']],
  ['dsServiceName', ['CN=NTDS Settings,CN=MYSERVER,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=domain,DC=example,DC=com']],
  ['namingContexts', ['DC=domain,DC=example,DC=com', 'CN=Configuration,DC=domain,DC=example,DC=com', 'CN=Schema,CN=Configuration,DC=domain,DC=example,DC=com', 'DC=DomainDnsZones,DC=domain,DC=example,DC=com']],
  ['defaultNamingContext', ['DC=domain,DC=example,DC=com']],
  ['supportedLDAPVersion', ['3', '2']],
  ['supportedSASLMechanisms', ['GSSAPI', 'GSS-SPNEGO', 'EXTERNAL', 'DIGEST-MD5']],
  ['dnsHostName', ['myserver.domain.example.com']],
  ['ldapServiceName', ['domain.example.com:myserver$@DOMAIN.EXAMPLE.COM']],
  ['isGlobalCatalogReady', ['TRUE']],
  ['domainControllerFunctionality', ['7']],
];

function message(id: number, op: Buffer): Buffer {
  return sequence(integer(id), op);
}

function fixtureReply(attributes = AD_ROOT_DSE, resultCode = 0): Buffer {
  const list = sequence(...attributes.map(([name, values]) => sequence(octetString(name), tlv(0x31, ...values.map((v) => octetString(v))))));
  const entry = message(1, tlv(LdapOp.SearchResultEntry, octetString(''), list));
  const done = message(1, tlv(LdapOp.SearchResultDone, enumerated(resultCode), octetString(''), octetString('')));
  return Buffer.concat([entry, done]);
}

t.test('the request is the TCP probe\'s rootDSE search, as one datagram', async (t) => {
  t.same(cldap.encode(ctx), encodeRootDseSearch(1));
  t.equal(cldap.ports[0], 389);
});

t.test('decodes every attribute with all its values', async (t) => {
  const fields = cldap.decode(fixtureReply(), ctx);
  t.equal(fields.ResultCode, 0);
  t.equal(fields.ObjectName, '');
  const attributes = fields.Attributes as Record<string, string[]>;
  t.equal(attributes.namingContexts.length, 4);
  t.same(attributes.supportedLDAPVersion, ['3', '2']);
  t.equal(attributes.dnsHostName[0], 'myserver.domain.example.com');
  t.same(schemaErrors(probeDataSchema('cldap'), fields), [], "the ldap probe's schema: same decoder");
  const lines = cldap.describe!(fields);
  t.same(lines.slice(0, 4), ['LDAP query response:', '', 'currentdate: 11/25/2026 22:39:16 (unadjusted GMT)', 'subschemaSubentry: CN=Aggregate,CN=Schema,CN=Configuration,DC=domain,DC=example,DC=com']);
  t.equal(lines.filter((l) => l.startsWith('namingContexts: ')).length, 4, 'every value on its own line');
  t.equal(lines.at(-1), '======== End of LDAP query response ========');
});

t.test('a refusal is decoded as its result', async (t) => {
  const fields = cldap.decode(fixtureReply([], 53), ctx);
  t.equal(fields.ResultName, 'unwillingToPerform');
  t.same(fields.Attributes, {});
  t.same(schemaErrors(probeDataSchema('cldap'), fields), []);
});

t.test('truncated and mutated replies: ProbeDecodeError or fields, never a crash', async (t) => {
  t.same(decoderFailures((b) => cldap.decode(b, ctx), fixtureReply()), []);
  t.same(acceptedPrefixes((b) => cldap.decode(b, ctx), fixtureReply()), [], 'a datagram cut before SearchResultDone is an error');
});
