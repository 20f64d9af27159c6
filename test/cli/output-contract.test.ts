import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT, runCli } from '../helpers/cli';

// The output contract where it meets the OS: pipes that fill up, readers that go away, terminals.
// Commands run as built: node dist/main.cjs, or the executable named by PORTQRY_BIN.
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
  // 3000 loopback ports: closed ones answer with a reset at once, so this is quick and ~1 MB of JSON.
  const count = 3000;
  for (const format of ['jsonl', 'csv'] as const) {
    const [cmd, ...args] = [...CLI, 'query', '-n', '127.0.0.1', '-r', `1:${count}`, '--no-reverse-lookup', '--format', format];
    const child = spawn(cmd!, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
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
    t.ok(stdout.length > 200_000, `${format}: ${stdout.length} bytes`);
    t.ok(code !== null && code <= 2, `${format}: a verdict exit code (${code}), not a crash`);
    t.equal(stderr, '', `${format}: nothing on stderr`);
    if (format === 'jsonl') {
      const records = parseJsonl(stdout);
      t.equal(records.length, count, 'every record arrived');
      t.same(records.map((r) => r.RemotePort), Array.from({ length: count }, (_, i) => i + 1), 'in port order, none missing');
    } else {
      const rows = stdout.split('\r\n');
      t.equal(rows.at(-1), '', 'ends with CRLF');
      t.equal(rows.length - 2, count, 'header + every row');
    }
  }
});

t.test('a reader that goes away (| head -1) ends portqry-ts quietly', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-epipe-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const errFile = path.join(dir, 'stderr');
  for (const format of ['jsonl', 'text', 'csv']) {
    // Every TCP port of loopback: the writer must notice the closed pipe and stop, quietly.
    const writer = sh([...CLI, 'query', '-n', '127.0.0.1', '-r', '1:65535', '--no-reverse-lookup', '--format', format]);
    const r = spawnSync('bash', ['-c', `${writer} 2>${sh([errFile])} | head -1; echo "writer=\${PIPESTATUS[0]}"`], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    const [first, status] = r.stdout.trim().split('\n');
    t.ok(first, `${format}: head got a first line`);
    t.match(status, /^writer=[012]$/, `${format}: the writer ended with a verdict code, not a signal or an error (${status})`);
    t.equal(fs.readFileSync(errFile, 'utf8'), '', `${format}: no EPIPE message or stack trace on stderr`);
  }
});

t.test('colour and format follow the terminal, NO_COLOR and FORCE_COLOR', async (t) => {
  const port = await listeningPort(t);
  const query = [...CLI, 'query', '-n', '127.0.0.1', '-e', String(port), '--no-reverse-lookup'];

  const tty = onTerminal(query);
  t.equal(tty.code, 0);
  t.match(tty.output, new RegExp(`TCP port ${port} \\(.*\\): .*LISTENING`), 'text by default on a terminal');
  t.ok(tty.output.includes(ESC), 'coloured on a terminal');

  const noColor = onTerminal(query, { NO_COLOR: '1' });
  t.equal(noColor.code, 0);
  t.match(noColor.output, new RegExp(`TCP port ${port} \\(.*\\): LISTENING`), 'NO_COLOR: the same text');
  t.notOk(noColor.output.includes(ESC), 'NO_COLOR: no escape sequences on a terminal');

  const forceOff = onTerminal(query, { FORCE_COLOR: '0' });
  t.equal(forceOff.code, 0);
  t.match(forceOff.output, new RegExp(`TCP port ${port} \\(.*\\): LISTENING`), 'FORCE_COLOR=0: the same text');
  t.notOk(forceOff.output.includes(ESC), 'FORCE_COLOR=0: no colour on a terminal');

  const help = onTerminal([...CLI, '--help']);
  t.ok(help.output.includes(ESC), '--help is coloured on a terminal');
  const helpNoColor = onTerminal([...CLI, '--help'], { NO_COLOR: '1' });
  t.equal(helpNoColor.code, 0);
  t.match(helpNoColor.output, /portqry-ts query/, '--help with NO_COLOR still lists the commands');
  t.notOk(helpNoColor.output.includes(ESC), '--help honours NO_COLOR');

  const piped = await runCli(query.slice(CLI.length), { env: { TERM: 'xterm-256color' } });
  t.equal(piped.code, 0);
  t.notOk(piped.stdout.includes(ESC), 'no colour when piped');
  t.equal(parseJsonl(piped.stdout).length, 1, 'JSON Lines when piped');

  const forced = await runCli([...query.slice(CLI.length), '--format', 'text'], { env: { FORCE_COLOR: '1' } });
  t.ok(forced.stdout.includes(ESC), 'FORCE_COLOR=1 colours a pipe');
  const forcedButNo = await runCli([...query.slice(CLI.length), '--format', 'text'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  t.equal(forcedButNo.code, 0);
  t.match(forcedButNo.stdout, new RegExp(`TCP port ${port} \\(.*\\): LISTENING`), 'the same text');
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
