import { spawnSync } from 'node:child_process';
import t from 'tap';
import { missingPrerequisite } from '../helpers/prerequisite';
import { applicationTag, enumerated, integer, octetString, sequence, Tag, tlv } from '../../src/query/probes/codec/ber';
import { decodeRootDseAnswer, encodeRootDseSearch, searchAnswerComplete } from '../../src/query/probes/codec/ldap';
import ldap, { portqryDate } from '../../src/query/probes/ldap';
import { ProbeDecodeError } from '../../src/query/probes/types';
import { schemaErrors } from '../helpers/schema';
import { runStreamProbe } from '../helpers/probe-stream';
import { haveCommand } from '../helpers/real-server';
import { skipSlapd, startSlapd } from '../helpers/tcp-servers';

const entry = (id: number, dn: string, attrs: [string, string[]][]) =>
  sequence(integer(id), tlv(applicationTag(4), octetString(dn), sequence(...attrs.map(([k, vs]) => sequence(octetString(k), tlv(Tag.Set, ...vs.map((v) => octetString(v))))))));
const done = (id: number, code = 0, diag = '') => sequence(integer(id), tlv(applicationTag(5), enumerated(code), octetString(''), octetString(diag)));

// An Active Directory rootDSE in the shape of PortQry's sample (reference §4.1), with several values for
// multi-valued attributes (PortQry shows one; all are kept).
const AD_ANSWER = Buffer.concat([
  entry(1, '', [
    ['currentTime', ['20261125223916.0Z']],
    ['subschemaSubentry', ['CN=Aggregate,CN=Schema,CN=Configuration,DC=domain,DC=example,DC=com']],
    ['namingContexts', ['DC=domain,DC=example,DC=com', 'CN=Configuration,DC=domain,DC=example,DC=com']],
    ['defaultNamingContext', ['DC=domain,DC=example,DC=com']],
    ['supportedLDAPVersion', ['3', '2']],
    ['dnsHostName', ['myserver.domain.example.com']],
    ['isGlobalCatalogReady', ['TRUE']],
    ['domainControllerFunctionality', ['7']],
  ]),
  done(1),
]);

t.test('request: anonymous base-object search of "" for (objectClass=*), attributes * and +', async (t) => {
  // The bytes ldapsearch -x -b "" -s base "(objectClass=*)" "*" "+" sends after its bind (message ID 2), captured.
  t.equal(encodeRootDseSearch(2).toString('hex'), '302b020102632604000a01000a0100020100020100010100870b6f626a656374436c617373300604012a04012b');
});

t.test('Active Directory rootDSE fixture: all attributes and values, PortQry text layout', async (t) => {
  t.ok(searchAnswerComplete(AD_ANSWER));
  t.notOk(searchAnswerComplete(AD_ANSWER.subarray(0, AD_ANSWER.length - 1)));
  const fields = decodeRootDseAnswer(AD_ANSWER, 1);
  t.equal(fields.ResultCode, 0);
  t.equal(fields.ResultName, 'success');
  t.equal(fields.ObjectName, '');
  t.same(fields.Attributes.namingContexts, ['DC=domain,DC=example,DC=com', 'CN=Configuration,DC=domain,DC=example,DC=com']);
  t.same(ldap.describe!({ ...fields }), [
    'LDAP query response:',
    '',
    'currentdate: 11/25/2026 22:39:16 (unadjusted GMT)',
    'subschemaSubentry: CN=Aggregate,CN=Schema,CN=Configuration,DC=domain,DC=example,DC=com',
    'namingContexts: DC=domain,DC=example,DC=com',
    'namingContexts: CN=Configuration,DC=domain,DC=example,DC=com',
    'defaultNamingContext: DC=domain,DC=example,DC=com',
    'supportedLDAPVersion: 3',
    'supportedLDAPVersion: 2',
    'dnsHostName: myserver.domain.example.com',
    'isGlobalCatalogReady: TRUE',
    'domainControllerFunctionality: 7',
    '',
    '======== End of LDAP query response ========',
  ]);
  t.equal(portqryDate('not a time'), 'not a time');
  t.same(schemaErrors('probe-data-ldap.schema.json', fields), []);
});

t.test('refusals, notices of disconnection, binary values', async (t) => {
  const refused = decodeRootDseAnswer(done(1, 50, 'anonymous access denied'), 1);
  t.match(refused, { ResultCode: 50, ResultName: 'insufficientAccessRights', DiagnosticMessage: 'anonymous access denied', Attributes: {} });
  t.match(ldap.describe!({ ...refused }), ['LDAP query response:', '', 'LDAP search result: insufficientAccessRights (50): anonymous access denied', '', '======== End of LDAP query response ========']);
  const notice = sequence(integer(0), tlv(applicationTag(24), enumerated(52), octetString(''), octetString('server shutting down')));
  t.match(decodeRootDseAnswer(notice, 1), { ResultCode: 52, ResultName: 'unavailable' });
  const binary = Buffer.concat([entry(1, '', [['objectGUID', ['\u00ff']]]), done(1)]);
  const raw = Buffer.from(binary);
  raw[raw.indexOf(Buffer.from([0xc3, 0xbf]))] = 0xff; // make the value invalid UTF-8
  t.match(decodeRootDseAnswer(raw, 1).Attributes.objectGUID, [/^base64:/]);
  t.throws(() => decodeRootDseAnswer(done(2), 1), ProbeDecodeError, 'answer to another message');
});

t.test('every cut and random corruption of the answer: fields or ProbeDecodeError, never a crash', async (t) => {
  const failures: string[] = [];
  const check = (b: Buffer, what: string) => {
    try {
      searchAnswerComplete(b);
      decodeRootDseAnswer(b, 1);
    } catch (e) {
      if (!(e instanceof ProbeDecodeError)) failures.push(`${what}: ${(e as Error).stack}`);
    }
  };
  for (let n = 0; n < AD_ANSWER.length; n++) {
    check(AD_ANSWER.subarray(0, n), `cut at ${n}`);
    t.throws(() => decodeRootDseAnswer(AD_ANSWER.subarray(0, n), 1), ProbeDecodeError, `a cut answer is never taken as whole (${n})`);
  }
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 3000; i++) {
    const copy = Buffer.from(AD_ANSWER);
    for (let f = 0; f <= random() % 3; f++) copy[random() % copy.length] = random() & 0xff;
    check(copy, `mutation ${i}`);
  }
  t.same(failures, []);
});

t.test('slapd: the rootDSE as ldapsearch sees it', { skip: skipSlapd }, async (t) => {
  const port = await startSlapd(t);
  const fields = await runStreamProbe(ldap, port);
  t.match(fields, { ObjectName: '', ResultCode: 0, ResultName: 'success' });
  const attributes = fields.Attributes as Record<string, string[]>;
  t.same(attributes.namingContexts, ['dc=ptcp,dc=test']);
  t.same(attributes.supportedLDAPVersion, ['3']);
  t.ok(attributes.supportedControl!.length > 1, 'all values of a multi-valued attribute');
  if (haveCommand('ldapsearch')) {
    const ldif = spawnSync('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', `ldap://127.0.0.1:${port}`, '-b', '', '-s', 'base', '(objectClass=*)', '*', '+'], { encoding: 'utf8', timeout: 10_000 });
    const expected: Record<string, string[]> = {};
    for (const line of ldif.stdout.split('\n').slice(1)) {
      const m = /^([^:]+): ?(.*)$/.exec(line);
      if (m) (expected[m[1]!] ??= []).push(m[2]!);
    }
    t.same(attributes, expected, 'same attributes and values as ldapsearch');
  } else {
    missingPrerequisite(t, 'ldapsearch (Debian package ldap-utils) for the cross-check');
  }
  const text = ldap.describe!(fields);
  t.equal(text[0], 'LDAP query response:');
  t.ok(text.includes('namingContexts: dc=ptcp,dc=test'));
  t.equal(text[text.length - 1], '======== End of LDAP query response ========');
});
