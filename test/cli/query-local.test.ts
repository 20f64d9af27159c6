import { spawn } from 'node:child_process';
import * as net from 'node:net';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT, runCli } from '../helpers/cli';
import { onlyOn } from '../helpers/prerequisite';
import { schemaErrors, schemaKeys } from '../helpers/schema';

// PortQry local mode against this machine's real sockets (Linux /proc backend); the test owns the
// sockets it looks for.
if (!onlyOn(t, 'linux', 'local mode against the /proc backend')) process.exit(0);

async function listen(port = 0): Promise<net.Server> {
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(port, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return server;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('query -local --json: owners then statistics, valid records, consistent counts', async (t) => {
  const server = await listen();
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const r = await runCli(['query', '-local', '--json']);
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const records = parseJsonl(r.stdout);
  const owners = records.filter((x) => 'OwningProcess' in x && 'LocalPort' in x);
  const stats = records.filter((x) => 'Percent' in x);
  t.equal(owners.length + stats.length, records.length);
  for (const o of owners) t.same(schemaErrors('port-owner.schema.json', o), []);
  for (const s of stats) {
    t.same(schemaErrors('port-statistics.schema.json', s), []);
    t.same(Object.keys(s), schemaKeys('port-statistics.schema.json'));
  }
  const mine = owners.find((o) => o.LocalPort === port);
  t.equal(mine?.OwningProcess, process.pid);
  const tcpRow = stats.find((s) => s.Protocol === 'TCP' && s.State === null)!;
  const udpRow = stats.find((s) => s.Protocol === 'UDP' && s.State === null)!;
  t.equal(tcpRow.Count, owners.filter((o) => o.Protocol === 'TCP').length, 'TCP mappings = TCP owner records');
  t.equal(udpRow.Count, owners.filter((o) => o.Protocol === 'UDP').length);
  const stateRows = stats.filter((s) => s.State !== null);
  t.equal(stateRows.reduce((n, s) => n + (s.Count as number), 0), tcpRow.Count, 'states add up to the TCP mappings');
  t.ok(stateRows.some((s) => s.State === 'Listen'));
  t.ok(Math.abs(stateRows.reduce((n, s) => n + (s.Percent as number), 0) - 100) < 0.1, 'percentages add up to 100');
});

t.test('query -local text: PortQry layout, mappings, statistics, per-process section', async (t) => {
  const server = await listen();
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const r = await runCli(['query', '-local', '--format', 'text']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^TCP\/UDP Port to Process Mappings\n\n\d+ mappings found\n\nPID:Process\tPort\tLocal IP\tState\tRemote IP:Port\n/);
  t.match(r.stdout, new RegExp(`^${process.pid}:node\\tTCP ${port} 127\\.0\\.0\\.1 LISTENING 0\\.0\\.0\\.0:0$`, 'm'));
  t.match(r.stdout, /\nPort Statistics\n\nTCP mappings: \d+\nUDP mappings: \d+\n\nTCP ports in a LISTENING state: \d+ = \d+\.\d\d%\n/);
  t.match(r.stdout, /Port and Module Information by Process/);
  const section = r.stdout.split('='.repeat(54)).find((s) => s.includes(`Process ID: ${process.pid} (node)`));
  t.ok(section, 'a section for this process');
  t.match(section!, new RegExp(`\\n${process.pid}\\tTCP ${port} 127\\.0\\.0\\.1 LISTENING 0\\.0\\.0\\.0:0\\n`));
  t.match(section!, /Port Statistics\n\nTCP mappings: \d+\n/);
  t.match(section!, /Loaded modules:\n(?:.*libc\.so.*\n)?/);
  t.match(section!, /libc\.so/);
  t.match(section!, /Process doesn't appear to be a service|Service Name: /);
  t.notMatch(r.stdout, /\x1b/);
});

t.test('query -local --statistics --format csv: one kind, header row', async (t) => {
  const r = await runCli(['query', '-local', '--statistics', '--format', 'csv', '--no-modules']);
  t.equal(r.code, 0);
  t.equal(r.stdout.split('\r\n')[0], schemaKeys('port-statistics.schema.json').join(','));
  const owners = await runCli(['query', '-local', '--format', 'csv', '--no-modules']);
  t.equal(owners.code, 0, 'csv without --statistics holds the owners only');
  t.equal(owners.stdout.split('\r\n')[0], schemaKeys('port-owner.schema.json').join(','));
});

/** Starts the CLI and resolves once its stdout matches `ready` (its first snapshot is taken by then). */
function spawnUntil(args: string[], ready: RegExp): { ready: Promise<void>; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let signalReady: () => void;
  const readyPromise = new Promise<void>((r) => (signalReady = r));
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
    if (ready.test(stdout)) signalReady();
  });
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { ready: Promise.race([readyPromise, done.then(() => {})]), done };
}

t.test('query -wport: a connection to a watched listener opens and closes, then the listener closes', async (t) => {
  const server = await listen();
  const port = (server.address() as net.AddressInfo).port;
  const watch = spawnUntil(['query', '-wport', String(port), '-wt', '0.2', '--duration', '4s', '--json'], /"Event":"Initial"/);
  await watch.ready;
  const client = net.connect(port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  await delay(700);
  client.destroy();
  await new Promise((r) => server.close(r));
  const r = await watch.done;
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const ev = parseJsonl(r.stdout);
  for (const e of ev) {
    t.same(schemaErrors('record-event.schema.json', e), []);
    t.ok(e.LocalPort === port || e.RemotePort === port, 'only the watched port');
  }
  t.ok(ev.some((e) => e.Event === 'Initial' && e.State === 'Listen' && e.OwningProcess === process.pid), 'listener there at the start');
  t.ok(ev.some((e) => e.Event === 'Opened' && e.LocalPort === port && e.RemotePort !== null && e.OwningProcess === process.pid), 'accepted connection opened');
  t.ok(ev.some((e) => e.Event === 'Closed' && e.State === 'Listen' && (e.LifetimeSeconds as number) > 0), 'listener closed with a lifetime');
});

t.test('query -wpid: a new port of the watched process, text lines', async (t) => {
  const watch = spawnUntil(['query', '-wpid', String(process.pid), '-wt', '200ms', '--duration', '3s', '--format', 'text', '--no-modules'], /^Watching/);
  await watch.ready;
  const server = await listen();
  const port = (server.address() as net.AddressInfo).port;
  const r = await watch.done;
  server.close();
  t.equal(r.code, 0);
  t.match(r.stdout, new RegExp(`^Watching the ports of process ${process.pid} every 0\\.2 s\\n`));
  t.match(r.stdout, new RegExp(`^\\S+Z  Opened        ${process.pid}:node\\tTCP ${port} 127\\.0\\.0\\.1 LISTENING 0\\.0\\.0\\.0:0$`, 'm'));
});

t.test('query -n still selects the remote query; local options cannot be mixed', async (t) => {
  const server = await listen();
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const remote = await runCli(['query', '-n', '127.0.0.1', '-e', String(port), '-nr', '--json']);
  t.equal(remote.code, 0);
  t.equal(parseJsonl(remote.stdout)[0]!.State, 'LISTENING');
  const mixed = await runCli(['query', '-local', '-wport', '80']);
  t.equal(mixed.code, 64);
  t.equal(mixed.stdout, '');
  const badWt = await runCli(['query', '-wport', '80', '-wt', '5000']);
  t.equal(badWt.code, 64);
  t.match(badWt.stderr, /5000/);
  const help = await runCli(['query', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /portqry-ts query -n dc01/);
  t.match(help.stdout, /portqry-ts query -local/);
  t.match(help.stdout, /portqry-ts query -wport/);
});
