import t from 'tap';
import { parseJsonl, runCli } from '../helpers/cli';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import {
  makeCertificates, skipDovecot, skipEndpointMapper, skipExim, skipNginx, skipOpenssl, skipSlapd, skipSmbd, skipVsftpd, skipXrdp,
  startDovecot, startEndpointMapper, startExim, startNginx, startSlapd, startSmbd, startTlsServer, startVsftpd, startXrdp,
} from '../helpers/tcp-servers';

/*
 * `portqry-ts query` end to end with the TCP stream probes against real Debian servers: the server on a
 * free loopback port and `--probe NAME` as a user would name it for a non-standard port (`--tls` for
 * TLS), or on its well-known port in a namespace (the endpoint mapper on 135, no option needed).
 */

type Result = Record<string, any>;

async function query(args: string[], host = '127.0.0.1'): Promise<{ code: number | null; stdout: string; stderr: string; records: Result[] }> {
  const r = await runCli(['query', '-n', host, '-nr', '--timeout', '3000', ...args]);
  return { ...r, records: r.stdout.startsWith('{') ? (parseJsonl(r.stdout) as Result[]) : [] };
}

/** Runs the query as JSON, checks the common contract, and returns the one record. */
async function probeRecord(t: { equal: Function; match: Function; same: Function }, args: string[], probe: string, host?: string): Promise<Result> {
  const r = await query([...args, '--json'], host);
  t.equal(r.code, 0, `exit 0 (LISTENING) ${r.stderr}`);
  t.equal(r.stderr, '', 'nothing on stderr');
  t.equal(r.records.length, 1);
  const record = r.records[0]!;
  t.match(record, { Protocol: 'TCP', State: 'LISTENING', Probe: probe, ProbeError: null });
  t.same(schemaErrors('query-result.schema.json', record), [], 'valid against the schema');
  t.same(schemaErrors(probeDataSchema(probe), record.ProbeData), [], `ProbeData valid against ${probeDataSchema(probe)}`);
  return record;
}

t.test('ftp (vsftpd): banner and anonymous logon reply, PortQry text', { skip: skipVsftpd }, async (t) => {
  const port = await startVsftpd(t);
  const r = await probeRecord(t, ['-e', String(port), '--probe', 'ftp'], 'ftp');
  t.same(r.ProbeData, { Banner: '220 ptcp FTP ready\r\n', Status: '220', Truncated: false, AnonymousReply: '331 Please specify the password.\r\n', AnonymousStatus: '331' });
  const text = await query(['-e', String(port), '--probe', 'ftp', '--format', 'text']);
  t.match(text.stdout, `TCP port ${port} (unknown service): LISTENING\n\nData returned from port:\n\n220 ptcp FTP ready\n\n331 Please specify the password.\n`);
});

t.test('a hostile FTP banner (escape sequences, UTF-8): kept whole in JSON, made safe in text', { skip: skipVsftpd }, async (t) => {
  const port = await startVsftpd(t, 'evil\x1b]0;owned\x07 \x1b[31mred \u00e9t\u00e9');
  const json = await query(['-e', String(port), '--probe', 'ftp', '--json']);
  t.match(json.stdout, '"Banner":"220 evil\\u001b]0;owned\\u0007 \\u001b[31mred \\u00e9t\\u00e9\\r\\n"', 'control bytes and non-ASCII escaped, nothing dropped');
  t.equal(json.records[0]!.ProbeData.Banner, '220 evil\x1b]0;owned\x07 \x1b[31mred \u00e9t\u00e9\r\n');
  const text = await query(['-e', String(port), '--probe', 'ftp', '--format', 'text']);
  t.equal(text.code, 0, 'LISTENING');
  t.equal(text.stderr, '');
  t.match(text.stdout, `TCP port ${port} (unknown service): LISTENING\n`);
  t.match(text.stdout, '\n220 evil red \u00e9t\u00e9\n', 'the banner is shown, its printable text whole');
  t.notMatch(text.stdout, /[\x00-\x09\x0b-\x1f\x7f]/, 'no control characters reach the terminal');
});

t.test('smtp (exim), pop3 and imap (dovecot): greetings', { skip: skipExim || skipDovecot }, async (t) => {
  const smtpPort = await startExim(t);
  const smtp = await probeRecord(t, ['-e', String(smtpPort), '--probe', 'smtp'], 'smtp');
  t.match(smtp.ProbeData, { Banner: /^220 \S+ ESMTP Exim /, Status: '220', Truncated: false });
  const { pop3, imap } = await startDovecot(t);
  t.same((await probeRecord(t, ['-e', String(pop3), '--probe', 'pop3'], 'pop3')).ProbeData, { Banner: '+OK ptcp dovecot ready.\r\n', Status: '+OK', Truncated: false });
  t.match((await probeRecord(t, ['-e', String(imap), '--probe', 'imap'], 'imap')).ProbeData, { Banner: /^\* OK \[CAPABILITY IMAP4rev1 /, Status: 'OK' });
});

t.test('http (nginx): status line and Server header', { skip: skipNginx }, async (t) => {
  const port = await startNginx(t);
  const r = await probeRecord(t, ['-e', String(port), '--probe', 'http'], 'http');
  t.match(r.ProbeData, { Request: 'GET /', StatusCode: 200, ReasonPhrase: 'OK', Server: /^nginx\//, AuthSchemes: [] });
});

t.test('ldap (slapd): rootDSE with all values, PortQry layout in text', { skip: skipSlapd }, async (t) => {
  const port = await startSlapd(t);
  const r = await probeRecord(t, ['-e', String(port), '--probe', 'ldap'], 'ldap');
  t.match(r.ProbeData, { ResultCode: 0, ResultName: 'success', Attributes: { namingContexts: ['dc=ptcp,dc=test'], supportedLDAPVersion: ['3'] } });
  t.ok(r.ProbeData.Attributes.supportedControl.length > 1, 'every value of a multi-valued attribute');
  const text = await query(['-e', String(port), '--probe', 'ldap', '--format', 'text']);
  t.match(text.stdout, `Sending LDAP query to TCP port ${port}...\n\nLDAP query response:\n\n`);
  t.match(text.stdout, '\nnamingContexts: dc=ptcp,dc=test\n');
  t.match(text.stdout, '\n\n======== End of LDAP query response ========\n');
  const v6 = await probeRecord(t, ['-e', String(port), '--probe', 'ldap'], 'ldap', '::1');
  t.equal(v6.RemoteAddress, '::1');
  t.same(v6.ProbeData, r.ProbeData, 'the same rootDSE over IPv6');
});

t.test('tls (openssl s_server) through --tls: certificate and negotiated protocol', { skip: skipOpenssl }, async (t) => {
  const dir = makeCertificates(t);
  const port = await startTlsServer(t, dir, 'leaf');
  const r = await probeRecord(t, ['-e', String(port), '--tls', String(port)], 'tls');
  t.match(r.ProbeData, { Protocol: 'TLSv1.3', Subject: 'CN=www.ptcp.test, O=ptcp test', Issuer: 'CN=ptcp test CA, O=ptcp test', SelfSigned: false, TrustedChain: false, HostnameMatches: true });
  t.same(r.ProbeData.SubjectAltNames, ['DNS:www.ptcp.test', 'DNS:ptcp.test', 'IP:127.0.0.1']);
  t.ok(r.ProbeData.DaysToExpiry >= 29 && r.ProbeData.DaysToExpiry <= 30);
});

t.test('rdp (xrdp): selected security protocol', { skip: skipXrdp }, async (t) => {
  const { port } = await startXrdp(t, 'negotiate');
  const r = await probeRecord(t, ['-e', String(port), '--probe', 'rdp'], 'rdp');
  t.match(r.ProbeData, { Negotiation: 'response', SelectedProtocol: 'SSL', SecurityProtocol: 'TLS', RequestedProtocols: ['SSL', 'HYBRID', 'RDSTLS'] });
});

t.test('smb (smbd): dialect and signing', { skip: skipSmbd }, async (t) => {
  const port = await startSmbd(t, ['server signing = mandatory']);
  const r = await probeRecord(t, ['-e', String(port), '--probe', 'smb'], 'smb');
  t.match(r.ProbeData, { Smb1Only: false, Dialect: '3.1.1', SigningRequired: true, ServerGuid: /^[0-9a-f]{8}-/ });
});

t.test('rpc-epm (samba-dcerpcd on 135 in a namespace): the endpoint mapper dump, by port alone', { skip: skipEndpointMapper }, async (t) => {
  const { address } = await startEndpointMapper(t);
  const r = await probeRecord(t, ['-e', '135'], 'rpc-epm', address);
  t.equal(r.Service, 'epmap');
  t.equal(r.ProbeData.EntryCount, r.ProbeData.Entries.length);
  t.ok(r.ProbeData.Entries.some((e: Result) => e.Binding === `ncacn_ip_tcp:${address}[135]`));
  const text = await query(['-e', '135', '--format', 'text'], address);
  t.match(text.stdout, "TCP port 135 (epmap service): LISTENING\n\nUsing ephemeral source port\n\nQuerying Endpoint Mapper Database...\n\nServer's response:\n\nUUID: ");
  t.match(text.stdout, /\nUUID: e1af8308-5d1f-11c9-91a4-08002b14a0fa[^\n]*\nncacn_ip_tcp:[\d.]+\[135\]\n/);
  t.match(text.stdout, `\nTotal endpoints found: ${r.ProbeData.EntryCount}\n\n==== End of RPC Endpoint Mapper query response ====\n`);
});
