import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT, runCli } from '../helpers/cli';

// The output contract where it meets the OS: pipes that fill up, readers that go away, terminals.
// Commands run as built (node dist/main.cjs, or PORTQRY_BIN); volume tests use test/fixtures/emit-records.ts,
// the same output path driven to print megabytes, because no command prints that much yet.
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'emit-records.ts');
const CLI = process.env.PORTQRY_BIN ? [process.env.PORTQRY_BIN] : [process.execPath, BUNDLE];
const ESC = '\x1b[';

const sh = (args: string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color', ...extra };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env as NodeJS.ProcessEnv;
}

/** Runs argv with stdout and stderr on a pseudo-terminal (util-linux `script`); returns what the terminal showed. */
function onTerminal(argv: string[], env: Record<string, string | undefined> = {}): { output: string; code: number | null } {
  const r = spawnSync('script', ['-qec', sh(argv), '/dev/null'], { env: cleanEnv(env), encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { output: r.stdout.replace(/\r\n/g, '\n'), code: r.status };
}

async function listeningPort(t: { teardown(fn: () => void): void }): Promise<number> {
  const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

t.test('output through a slow pipe is complete (far beyond the 64 KiB pipe buffer)', async (t) => {
  const count = 6000;
  for (const format of ['jsonl', 'csv'] as const) {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, String(count), format], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    // A slow reader: the pipe fills, the writer must wait rather than drop or exit early.
    child.stdout.on('data', (b: Buffer) => {
      chunks.push(b);
      if (chunks.length < 40) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 5);
      }
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const stdout = Buffer.concat(chunks).toString('utf8');
    t.ok(stdout.length > 500_000, `${format}: ${stdout.length} bytes`);
    t.equal(code, 0, `${format}: exit 0`);
    t.equal(stderr, '', `${format}: nothing on stderr`);
    if (format === 'jsonl') {
      const records = parseJsonl(stdout);
      t.equal(records.length, count, 'every record arrived');
      t.equal(records.at(-1)!.ComputerName, `host-${count - 1}.example`, 'the last one intact');
    } else {
      const rows = stdout.split('\r\n');
      t.equal(rows.at(-1), '', 'ends with CRLF');
      t.equal(rows.length - 2, count, 'header + every row');
      t.match(rows.at(-2)!, new RegExp(`^host-${count - 1}\\.example,`));
    }
  }
});

t.test('a reader that goes away (| head -1) ends the writer quietly', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-epipe-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const errFile = path.join(dir, 'stderr');
  // 500k records would take minutes to print in full: the writer must notice and stop.
  const writer = sh([process.execPath, '--import', 'tsx', FIXTURE, '500000', 'jsonl']);
  const r = spawnSync('bash', ['-c', `${writer} 2>${sh([errFile])} | head -1; echo "writer=\${PIPESTATUS[0]}"`], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  const [first, status] = r.stdout.trim().split('\n');
  t.match(JSON.parse(first!), { ComputerName: 'host-0.example' }, 'head got the first record');
  t.equal(status, 'writer=0', 'the writer exited 0 (no SIGPIPE death, no error code)');
  t.equal(fs.readFileSync(errFile, 'utf8'), '', 'no EPIPE message or stack trace on stderr');

  // The real executable, in text format (several lines), read by head -1.
  const port = await listeningPort(t);
  const real = spawnSync('bash', ['-c', `${sh([...CLI, 'query', '-n', '127.0.0.1', '-e', String(port), '--format', 'text'])} 2>${sh([errFile])} | head -1`], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
  t.equal(real.stdout, 'Querying target system called:\n');
  t.equal(fs.readFileSync(errFile, 'utf8'), '', 'no stderr from portqry-ts | head -1');
});

t.test('colour and format follow the terminal, NO_COLOR and FORCE_COLOR', async (t) => {
  const port = await listeningPort(t);
  const query = [...CLI, 'query', '-n', '127.0.0.1', '-e', String(port), '--no-reverse-lookup'];

  const tty = onTerminal(query);
  t.equal(tty.code, 0);
  t.match(tty.output, new RegExp(`TCP port ${port} \\(.*\\): .*LISTENING`), 'text by default on a terminal');
  t.ok(tty.output.includes(ESC), 'coloured on a terminal');

  const noColor = onTerminal(query, { NO_COLOR: '1' });
  t.match(noColor.output, /LISTENING/);
  t.notOk(noColor.output.includes(ESC), 'NO_COLOR: no escape sequences on a terminal');

  const forceOff = onTerminal(query, { FORCE_COLOR: '0' });
  t.notOk(forceOff.output.includes(ESC), 'FORCE_COLOR=0: no colour on a terminal');

  const help = onTerminal([...CLI, '--help']);
  t.ok(help.output.includes(ESC), '--help is coloured on a terminal');
  t.notOk(onTerminal([...CLI, '--help'], { NO_COLOR: '1' }).output.includes(ESC), '--help honours NO_COLOR');

  const piped = await runCli(query.slice(CLI.length), { env: { TERM: 'xterm-256color' } });
  t.notOk(piped.stdout.includes(ESC), 'no colour when piped');
  t.equal(parseJsonl(piped.stdout).length, 1, 'JSON Lines when piped');

  const forced = await runCli([...query.slice(CLI.length), '--format', 'text'], { env: { FORCE_COLOR: '1' } });
  t.ok(forced.stdout.includes(ESC), 'FORCE_COLOR=1 colours a pipe');
  const forcedButNo = await runCli([...query.slice(CLI.length), '--format', 'text'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  t.notOk(forcedButNo.stdout.includes(ESC), 'NO_COLOR wins over FORCE_COLOR');

  const usage = onTerminal([...CLI, 'query', '-n', '127.0.0.1', '-e', 'x']);
  t.equal(usage.code, 64);
  t.equal(usage.output.trim().split('\n').length, 1, 'a usage error on a terminal is still one line');
});

t.test('nothing on stderr when a command succeeds, in every format', async (t) => {
  const port = await listeningPort(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-stderr-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const runs = [
    ['--version'],
    ['--help'],
    ['query', '--help'],
    ...['text', 'table', 'json', 'jsonl', 'csv'].map((f) => ['query', '-n', '127.0.0.1', '-e', String(port), '--format', f]),
    ['query', '-n', '127.0.0.1', '-e', String(port), '--format', 'csv', '--out-file', path.join(dir, 'x.csv')],
    ['query', '-n', '127.0.0.1', '-e', String(port), '-q'],
  ];
  for (const args of runs) {
    const r = await runCli(args);
    t.equal(r.code, 0, `${args.join(' ')}: exit 0`);
    t.equal(r.stderr, '', `${args.join(' ')}: stderr empty`);
  }
});
