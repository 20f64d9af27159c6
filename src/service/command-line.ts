/**
 * The command line a boot-time recorder runs with: the one place that turns the options given to
 * `record --install` back into arguments (the Windows service's binPath, the systemd unit's ExecStart).
 * Pure: tested for quoting (paths with spaces, quotes, trailing backslashes) and for the round trip
 * parse(rebuild(options)) == options through the real command-line parser.
 */

/** What an installed recorder is started with; every field is written out, so a default that changes later does not change an installed service. */
export interface RecorderLaunchOptions {
  /** Absolute log directory (Port Reporter -ld). */
  logDir: string;
  /** Port Reporter -ls, in KB. */
  logSizeKb: number;
  /** --rotate as given (start,size by default). */
  rotate: string;
  /** --interval as given (1s by default). */
  interval: string;
  /** --keep N (log sets kept) as given, when given. */
  keep?: string;
  /** --max-total SIZE as given, when given. */
  maxTotal?: string;
  jsonl: boolean;
  modules: boolean;
  /** Linux: sock_diag destroy events (--no-destroy-events when false; absent: the default, on). */
  destroyEvents?: boolean;
  /** --criteria FILE (absolute), with --alerts-per-minute as given. */
  criteria?: string;
  alertsPerMinute?: string;
}

/**
 * `record` plus the options, with Port Reporter's spelling for the two it had (`-ld`, `-ls`), so an
 * admin who reads the service's command line in services.msc recognises it. `service` adds the hidden
 * `--service` switch that makes the process talk to the Windows service control manager.
 */
export function recorderArguments(options: RecorderLaunchOptions, mode: { service: boolean }): string[] {
  return [
    'record',
    ...(mode.service ? ['--service'] : []),
    '-ld',
    options.logDir,
    '-ls',
    String(options.logSizeKb),
    '--rotate',
    options.rotate,
    '--interval',
    options.interval,
    ...(options.keep === undefined ? [] : ['--keep', options.keep]),
    ...(options.maxTotal === undefined ? [] : ['--max-total', options.maxTotal]),
    ...(options.jsonl ? ['--jsonl'] : []),
    ...(options.modules ? [] : ['--no-modules']),
    ...(options.destroyEvents === false ? ['--no-destroy-events'] : []),
    ...(options.criteria === undefined ? [] : ['--criteria', options.criteria, '--alerts-per-minute', options.alertsPerMinute ?? '10']),
  ];
}

/**
 * Quotes one argument so that CommandLineToArgvW (and so Node's process.argv on Windows) splits it back
 * unchanged: https://learn.microsoft.com/cpp/c-language/parsing-c-command-line-arguments
 * (backslashes are literal unless they precede a double quote; 2n backslashes + quote = n backslashes + delimiter).
 */
export function windowsQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

/**
 * A full Windows command line: the program path always in double quotes (an unquoted path with spaces
 * is the "unquoted service path" weakness, CWE-428: `C:\Program.exe` would run first), then the
 * arguments quoted for CommandLineToArgvW. A program path cannot contain `"` on Windows.
 */
export function windowsCommandLine(argv: readonly string[]): string {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error('empty command line');
  if (program.includes('"')) throw new Error(`a program path cannot contain a double quote: ${program}`);
  return [`"${program}"`, ...args.map(windowsQuote)].join(' ');
}

/**
 * Splits a command line the way CommandLineToArgvW does for arguments after the program name (the
 * program name itself: up to the closing quote, or the first white space, with no escapes). Used by
 * the tests to prove the round trip, and by `record --uninstall --dry-run` to show what is installed.
 */
export function splitWindowsCommandLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  // argv[0]
  while (line[i] === ' ' || line[i] === '\t') i++;
  let program = '';
  if (line[i] === '"') {
    i++;
    while (i < line.length && line[i] !== '"') program += line[i++];
    i++;
  } else {
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') program += line[i++];
  }
  out.push(program);
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    let arg = '';
    let quoted = false;
    while (i < line.length) {
      const c = line[i]!;
      if (c === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(n);
        }
        continue;
      }
      if (c === '"') {
        // "" inside quotes is a literal quote (the post-2008 msvcrt rule).
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
          continue;
        }
        quoted = !quoted;
        i++;
        continue;
      }
      if (!quoted && (c === ' ' || c === '\t')) break;
      arg += c;
      i++;
    }
    out.push(arg);
  }
  return out;
}

/** Quotes one ExecStart argument for systemd: double quotes when needed, `%` doubled (specifiers). */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (escaped !== '' && !/[\s"'\\;$]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The ExecStart= value for a command (systemd.service(5) "Command lines"). */
export function systemdCommandLine(argv: readonly string[]): string {
  return argv.map(systemdQuote).join(' ');
}

/** Splits an ExecStart= value back (double quotes with C escapes, `%%`): the inverse of systemdCommandLine for what it writes. */
export function splitSystemdCommandLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let arg = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        arg += line[i++];
      }
      i++;
    } else {
      while (i < line.length && line[i] !== ' ') arg += line[i++];
    }
    out.push(arg.replace(/%%/g, '%'));
  }
  return out;
}
