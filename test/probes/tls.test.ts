import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import tlsProbe, { certificateFields, distinguishedName, subjectAltNames } from '../../src/query/probes/tls';
import { ProbeDecodeError } from '../../src/query/probes/types';
import { schemaErrors } from '../helpers/schema';
import { runStreamProbe } from '../helpers/probe-stream';
import { makeCertificates, skipOpenssl, startTlsServer } from '../helpers/tcp-servers';

t.test('certificate fields from openssl-made certificates', { skip: skipOpenssl }, async (t) => {
  const dir = makeCertificates(t);
  const leaf = new X509Certificate(fs.readFileSync(path.join(dir, 'leaf.pem')));
  const now = new Date();
  const f = certificateFields(leaf, 'www.ptcp.test', now);
  t.match(f, { Subject: 'CN=www.ptcp.test, O=ptcp test', Issuer: 'CN=ptcp test CA, O=ptcp test', SelfSigned: false, Expired: false, NotYetValid: false, HostnameMatches: true, Key: 'ec prime256v1' });
  t.same(f.SubjectAltNames, ['DNS:www.ptcp.test', 'DNS:ptcp.test', 'IP:127.0.0.1']);
  t.ok(f.DaysToExpiry === 29 || f.DaysToExpiry === 30, `30-day certificate: ${f.DaysToExpiry} days left`);
  t.equal(certificateFields(leaf, 'other.test', now).HostnameMatches, false);
  t.equal(certificateFields(leaf, '127.0.0.1', now).HostnameMatches, true, 'IP SAN');
  const later = new Date(Date.parse(String(f.NotAfter)) + 3 * 86_400_000 + 1000);
  t.match(certificateFields(leaf, 'x', later), { Expired: true, DaysToExpiry: -4 });
  const self = certificateFields(new X509Certificate(fs.readFileSync(path.join(dir, 'self.pem'))), 'self.ptcp.test', now);
  t.match(self, { Subject: 'CN=self.ptcp.test', Issuer: 'CN=self.ptcp.test', SelfSigned: true, Key: 'rsa 2048', SubjectAltNames: [] });
  t.equal(distinguishedName('C=US\nO=Contoso\nCN=dc01.contoso.com'), 'CN=dc01.contoso.com, O=Contoso, C=US');
  t.same(subjectAltNames('DNS:a.test, DNS:"b,c.test", IP Address:::1'), ['DNS:a.test', 'DNS:"b,c.test"', 'IP:::1']);
});

t.test('openssl s_server: handshake, negotiated protocol and cipher, the served chain', { skip: skipOpenssl }, async (t) => {
  const dir = makeCertificates(t);
  const port = await startTlsServer(t, dir, 'leaf');
  const fields = await runStreamProbe(tlsProbe, port, { host: 'www.ptcp.test' });
  t.match(fields, {
    Protocol: 'TLSv1.3', Cipher: /^TLS_/, ServerName: 'www.ptcp.test', TrustedChain: false, VerifyError: /^(UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
    Subject: 'CN=www.ptcp.test, O=ptcp test', SelfSigned: false, HostnameMatches: true,
  });
  t.same(schemaErrors('probe-data-tls.schema.json', fields), []);
  const text = tlsProbe.describe!(fields);
  t.match(text[0], /^TLS handshake: TLSv1\.3, TLS_/);
  t.ok(text.includes('Certificate subject: CN=www.ptcp.test, O=ptcp test'));
  t.match(text[text.length - 1], /^Self-signed: no; host name matches: yes; chain trusted: no \(/);

  // TLS 1.2 only: the probe reports what was negotiated, not what it asked for.
  const port12 = await startTlsServer(t, dir, 'self', ['-tls1_2']);
  const f12 = await runStreamProbe(tlsProbe, port12);
  t.match(f12, { Protocol: 'TLSv1.2', ServerName: null, SelfSigned: true, TrustedChain: false, VerifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT', Key: 'rsa 2048' });

  // A legacy server (TLS 1.0 only, as old Windows servers are) is reported, not a handshake failure.
  const port10 = await startTlsServer(t, dir, 'self', ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
  t.match(await runStreamProbe(tlsProbe, port10), { Protocol: 'TLSv1', Subject: 'CN=self.ptcp.test' });
});

// A node socket stands in for "some other protocol" here: any non-TLS peer shows the same thing.
t.test('a server that does not speak TLS: ProbeDecodeError, not a hang', async (t) => {
  const net = await import('node:net');
  const server = net.createServer((c) => c.end('SSH-2.0-OpenSSH_9.2\r\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as import('node:net').AddressInfo).port;
  await t.rejects(runStreamProbe(tlsProbe, port, { timeoutMs: 2000 }), ProbeDecodeError);
});
