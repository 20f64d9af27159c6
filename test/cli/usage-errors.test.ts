/**
 * Issue 14, "Usage errors that do not name the problem" and "PortQry's own local-mode spellings".
 * Failed on the old code: every unknown option of query printed "Command not found; did you mean one
 * of:" with an empty list; `-n a -n b` and `--format` twice silently took the last value; empty values
 * were accepted; `-local -v`, `-local -l FILE`, `-wport N -l FILE -y` and `-s` were refused.
 * In-process (runCli with test IOStreams): no process start per case.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { runInProcess } from '../helpers/in-process';

const usage: [string[], RegExp][] = [
  [['query', '-n', '127.0.0.1', '--bogus'], /unknown option '--bogus' for 'query'/],
  [['query', '-v'], /option -v works only with --local/],
  [['query', '-n', '127.0.0.1', '-v'], /-v cannot be combined with --host/],
  [['query', '-n', '127.0.0.1', '-e', '-1'], /invalid -e '-1': expected a port from 1 to 65535/],
  [['query', '-n', '127.0.0.1', '--timeout', '-5'], /invalid --timeout '-5': expected a whole number/],
  [['query', '-local', '-wport', '80'], /--watch-port cannot be combined with --local/],
  [['query', '-local', '-n', 'dc01'], /--local cannot be combined with --host/],
  [['query', '-n', 'a', '-n', 'b'], /-n given more than once \('a' and 'b'\): give it once/],
  [['query', '--preset', 'list', '--format', 'json', '--format', 'csv'], /--format given more than once/],
  [['parse', 'x.log', '--out-file', ''], /invalid --out-file '': the value is empty/],
  [['record', '-ld', '', '--once'], /invalid --log-dir '': the value is empty/],
  [['stats', 'x', '--top', '5', '--top', '6'], /--top given more than once/],
  [['parse', 'x.log', '--since'], /option --since needs a value/],
  // A two-word command is checked against its own options, not its first word's.
  [['self-check', 'event-log', '--bogus', 'x'], /unknown option '--bogus' for 'self-check event-log'/],
  [['self-check', 'event-log', '--level', 'info', '--level', 'warning', 'x'], /--level given more than once/],
];

t.test('usage errors name the option or value and the rule: one line, exit 64', async (t) => {
  for (const [args, message] of usage) {
    const r = await runInProcess(args);
    t.equal(r.code, 64, `${args.join(' ')}: exit 64`);
    t.match(r.stderr, new RegExp(`^portqry-ts: ${message.source}.*\\n$`), `${args.join(' ')}: ${message.source}`);
    t.notMatch(r.stderr, /Command not found/);
    t.equal(r.stdout, '');
  }
});

t.test('repeatable options stay repeatable; a value starting with a dash reaches its option', async (t) => {
  const r = await runInProcess(['parse', '/nonexistent/x.log', '--port', '80', '--port', '443', '--utc-offset', '-05:00']);
  t.equal(r.code, 66, 'got past option parsing to the missing input');
  t.match(r.stderr, /no such file or directory: \/nonexistent\/x\.log/);
});

t.test("PortQry's local-mode spellings: -local -v, -local -l FILE, -wport N -l FILE -y, -s", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usage-local-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'pq.log');
  const local = await runInProcess(['query', '-local', '-v', '--no-modules', '-l', log, '--json']);
  t.equal(local.code, 0, '-local -v -l: exit 0');
  t.equal(local.stderr, '');
  t.ok(local.stdout.split('\n').length > 1, 'records on stdout');
  const text = fs.readFileSync(log, 'utf8');
  t.match(text, /^PortQry Version 2\.0 Log File\r\n/);
  t.match(text, /TCP\/UDP Port to Process Mappings\r\n/);
  t.match(text, /========= end of log file =========\r\n$/);
  const again = await runInProcess(['query', '-local', '--no-modules', '-l', log]);
  t.equal(again.code, 73, 'an existing log without -y');
  t.match(again.stderr, /already exists: add -y/);
  const watch = await runInProcess(['query', '-wport', '1', '-wt', '0.1', '--duration', '300ms', '-l', log, '-y', '--json']);
  t.equal(watch.code, 0, '-wport -l -y: exit 0');
  t.match(fs.readFileSync(log, 'utf8'), /Watching TCP\/UDP port 1 every 0\.1 s[\s\S]*end of log file/);
  const slow = await runInProcess(['query', '-n', '127.0.0.1', '-e', '1', '-nr', '-s', '--json']);
  t.equal(slow.code, 1, '-s (slow link) accepted: NOT LISTENING');
  t.equal(slow.stderr, '');
});
