import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';
import { runWine, stopWine, wineMissing } from '../helpers/wine';

// `npm run sign` (scripts/sign.sh) with a throwaway self-signed code-signing certificate made here:
// a copy of the built artifacts is signed and each file is verified with `osslsigncode verify -CAfile`;
// a tampered file fails verification. No timestamp server (no network in tests).
const missing = ['osslsigncode', 'openssl'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
const SIGN = path.join(ROOT, 'scripts', 'sign.sh');
const DIST = path.join(ROOT, 'dist');
const KOFFI = fs.existsSync(path.join(ROOT, '.toolchain')) ? fs.readdirSync(path.join(ROOT, '.toolchain'), { withFileTypes: true }).find((d) => d.name.startsWith('koffi-win32-x64-')) : undefined;

function run(cmd: string, args: string[], env: Record<string, string | undefined> = {}) {
  const e: Record<string, string | undefined> = { ...process.env, PORTQRY_SIGN_PFX: undefined, PORTQRY_SIGN_PASSWORD: undefined, PORTQRY_SIGN_TIMESTAMP_URL: undefined, ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return spawnSync(cmd, args, { encoding: 'utf8', env: e as NodeJS.ProcessEnv, cwd: ROOT, timeout: 300_000 });
}

t.test('without a certificate: one line says unsigned, exit 0', async (t) => {
  const r = run('bash', [SIGN]);
  t.equal(r.status, 0);
  t.match(r.stdout, /^sign: unsigned \(PORTQRY_SIGN_PFX is not set; [^\n]*\)\n$/);
  t.equal(r.stderr, '');
});

t.test('signs the exe, a .node and the PowerShell module; osslsigncode verifies each; tampering is caught', { skip: missing ? `${missing} is not installed` : false }, async (t) => {
  if (!fs.existsSync(path.join(DIST, 'portqry-ts.exe')) || !fs.existsSync(path.join(DIST, 'PortQryTs'))) {
    t.fail('dist/portqry-ts.exe or dist/PortQryTs missing: run npm run build');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-sign-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const pfx = path.join(dir, 'cert.pfx');
  t.equal(
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=portqry-ts test signing', '-addext', 'extendedKeyUsage=codeSigning', '-addext', 'keyUsage=critical,digitalSignature']).status,
    0,
    'openssl req -x509 (codeSigning)',
  );
  t.equal(run('openssl', ['pkcs12', '-export', '-out', pfx, '-inkey', key, '-in', cert, '-passout', 'pass:s3cret word']).status, 0, 'openssl pkcs12');

  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  fs.copyFileSync(path.join(DIST, 'portqry-ts.exe'), path.join(out, 'portqry-ts.exe'));
  fs.cpSync(path.join(DIST, 'PortQryTs'), path.join(out, 'PortQryTs'), { recursive: true });
  if (KOFFI) fs.copyFileSync(path.join(ROOT, '.toolchain', KOFFI.name, 'win32_x64', 'koffi.node'), path.join(out, 'koffi.node'));
  const scripts = fs.readdirSync(path.join(out, 'PortQryTs')).filter((f) => /\.(ps1|psm1|psd1|ps1xml)$/.test(f));
  t.ok(scripts.some((f) => f.endsWith('.psm1')) && scripts.some((f) => f.endsWith('.psd1')), `module files present: ${scripts.join(', ')}`);
  const files = ['portqry-ts.exe', ...(KOFFI ? ['koffi.node'] : []), ...scripts.map((f) => path.join('PortQryTs', f))];

  const r = run('bash', [SIGN, out], { PORTQRY_SIGN_PFX: pfx, PORTQRY_SIGN_PASSWORD: 's3cret word' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.pop(), `sign: ${files.length} files signed with cert.pfx`);
  t.same(lines.sort(), files.map((f) => `sign: signed ${path.join(out, f)}`).sort());

  for (const f of files) {
    const v = run('osslsigncode', ['verify', '-CAfile', cert, '-in', path.join(out, f)]);
    t.equal(v.status, 0, `${f} verifies: ${v.stdout.split('\n').filter((l) => /Signature verification|Message digest|error/i.test(l)).join(' / ')}`);
    t.match(v.stdout, /Signature verification: ok/, f);
    t.match(v.stdout, /CN=portqry-ts test signing/, `${f} signed by the test certificate`);
  }

  // A byte changed in the exe's code, a line changed in the module: verification fails.
  const exe = path.join(out, 'portqry-ts.exe');
  const fd = fs.openSync(exe, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, 0x2000);
  b[0] ^= 0xff;
  fs.writeSync(fd, b, 0, 1, 0x2000);
  fs.closeSync(fd);
  t.not(run('osslsigncode', ['verify', '-CAfile', cert, '-in', exe]).status, 0, 'a tampered exe fails verification');
  const psm1 = path.join(out, 'PortQryTs', scripts.find((f) => f.endsWith('.psm1'))!);
  fs.writeFileSync(psm1, fs.readFileSync(psm1, 'utf8').replace(/function /, 'function  '));
  t.not(run('osslsigncode', ['verify', '-CAfile', cert, '-in', psm1]).status, 0, 'a tampered .psm1 fails verification');

  // Another certificate is not trusted: verification against a CA file without ours fails.
  const other = path.join(dir, 'other.pem');
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k2.pem'), '-out', other, '-days', '2', '-subj', '/CN=someone else']);
  t.not(run('osslsigncode', ['verify', '-CAfile', other, '-in', path.join(out, 'PortQryTs', scripts[0]!)]).status, 0, 'not trusted with another CA');

  // A wrong password: one line, non-zero, the file left as it was.
  const before = fs.readFileSync(path.join(out, 'PortQryTs', scripts[0]!));
  const bad = run('bash', [SIGN, out], { PORTQRY_SIGN_PFX: pfx, PORTQRY_SIGN_PASSWORD: 'wrong' });
  t.not(bad.status, 0);
  t.match(bad.stderr, /^sign: signing .* failed: .*\n$/);
  t.same(fs.readFileSync(path.join(out, 'PortQryTs', scripts[0]!)), before);
});

t.test('a signed exe still runs (under Wine)', { skip: missing ?? wineMissing() ?? false }, async (t) => {
  const exe = path.join(DIST, 'portqry-ts.exe');
  if (!fs.existsSync(exe)) {
    t.fail('dist/portqry-ts.exe missing');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-signrun-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=portqry-ts test signing', '-addext', 'extendedKeyUsage=codeSigning']);
  run('openssl', ['pkcs12', '-export', '-out', path.join(dir, 'c.pfx'), '-inkey', key, '-in', cert, '-passout', 'pass:x']);
  fs.copyFileSync(exe, path.join(dir, 'portqry-ts.exe'));
  t.equal(run('bash', [SIGN, dir], { PORTQRY_SIGN_PFX: path.join(dir, 'c.pfx'), PORTQRY_SIGN_PASSWORD: 'x' }).status, 0);
  t.teardown(stopWine);
  const r = await runWine(path.join(dir, 'portqry-ts.exe'), ['self-check', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { Standalone: true, FfiError: null });
});
