import { X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ProbeDecodeError, type ProbeContext, type ProbeFields, type StreamProbe } from './types';

const DAY_MS = 86_400_000;

/** Node's one-RDN-per-line subject/issuer as one line, most specific first (`CN=…, O=…, C=…`), as Windows shows it. */
export function distinguishedName(lines: string): string {
  return lines.split('\n').filter(Boolean).reverse().join(', ');
}

/** `DNS:a, IP Address:1.2.3.4` (Node's subjectAltName) as a list: `DNS:a`, `IP:1.2.3.4`. */
export function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  // Values may be quoted (JSON-style) when they contain a comma; split on ", " outside quotes.
  return (text.match(/(?:[^,"]|"(?:[^"\\]|\\.)*"?)+/g) ?? []).map((s) => s.trim().replace(/^IP Address:/, 'IP:')).filter(Boolean);
}

/** Key algorithm and size: `rsa 2048`, `ec prime256v1`, `ed25519`. */
function keyDescription(cert: X509Certificate): string | null {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const size = details.modulusLength ?? details.namedCurve;
  return key.asymmetricKeyType ? [key.asymmetricKeyType, size].filter((x) => x !== undefined).join(' ') : null;
}

/** The certificate fields the probe reports; `now` decides DaysToExpiry and Expired. */
export function certificateFields(cert: X509Certificate, host: string, now: Date): ProbeFields {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const selfIssued = cert.subject === cert.issuer;
  let selfSigned = false;
  try {
    selfSigned = selfIssued && cert.verify(cert.publicKey);
  } catch {
    selfSigned = false;
  }
  return {
    Subject: distinguishedName(cert.subject),
    Issuer: distinguishedName(cert.issuer),
    SubjectAltNames: subjectAltNames(cert.subjectAltName),
    NotBefore: notBefore.toISOString(),
    NotAfter: notAfter.toISOString(),
    DaysToExpiry: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
    Expired: now.getTime() > notAfter.getTime(),
    NotYetValid: now.getTime() < notBefore.getTime(),
    SelfSigned: selfSigned,
    HostnameMatches: cert.checkHost(host) !== undefined || (net.isIP(host) !== 0 && cert.checkIP(host) !== undefined),
    SerialNumber: cert.serialNumber,
    Sha256Fingerprint: cert.fingerprint256,
    Key: keyDescription(cert),
  };
}

/**
 * Runs the TLS handshake over the connected socket. TLS 1.0 and 1.1 and weak ciphers are allowed
 * (OpenSSL security level 0) so that a legacy server is reported as such instead of failing.
 */
function handshake(socket: net.Socket, ctx: ProbeContext): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      // SNI carries a host name, never an address (RFC 6066 §3).
      servername: net.isIP(ctx.host) ? undefined : ctx.host,
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new ProbeDecodeError(`no TLS handshake within ${ctx.timeoutMs} ms`));
    }, ctx.timeoutMs);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ProbeDecodeError(`TLS handshake failed: ${err.code ?? err.message}`));
    });
  });
}

/** The certificate fields when the server sent none (anonymous cipher suites), so every record has the same keys. */
const NO_CERTIFICATE: ProbeFields = {
  Subject: null, Issuer: null, SubjectAltNames: [], NotBefore: null, NotAfter: null, DaysToExpiry: null, Expired: null, NotYetValid: null,
  SelfSigned: null, HostnameMatches: null, SerialNumber: null, Sha256Fingerprint: null, Key: null,
};

/**
 * TLS: handshake with any certificate accepted (this is a diagnosis, not a trust decision), then report
 * what was negotiated and what the certificate says, including whether Node's CA store would trust it.
 */
const tlsProbe: StreamProbe = {
  kind: 'stream',
  name: 'tls',
  label: 'TLS',
  ports: [443, 636, 3269, 5986, 8443],
  async converse(stream, ctx) {
    const secure = await handshake(stream.socket, ctx);
    try {
      const cipher = secure.getCipher();
      const cert = secure.getPeerX509Certificate();
      return {
        Protocol: secure.getProtocol(),
        Cipher: cipher?.standardName ?? cipher?.name ?? null,
        Alpn: secure.alpnProtocol || null,
        ServerName: net.isIP(ctx.host) ? null : ctx.host,
        TrustedChain: secure.authorized,
        VerifyError: secure.authorizationError ? String(secure.authorizationError) : null,
        ...(cert ? certificateFields(cert, ctx.host, new Date()) : NO_CERTIFICATE),
      };
    } finally {
      secure.destroy();
    }
  },
  describe(f) {
    if (f.Subject === null) return [`TLS handshake: ${String(f.Protocol)}, ${String(f.Cipher)}`, 'The server sent no certificate'];
    const days = Number(f.DaysToExpiry);
    const validity = f.Expired ? `expired ${-days} day(s) ago` : f.NotYetValid ? 'not valid yet' : `${days} day(s) left`;
    const lines = [
      `TLS handshake: ${String(f.Protocol)}, ${String(f.Cipher)}`,
      `Certificate subject: ${String(f.Subject)}`,
      `Certificate issuer: ${String(f.Issuer)}`,
    ];
    if (Array.isArray(f.SubjectAltNames) && f.SubjectAltNames.length > 0) lines.push(`Subject alternative names: ${f.SubjectAltNames.join(', ')}`);
    lines.push(
      `Valid from ${String(f.NotBefore)} to ${String(f.NotAfter)} (${validity})`,
      `Self-signed: ${f.SelfSigned ? 'yes' : 'no'}; host name matches: ${f.HostnameMatches ? 'yes' : 'no'}; chain trusted: ${f.TrustedChain ? 'yes' : `no (${String(f.VerifyError)})`}`,
    );
    return lines;
  },
};

export default tlsProbe;
