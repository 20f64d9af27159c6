import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import t from 'tap';
import pkg from '../../package.json';
import { parseJsonl, ROOT, runCli } from '../helpers/cli';
import { schemaErrors, schemaKeys } from '../helpers/schema';

// The Linux standalone executable (Node SEA): what a user copies to a server, run with a clean
// environment so nothing from node_modules or this checkout can help it.
const BIN = path.join(ROOT, 'dist', 'portqry-ts');

t.test('dist/portqry-ts', async (t) => {
  if (!fs.existsSync(BIN)) {
    t.fail(`${BIN} does not exist: run npm run build`);
    return;
  }
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-standalone-'));
  const nativeDir = path.join(cwd, 'native');
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  const run = (args: string[]) => runCli(args, { bin: BIN, cwd, env: { NODE_PATH: undefined, PORTQRY_NATIVE_DIR: nativeDir } });

  t.test('--version and --help', async (t) => {
    const v = await run(['--version']);
    t.equal(v.stdout, `${pkg.version}\n`);
    t.equal(v.stderr, '');
    t.equal(v.code, 0);
    const h = await run(['--help']);
    t.equal(h.code, 0);
    t.equal(h.stderr, '');
    const commandLines = h.stdout.split('\n').filter((l) => /^\s+portqry-ts \w/.test(l));
    t.same(
      commandLines.map((l) => l.trim().split(/\s+/)[1]),
      ['query', 'record', 'parse', 'stats'],
      'one line per command, in order',
    );
    for (const line of commandLines) t.ok(line.trim().split(/\s{2,}/)[1], `description on the same line: ${line.trim()}`);
    const q = await run(['query', '--help']);
    t.equal(q.code, 0);
    t.match(q.stdout, /Examples/);
  });

  t.test('query JSON is valid against the schema', async (t) => {
    const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    t.teardown(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const r = await run(['query', '-n', '127.0.0.1', '-e', String(port), '--json']);
    t.equal(r.code, 0);
    t.equal(r.stderr, '');
    const [rec] = parseJsonl(r.stdout);
    t.same(schemaErrors('query-result.schema.json', rec), []);
    t.same(Object.keys(rec!), schemaKeys('query-result.schema.json'));
    t.equal(rec!.State, 'LISTENING');
  });

  t.test('a probe that needs node:tls (bound lazily, outside the startup snapshot) works', async (t) => {
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=standalone.portqry-ts.test'], { cwd, stdio: 'ignore' });
    if (made.status !== 0) return t.fail('openssl could not make a certificate (openssl is in .ci/apt-packages.txt)');
    const server = tls.createServer({ key: fs.readFileSync(path.join(cwd, 'k.pem')), cert: fs.readFileSync(path.join(cwd, 'c.pem')) }, (s) => s.end());
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    t.teardown(() => server.close());
    const port = String((server.address() as net.AddressInfo).port);
    const r = await run(['query', '-n', '127.0.0.1', '-e', port, '--tls', port, '--json']);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stderr, '');
    const [rec] = parseJsonl(r.stdout);
    t.same(schemaErrors('query-result.schema.json', rec), []);
    t.equal(rec!.Probe, 'tls');
    t.match(rec!.ProbeData, { Subject: 'CN=standalone.portqry-ts.test', Protocol: /^TLSv1\.[23]$/ });
  });

  t.test('koffi inside the executable loads from its embedded asset and calls libc', async (t) => {
    const r = await run(['self-check', '--json']);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stderr, '');
    const [check] = parseJsonl(r.stdout);
    t.same(schemaErrors('self-check.schema.json', check), []);
    t.equal(check!.Standalone, true);
    t.equal(check!.NodeVersion, 'v22.23.3');
    t.equal(check!.Platform, 'linux');
    t.equal(check!.KoffiVersion, pkg.dependencies.koffi);
    t.equal(check!.FfiError, null);
    t.equal(check!.FfiProcessId, check!.ProcessId, 'getpid() through koffi equals process.pid');
    // The native module was written where PORTQRY_NATIVE_DIR says, owner-only.
    const [hashDir] = fs.readdirSync(nativeDir);
    const file = path.join(nativeDir, hashDir!, 'koffi.node');
    t.equal(fs.statSync(file).mode & 0o777, 0o600);
    // A second run reuses it after checking its hash.
    const again = await run(['self-check', '--json']);
    t.equal(again.code, 0);
    t.same(fs.readdirSync(nativeDir), [hashDir]);
  });
});
