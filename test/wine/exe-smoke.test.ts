import * as net from 'node:net';
import pkg from '../../package.json';
import { parseJsonl } from '../helpers/cli';
import { schemaErrors, schemaKeys } from '../helpers/schema';
import { runExe, wineTest } from '../helpers/wine';

// The Windows build, run under Wine: the .exe starts, answers, queries a real socket on the host's
// loopback (Wine shares it), and its embedded koffi loads and calls kernel32.

wineTest('portqry-ts.exe under Wine', async (t) => {

  t.test('--version', async (t) => {
    const r = await runExe(['--version'], { keepServer: true });
    t.equal(r.stdout, `${pkg.version}\n`);
    t.equal(r.stderr, '');
    t.equal(r.code, 0);
  });

  t.test('query of a listening and a closed loopback port, JSON valid against the schema', async (t) => {
    const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    t.teardown(() => server.close());
    const port = (server.address() as net.AddressInfo).port;

    const open = await runExe(['query', '-n', '127.0.0.1', '-e', String(port), '--json'], { keepServer: true });
    t.equal(open.stderr, '', 'nothing on stderr');
    t.equal(open.code, 0, 'exit 0: LISTENING');
    const records = parseJsonl(open.stdout);
    t.equal(records.length, 1);
    t.same(schemaErrors('query-result.schema.json', records[0]), []);
    t.same(Object.keys(records[0]!), schemaKeys('query-result.schema.json'));
    t.equal(records[0]!.State, 'LISTENING');
    t.equal(records[0]!.RemotePort, port);
    t.equal(records[0]!.RemoteAddress, '127.0.0.1');

    const probe = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const closed = await runExe(['query', '-n', '127.0.0.1', '-e', String(closedPort), '--json'], { keepServer: true });
    t.equal(closed.code, 1, 'exit 1: NOT LISTENING');
    t.equal(parseJsonl(closed.stdout)[0]!.State, 'NOT LISTENING');
    t.equal(closed.stderr, '');
  });

  t.test('a usage error: one line on stderr, exit 64', async (t) => {
    const r = await runExe(['query', '-n', '127.0.0.1', '-e', '70000'], { keepServer: true });
    t.equal(r.code, 64);
    t.equal(r.stdout, '');
    t.match(r.stderr, /70000/);
    t.equal(r.stderr.trim().split('\n').length, 1);
  });

  t.test('koffi inside the .exe loads and calls kernel32 (self-check)', async (t) => {
    const r = await runExe(['self-check', '--json'], { keepServer: true });
    t.equal(r.code, 0, r.stdout + r.stderr);
    t.equal(r.stderr, '');
    const [check] = parseJsonl(r.stdout);
    t.same(schemaErrors('self-check.schema.json', check), []);
    t.equal(check!.Platform, 'win32');
    t.equal(check!.Standalone, true);
    t.equal(check!.NodeVersion, 'v22.23.3');
    t.equal(check!.KoffiVersion, pkg.dependencies.koffi);
    t.equal(check!.FfiError, null);
    t.equal(check!.FfiProcessId, check!.ProcessId, 'GetCurrentProcessId() through koffi equals process.pid');
  });
});
