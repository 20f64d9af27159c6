import t from 'tap';
import type { PortqryContext } from '../../../commands/BaseCommand';
import { RecordCommand } from '../../../commands/RecordCommand';
import { translateLegacyArgv } from '../../../src/argv';
import { getCli } from '../../../src/cli';
import {
  recorderArguments,
  splitSystemdCommandLine,
  splitWindowsCommandLine,
  systemdCommandLine,
  windowsCommandLine,
  type RecorderLaunchOptions,
} from '../../../src/service/command-line';

/** The real parser: what the service process does with its command line. */
function parse(args: string[]): RecorderLaunchOptions & { service: boolean } {
  const command = getCli().process(translateLegacyArgv(args), {} as PortqryContext);
  if (!(command instanceof RecordCommand)) throw new Error('not a record command');
  return {
    logDir: command.logDir!,
    logSizeKb: Number(command.logSize),
    rotate: command.rotate,
    interval: command.interval,
    jsonl: command.jsonl,
    modules: command.modules ?? true,
    ...(command.keep === undefined ? {} : { keep: command.keep }),
    ...(command.maxTotal === undefined ? {} : { maxTotal: command.maxTotal }),
    ...(command.destroyEvents ? {} : { destroyEvents: false }),
    ...(command.criteria === undefined ? {} : { criteria: command.criteria, alertsPerMinute: command.alertsPerMinute }),
    service: command.service,
  };
}

const CASES: RecorderLaunchOptions[] = [
  { logDir: 'C:\\Windows\\System32\\LogFiles\\PortReporter', logSizeKb: 5000, rotate: 'start,size', interval: '1s', jsonl: false, modules: true },
  { logDir: 'C:\\Port Logs\\', logSizeKb: 1, rotate: 'daily', interval: '250ms', jsonl: true, modules: false },
  { logDir: 'D:\\logs "quoted"\\x', logSizeKb: 4_194_304, rotate: 'none', interval: '5m', jsonl: true, modules: true },
  { logDir: 'C:\\a\\\\b\\\\', logSizeKb: 42, rotate: 'start,daily,size', interval: '1.5', jsonl: false, modules: false },
  { logDir: '/var/log/pq logs/100%', logSizeKb: 2000, rotate: 'start,size', interval: '1s', jsonl: true, modules: true },
  { logDir: 'C:\\PortLogs', logSizeKb: 5000, rotate: 'daily,size', interval: '1s', keep: '30', maxTotal: '2GB', jsonl: true, modules: true, destroyEvents: false, criteria: 'C:\\Program Files\\portqry-ts\\criteria.json', alertsPerMinute: '5' },
  { logDir: '/var/log/it\'s "here"', logSizeKb: 7, rotate: 'size', interval: '100ms', jsonl: false, modules: true },
];

t.test('Port Reporter spelling in what services.msc and systemctl show', async (t) => {
  t.same(recorderArguments(CASES[0]!, { service: true }), ['record', '--service', '-ld', 'C:\\Windows\\System32\\LogFiles\\PortReporter', '-ls', '5000', '--rotate', 'start,size', '--interval', '1s']);
  t.same(recorderArguments(CASES[1]!, { service: false }), ['record', '-ld', 'C:\\Port Logs\\', '-ls', '1', '--rotate', 'daily', '--interval', '250ms', '--jsonl', '--no-modules']);
});

t.test('Windows command line: the program always quoted (no unquoted service path), arguments split back by CommandLineToArgvW rules', async (t) => {
  t.equal(windowsCommandLine(['C:\\Program Files\\portqry-ts\\portqry-ts.exe', 'record', '-ld', 'C:\\Port Logs\\']), '"C:\\Program Files\\portqry-ts\\portqry-ts.exe" record -ld "C:\\Port Logs\\\\"');
  t.equal(windowsCommandLine(['C:\\pq\\portqry-ts.exe']), '"C:\\pq\\portqry-ts.exe"');
  t.throws(() => windowsCommandLine(['C:\\a"b.exe']), /double quote/);
  // Microsoft's documented examples (Parsing C command-line arguments).
  t.same(splitWindowsCommandLine('x.exe "a b c" d e'), ['x.exe', 'a b c', 'd', 'e']);
  t.same(splitWindowsCommandLine('x.exe "ab\\"c" "\\\\" d'), ['x.exe', 'ab"c', '\\', 'd']);
  t.same(splitWindowsCommandLine('x.exe a\\\\\\b d"e f"g h'), ['x.exe', 'a\\\\\\b', 'de fg', 'h']);
  t.same(splitWindowsCommandLine('x.exe a\\\\\\"b c d'), ['x.exe', 'a\\"b', 'c', 'd']);
  t.same(splitWindowsCommandLine('x.exe a\\\\\\\\"b c" d e'), ['x.exe', 'a\\\\b c', 'd', 'e']);
  t.same(splitWindowsCommandLine('"C:\\Program Files\\a.exe" b'), ['C:\\Program Files\\a.exe', 'b']);
});

t.test('round trip: parse(rebuild(options)) == options, Windows service command line and systemd ExecStart', async (t) => {
  for (const opts of CASES) {
    const win = windowsCommandLine(['C:\\Program Files\\portqry-ts\\portqry-ts.exe', ...recorderArguments(opts, { service: true })]);
    const [program, ...args] = splitWindowsCommandLine(win);
    t.equal(program, 'C:\\Program Files\\portqry-ts\\portqry-ts.exe');
    t.same(parse(args), { ...opts, service: true }, `Windows: ${win}`);

    const unit = systemdCommandLine(['/usr/local/bin/portqry ts', ...recorderArguments(opts, { service: false })]);
    const [exe, ...unitArgs] = splitSystemdCommandLine(unit);
    t.equal(exe, '/usr/local/bin/portqry ts');
    t.same(parse(unitArgs), { ...opts, service: false }, `systemd: ${unit}`);
  }
});
