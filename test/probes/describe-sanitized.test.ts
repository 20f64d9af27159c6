import t from 'tap';
import { createStyle } from '../../src/output/style';
import { resultLines } from '../../src/query/portqry-text';
import { PROBES } from '../../src/query/probes/registry';
import type { QueryResult } from '../../src/query/query-result';

/*
 * What a peer sends (banners, LDAP values, NetBIOS names, SNMP sysDescr, HTTP headers, certificate
 * subjects...) reaches the text format through the probes' describe(), which emit it as it came:
 * portqry-text makes each line terminal-safe, in one place. These records carry a hostile value in
 * every string field a describe() prints; the lines must keep its visible text and lose every
 * escape sequence, control character and bidi override.
 */

// A colour, a window-title OSC, a line break, a bidi override, an 8-bit CSI, NUL and DEL.
const HOSTILE = 'a\x1b[31mb\x1b]0;owned\x07c\r\nd\u202ee\x9b2Jf\x00g\x7fh';
const VISIBLE = 'abcdefgh';
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

function record(probe: string, protocol: 'TCP' | 'UDP', fields: Record<string, unknown> | null, error: string | null = null): QueryResult {
  return {
    ComputerName: 'host', RemoteAddress: '127.0.0.1', HostName: null, Protocol: protocol, RemotePort: 1, Service: null,
    State: 'LISTENING', Reason: protocol === 'UDP' ? 'probe-reply' : 'connect', ResponseTimeMs: 1, Attempts: 1,
    LocalAddress: null, LocalPort: null, Probe: probe, ProbeData: fields, ProbeError: error, TimeUtc: '2025-01-15T10:04:05.123Z',
  };
}

const text = (r: QueryResult) => resultLines(r, createStyle(false));

const CASES: [probe: string, protocol: 'TCP' | 'UDP', fields: Record<string, unknown>, line: string][] = [
  ['smtp', 'TCP', { Banner: `220 ${HOSTILE}\r\n` }, '220 abc'], // the banner's line break starts a new line
  ['ftp', 'TCP', { Banner: '220 ok\r\n', AnonymousReply: `331 ${HOSTILE}\r\n` }, '331 abc'],
  ['http', 'TCP', { Request: 'GET /', HttpVersion: '1.1', StatusCode: 200, ReasonPhrase: 'OK', Server: HOSTILE, Location: null, AuthSchemes: [] }, `Server: ${VISIBLE}`],
  ['ldap', 'TCP', { Attributes: { [HOSTILE]: [HOSTILE] }, ResultCode: 0 }, `${VISIBLE}: ${VISIBLE}`],
  ['netbios-ns', 'UDP', { MacAddress: '00-11-22-33-44-55', Names: [{ Name: HOSTILE, Suffix: '00', Type: 'UNIQUE', Status: 'Active' }] }, VISIBLE],
  ['snmp', 'UDP', { Version: 'v1', Community: 'public', ErrorStatus: 'noError', SysDescr: HOSTILE, SysName: null }, `sysDescr: ${VISIBLE}`],
  ['tls', 'TCP', {
    Protocol: 'TLSv1.3', Cipher: 'TLS_AES_128_GCM_SHA256', Subject: `CN=${HOSTILE}`, Issuer: 'CN=ca', SubjectAltNames: [], NotBefore: '2025-01-01', NotAfter: '2026-01-01',
    DaysToExpiry: 100, Expired: false, NotYetValid: false, SelfSigned: false, HostnameMatches: true, TrustedChain: true, VerifyError: null,
  }, `Certificate subject: CN=${VISIBLE}`],
  ['dns', 'UDP', { ResponseCode: 'NOERROR', Authoritative: false, Answers: [{ Name: HOSTILE, Ttl: 60, Type: 'TXT', Data: 'x' }], Authority: [] }, `Answer: ${VISIBLE} 60 TXT x`],
  ['kerberos', 'UDP', { MessageType: 'AS-REP', Realm: HOSTILE }, `KDC response: AS-REP for realm ${VISIBLE}`],
  ['l2tp', 'UDP', { MessageType: 'SCCRP', HostName: HOSTILE, VendorName: null, FirmwareRevision: null, ResultCode: null }, `Host name: ${VISIBLE}`],
  ['ntp', 'UDP', { KissCode: HOSTILE }, `NTP server refused the request: kiss code ${VISIBLE}`],
  ['tftp', 'UDP', { Opcode: 'ERROR', ErrorCode: 1, ErrorMessage: HOSTILE }, `TFTP error 1: ${VISIBLE}`],
  ['ike', 'UDP', { Version: 1, Exchange: 'Identity Protection', Proposal: null, Notifications: [], VendorIds: [HOSTILE] }, `Vendor ID: ${VISIBLE}`],
  ['rpc-epm', 'TCP', { EntryCount: 1, Entries: [{ Uuid: 'u', ObjectUuid: null, Annotation: HOSTILE, Binding: null }] }, `UUID: u ${VISIBLE}`],
  ['sql-browser', 'UDP', { Instances: [{ Properties: { ServerName: HOSTILE } }] }, `ServerName ${VISIBLE}`],
];

t.test('every describe() line that carries a peer string reaches the text terminal-safe', async (t) => {
  t.equal(new Set(CASES.map(([probe]) => probe)).size, CASES.length);
  for (const [probe, protocol, fields, line] of CASES) {
    const lines = text(record(probe, protocol, fields));
    t.ok(lines.some((l) => l.includes(line)), `${probe}: "${line}" shown (its describe() ran)`);
    t.same(lines.filter((l) => UNSAFE.test(l)), [], `${probe}: no control characters`);
  }
});

t.test('every probe: hostile fields of unexpected shapes and a hostile ProbeError stay terminal-safe', async (t) => {
  for (const probe of PROBES) {
    const protocol = probe.kind === 'datagram' ? 'UDP' : 'TCP';
    const odd = { Banner: HOSTILE, Names: HOSTILE, Entries: [HOSTILE], [HOSTILE]: HOSTILE };
    t.same(text(record(probe.name, protocol, odd)).filter((l) => UNSAFE.test(l)), [], `${probe.name}: fields`);
    const failed = text(record(probe.name, protocol, null, HOSTILE));
    t.same(failed.filter((l) => UNSAFE.test(l)), [], `${probe.name}: ProbeError`);
    t.ok(failed.includes(VISIBLE), `${probe.name}: the ProbeError's visible text is kept`);
  }
});
