import t from 'tap';
import http, { authSchemes, decodeHttpResponse, encodeHttpRequest } from '../../src/query/probes/http';
import { ProbeDecodeError } from '../../src/query/probes/types';
import { schemaErrors } from '../helpers/schema';
import { runStreamProbe } from '../helpers/probe-stream';
import { skipNginx, startNginx } from '../helpers/tcp-servers';

const IIS_401 = Buffer.from(
  'HTTP/1.1 401 \r\nServer: Microsoft-HTTPAPI/2.0\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: Kerberos\r\n' +
    'Date: Wed, 25 Nov 2026 10:00:00 GMT\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
);

t.test('request: GET / with Host, or POST /wsman for WinRM', async (t) => {
  t.equal(encodeHttpRequest({ host: 'web01', port: 80 }).split('\r\n')[0], 'GET / HTTP/1.1');
  t.match(encodeHttpRequest({ host: 'web01', port: 80 }), /\r\nHost: web01\r\n/);
  t.match(encodeHttpRequest({ host: '::1', port: 8080 }), /\r\nHost: \[::1\]:8080\r\n/);
  const winrm = encodeHttpRequest({ host: 'dc01', port: 5985 });
  t.match(winrm, /^POST \/wsman HTTP\/1\.1\r\n/);
  t.match(winrm, /\r\nContent-Length: 0\r\n/);
  t.ok(winrm.endsWith('\r\n\r\n'));
});

t.test('WinRM 401 (fixture in the shape HTTP.sys sends): status, Server, auth schemes', async (t) => {
  t.same(decodeHttpResponse(IIS_401), {
    HttpVersion: '1.1', StatusCode: 401, ReasonPhrase: '', Server: 'Microsoft-HTTPAPI/2.0',
    WwwAuthenticate: ['Negotiate', 'Kerberos'], AuthSchemes: ['Negotiate', 'Kerberos'], ContentType: null, Location: null, Truncated: false,
  });
});

t.test('WWW-Authenticate parsing: parameters, quoted commas, token68', async (t) => {
  t.same(authSchemes(['Basic realm="a, b", charset="UTF-8", Negotiate', 'Digest realm="x", nonce="y", qop="auth"']), ['Basic', 'Negotiate', 'Digest']);
  t.same(authSchemes(['Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag==']), ['Negotiate']);
  t.same(authSchemes(['Bearer realm="unterminated']), ['Bearer']);
  t.same(authSchemes(['']), []);
});

t.test('not HTTP, empty, and every cut of a response: a ProbeDecodeError or fields, never a crash', async (t) => {
  t.throws(() => decodeHttpResponse(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')), ProbeDecodeError);
  t.throws(() => decodeHttpResponse(Buffer.alloc(0)), ProbeDecodeError);
  for (let n = 0; n <= IIS_401.length; n++) {
    try {
      const f = decodeHttpResponse(IIS_401.subarray(0, n));
      t.equal(f.Truncated, n < IIS_401.length, `cut at ${n}`);
    } catch (err) {
      t.type(err, ProbeDecodeError, `cut at ${n}`);
      t.ok(n < 'HTTP/1.1 401 '.length, `only a cut status line fails (${n})`);
    }
  }
});

t.test('nginx: GET / and WinRM-style POST /wsman answered with 401 Basic', { skip: skipNginx }, async (t) => {
  const port = await startNginx(t);
  const get = await runStreamProbe(http, port);
  t.match(get, { Request: 'GET /', HttpVersion: '1.1', StatusCode: 200, ReasonPhrase: 'OK', AuthSchemes: [], Truncated: false });
  t.match(get.Server, /^nginx\/\d/);
  // The probe picks POST /wsman by port number; ctx.port 5985 makes it speak WinRM to nginx on its high port.
  const winrm = await runStreamProbe(http, port, { port: 5985 });
  t.match(winrm, { Request: 'POST /wsman', StatusCode: 401, ReasonPhrase: 'Unauthorized', WwwAuthenticate: ['Basic realm="ptcp WinRM"'], AuthSchemes: ['Basic'] });
  t.same(http.describe!(winrm).slice(-1), ['Authentication schemes: Basic']);
  t.same(schemaErrors('probe-data-http.schema.json', winrm), []);
  t.match(http.describe!(winrm)[0], /^HTTP response to POST \/wsman: HTTP\/1\.1 401 Unauthorized$/);
});
