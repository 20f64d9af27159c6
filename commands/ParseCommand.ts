import { Command } from 'clipanion';
import { PortReporterInputCommand } from './PortReporterInputCommand';

export class ParseCommand extends PortReporterInputCommand {
  static paths = [['parse']];
  static usage = Command.Usage({
    description: 'Read Port Reporter logs, correlate, filter and flag them (Port Reporter Parser)',
    details: `
      Reads PR-PORTS, PR-INITIAL and PR-PIDS logs of Microsoft's Port Reporter 1.01 and of \`portqry-ts record\`, and our JSON Lines event log (PR-EVENTS-*.jsonl). The kind of each file is read from its header, not its name. UTF-8, UTF-16LE (with BOM) and ANSI (Windows-1252) files, CRLF or LF, a cut-off last line and headers repeated inside concatenated files are all fine.

      Inputs are files, folders (read recursively, natural order: PR-PORTS-05-07-9-… before PR-PORTS-05-07-10-…), wildcards (expanded by portqry-ts, since cmd.exe and PowerShell pass them on unexpanded; \`**\` spans folders) and \`-\` for stdin. A file named on the command line must be a Port Reporter log (exit 65 otherwise); other files in a folder or matching a wildcard are passed over.

      Each PR-PORTS row becomes one PortReporterRecord (schemas/port-reporter-record.schema.json), joined with the process detail (path, command line, services, modules, start time) of the PR-PIDS file its header names, when that file is beside it. PR-INITIAL gives one record per endpoint at service start (Event Initial); PR-PIDS files are only process detail and yield no records of their own. ComputerName comes from the PR-PIDS header, else --computer, else the folder's name.

      Filters combine with AND; the values of one filter (repeated, or a comma list) with OR. Names match case-insensitively with * and ? wildcards.

      --criteria flags records of interest, as the original parser highlighted them: Flagged and FlagReasons in every format, red rows in text and table on a terminal. Known Windows processes (svchost.exe, lsass.exe, ...) running from an unexpected folder are flagged whenever --criteria is given (see schemas/criteria.schema.json).

      --resolve asks the system resolver for the name of each remote address (once per address, 16 at a time, --resolve-timeout each); output keeps its order.

      A line that cannot be read is skipped: the first ten are named on stderr (file:line: reason) and one summary line follows; the exit code stays 0. --quiet hides these warnings; --strict stops at the first one with exit 65 (a cut-off last line, as a running recorder leaves, is only skipped).

      The command's own output is never read back: the --out-file and the file stdout is redirected to (cmd.exe or sh \`>\`) are passed over in folders and wildcards, and refused when named (exit 64). Prefer --out-file to PowerShell's \`>\` into a folder being read (PowerShell writes that file itself, by a pipe).

      Exit codes: 0 success, 3 a record matched the criteria with --fail-on-flag, 64 bad option or an input that is also the output, 65 not a Port Reporter log or (--strict) a bad line, 66 an input does not exist.

      JSON Lines and CSV stream in constant memory whatever the input size; table output keeps all rows to size its columns.

      Threads: on two cores or more, a PR-PORTS file of 64 MB or more written as --format jsonl|json without filters, --criteria, --resolve or --strict is parsed by two worker threads (the same output, in order; about 1.3 times faster for 20-30 % more CPU). The environment variable PORTQRY_PARSE_WORKERS=0 keeps one thread (e.g. \$env:PORTQRY_PARSE_WORKERS = '0' in PowerShell); PORTQRY_PARSE_WORKERS=N sets the number of workers, for any file (docs/parse-stats.md, "Threads").
    `,
    examples: [
      ['Every port use in a folder of logs, as PowerShell objects', '$0 parse C:\\Windows\\System32\\LogFiles\\PortReporter --json | ConvertFrom-Json'],
      ['An Excel sheet of the RDP connections of several servers', '$0 parse \\\\srv01\\logs\\* \\\\srv02\\logs\\* --port 3389 --format csv --out-file rdp.csv'],
      ['svchost.exe talking to outside addresses since Monday', '$0 parse PR-PORTS-*.log --process svchost.exe --ip 0.0.0.0/0 --since 2026-11-23 --format table'],
      ['Scheduled check: exit 3 when something of interest shows up', '$0 parse D:\\logs --criteria criteria.json --flagged-only --fail-on-flag --json'],
      ['Hundreds of logs listed in a file (one path per line), beyond the command-line limit', '$0 parse --inputs-file logs.txt --json'],
      ['Names of remote hosts, read from a pipe', 'type PR-PORTS-05-07-6-13-44-4.log | $0 parse - --computer SRV01 --resolve'],
    ],
  });

  async run(): Promise<number> {
    // Imported when it runs: the startup snapshot holds parse's options only (docs/benchmarks.md, startup).
    const { runParse } = await import('../src/portreporter/run-parse');
    const code = await runParse(this.allInputs(), this.readOptions(), this.output, this.failOnFlag);
    this.reportSkipped();
    return code;
  }
}
