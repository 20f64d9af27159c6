import { decodeText } from './text';
import { ProbeDecodeError, type ProbeContext, type ProbeFields, type StreamProbe } from './types';
import { sanitizeLine } from '../../output/sanitize';

/** Response headers beyond this are not read (Truncated: true); the status line and Server come first. */
export const HTTP_MAX_HEADER_BYTES = 16384;

/** WinRM listens on 5985 (HTTP) and answers on /wsman; anything else gets `GET /`. */
const WINRM_PORTS = new Set([5985, 47001]);

/** The request: `POST /wsman` (empty body) for WinRM, whose listener answers that with 401 and its auth schemes; `GET /` elsewhere. */
export function encodeHttpRequest(ctx: Pick<ProbeContext, 'host' | 'port'>): string {
  const name = ctx.host.includes(':') && !ctx.host.startsWith('[') ? `[${ctx.host}]` : ctx.host;
  const host = ctx.port === 80 ? name : `${name}:${ctx.port}`;
  const winrm = WINRM_PORTS.has(ctx.port);
  return [
    winrm ? 'POST /wsman HTTP/1.1' : 'GET / HTTP/1.1',
    `Host: ${host}`,
    'User-Agent: portqry-ts',
    'Accept: */*',
    ...(winrm ? ['Content-Type: application/soap+xml;charset=UTF-8', 'Content-Length: 0'] : []),
    'Connection: close',
    '',
    '',
  ].join('\r\n');
}

/** Offset of the blank line that ends the header block, or -1 while it has not arrived. */
function headerEnd(buffered: Buffer): number {
  const ends = [buffered.indexOf('\r\n\r\n'), buffered.indexOf('\n\n')].filter((i) => i >= 0);
  return ends.length > 0 ? Math.min(...ends) : -1;
}

/** True once the header block (up to the blank line) has arrived. */
export function headersComplete(buffered: Buffer): boolean {
  return headerEnd(buffered) >= 0;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const AUTH_PARAM = new RegExp(`^${TOKEN}\\s*=`);
const SCHEME = new RegExp(`^(${TOKEN})(?:\\s|$)`);

/** Scheme names in WWW-Authenticate values (RFC 9110 §11.6.1): `Basic realm="x", Negotiate` gives Basic, Negotiate. */
export function authSchemes(values: readonly string[]): string[] {
  const schemes: string[] = [];
  for (const value of values) {
    // Commas outside quoted strings separate challenges and their parameters; `name=value` is a parameter.
    for (const raw of value.match(/(?:[^,"]|"(?:[^"\\]|\\.)*"?)+/g) ?? []) {
      const piece = raw.trim();
      if (AUTH_PARAM.test(piece)) continue;
      const m = SCHEME.exec(piece);
      if (m && !schemes.includes(m[1]!)) schemes.push(m[1]!);
    }
  }
  return schemes;
}

/** Decodes the status line and headers of an HTTP/1.x response; throws ProbeDecodeError if it is not one. */
export function decodeHttpResponse(bytes: Buffer): ProbeFields {
  const end = headerEnd(bytes);
  const lines = bytes.subarray(0, end >= 0 ? end : bytes.length).toString('latin1').split(/\r?\n/);
  if (end < 0 && lines.length > 1) lines.pop(); // a header cut in the middle is not reported
  const statusLine = lines[0]!.replace(/\r$/, '');
  const m = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) throw new ProbeDecodeError(`not an HTTP response: '${sanitizeLine(statusLine.slice(0, 60))}'`);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]![1] += ` ${line.trim()}`; // obsolete line folding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const all = (name: string) => headers.filter(([k]) => k === name).map(([, v]) => decodeText(Buffer.from(v, 'latin1')));
  const first = (name: string) => all(name)[0] ?? null;
  const wwwAuthenticate = all('www-authenticate');
  return {
    HttpVersion: `${m[1]}.${m[2]}`,
    StatusCode: Number(m[3]),
    ReasonPhrase: decodeText(Buffer.from(m[4] ?? '', 'latin1')),
    Server: first('server'),
    WwwAuthenticate: wwwAuthenticate,
    AuthSchemes: authSchemes(wwwAuthenticate),
    ContentType: first('content-type'),
    Location: first('location'),
    Truncated: end < 0,
  };
}

const http: StreamProbe = {
  kind: 'stream',
  name: 'http',
  label: 'HTTP',
  ports: [80, 8080, 5985, 47001],
  async converse(stream, ctx) {
    await stream.write(encodeHttpRequest(ctx));
    const bytes = await stream.read({ maxBytes: HTTP_MAX_HEADER_BYTES, timeoutMs: ctx.timeoutMs, until: headersComplete });
    if (bytes.length === 0) throw new ProbeDecodeError(`no HTTP response within ${ctx.timeoutMs} ms`);
    return { Request: WINRM_PORTS.has(ctx.port) ? 'POST /wsman' : 'GET /', ...decodeHttpResponse(bytes) };
  },
  describe(f) {
    const lines = [`HTTP response to ${f.Request}: HTTP/${f.HttpVersion} ${f.StatusCode} ${String(f.ReasonPhrase ?? '')}`.trimEnd()];
    if (typeof f.Server === 'string') lines.push(`Server: ${f.Server}`);
    if (typeof f.Location === 'string') lines.push(`Location: ${f.Location}`);
    if (Array.isArray(f.AuthSchemes) && f.AuthSchemes.length > 0) lines.push(`Authentication schemes: ${f.AuthSchemes.join(', ')}`);
    return lines;
  },
};

export default http;
