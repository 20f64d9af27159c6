import * as net from 'node:net';
import t from 'tap';
import { parseJsonl, runCli } from '../helpers/cli';
import { schemaErrors, schemaKeys } from '../helpers/schema';

t.test('--version prints the version and nothing else', async (t) => {
  const r = await runCli(['--version']);
  t.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  t.equal(r.stderr, '');
  t.equal(r.code, 0);
});

t.test('--help lists the four commands, without colour when piped', async (t) => {
  const r = await runCli(['--help'], { env: { FORCE_COLOR: undefined, TERM: 'xterm-256color' } });
  t.equal(r.code, 0);
  for (const c of ['query', 'record', 'parse', 'stats']) t.match(r.stdout, new RegExp(`portqry-ts ${c}\\b`));
  t.notMatch(r.stdout, /\x1b\[/);
  t.equal(r.stderr, '');
});

t.test('each command has --help with examples', async (t) => {
  const r = await runCli(['query', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /Examples/);
  t.match(r.stdout, /portqry-ts query -n/);
});

t.test('no command colours its --help into a pipe, whatever TERM says', async (t) => {
  for (const c of ['query', 'record', 'parse', 'stats']) {
    const r = await runCli([c, '--help'], { env: { TERM: 'xterm-256color' } });
    t.equal(r.code, 0, `${c} --help exit code`);
    t.notMatch(r.stdout, /\x1b\[/, `${c} --help has no escape sequences`);
  }
});

t.test('a usage error is one line on stderr, nothing on stdout, exit 64', async (t) => {
  const r = await runCli(['query', '-n', '127.0.0.1', '--format', 'xml']);
  t.equal(r.stdout, '');
  t.equal(r.code, 64);
  t.match(r.stderr, /xml|format/);
  t.equal(r.stderr.trim().split('\n').length, 1);
  const bad = await runCli(['query', '-n', '127.0.0.1', '-e', '70000']);
  t.equal(bad.code, 64);
  t.match(bad.stderr, /70000/);
  t.equal(bad.stdout, '');
  const unknown = await runCli(['frobnicate']);
  t.equal(unknown.code, 64);
  t.equal(unknown.stdout, '');
});

t.test('record, parse and stats exist and refuse clearly until built', async (t) => {
  for (const c of ['record', 'parse', 'stats']) {
    const help = await runCli([c, '--help']);
    t.equal(help.code, 0, `${c} --help`);
  }
});

t.test('query: LISTENING (0) and NOT LISTENING (1) on loopback, JSONL valid against the schema', async (t) => {
  const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  t.teardown(() => server.close());

  const open = await runCli(['query', '-n', '127.0.0.1', '-e', String(port), '-nr']);
  t.equal(open.code, 0);
  t.equal(open.stderr, '');
  const [rec] = parseJsonl(open.stdout);
  t.same(schemaErrors('query-result.schema.json', rec), []);
  t.same(Object.keys(rec!), schemaKeys('query-result.schema.json'), 'keys in schema order');
  t.equal(rec!.State, 'LISTENING');
  t.equal(rec!.RemotePort, port);

  // A port that was just free: bind, learn it, close, query.
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const closed = await runCli(['query', '-n', '127.0.0.1', '-e', String(closedPort), '-nr', '--json']);
  t.equal(closed.code, 1);
  t.equal(parseJsonl(closed.stdout)[0]!.State, 'NOT LISTENING');
});

t.test('query text output keeps PortQry lines', async (t) => {
  const r = await runCli(['query', '-n', '127.0.0.1', '-e', '1', '-nr', '--format', 'text']);
  t.match(r.stdout, /^TCP port 1 \((?:\S+ service|unknown service)\): NOT LISTENING$/m);
  t.notMatch(r.stdout, /\x1b/);
  t.equal(r.code, 1, 'NOT LISTENING');
  t.equal(r.stderr, '');
});

t.test('an unresolvable name is a one-line error with its own exit code', async (t) => {
  const r = await runCli(['query', '-n', 'no-such-host.invalid', '-e', '80']);
  t.equal(r.code, 68);
  t.equal(r.stdout, '');
  t.match(r.stderr, /Failed to resolve name to IP address: no-such-host\.invalid/);
});
