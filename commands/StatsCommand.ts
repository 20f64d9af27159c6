import { Command, Option } from 'clipanion';
import { UsageError } from '../src/errors';
import { checkOutFile } from '../src/output/emitter';
import { filterArguments } from '../src/portreporter/filter';
import { findStatistic, STATISTICS, STATISTIC_NAMES } from '../src/stats/registry';
import { DEFAULT_REPORTED_PROCESS } from '../src/stats/statistics/process-by-user';
import type { StatisticDefinition } from '../src/stats/statistic';
import { listOption, parseIntegerOption } from './BaseCommand';
import { PortReporterInputCommand } from './PortReporterInputCommand';

// Counting, the HTML report and --partial are imported when they run (`await import`): the startup
// snapshot holds stats' options and the statistics' names only (docs/benchmarks.md, startup).

export class StatsCommand extends PortReporterInputCommand {
  static paths = [['stats']];
  static usage = Command.Usage({
    description: 'Statistics over Port Reporter logs: port, process, remote address and user usage, svchost.exe services, peak hours (Port Reporter Parser)',
    details: `
      Reads the same inputs as \`parse\` (files, folders, wildcards, \`-\` for stdin, \`--inputs-file\` lists; original Port Reporter logs and ours) with the same filters, and counts in one pass with memory that grows with the number of distinct ports, processes and addresses, never with the size of the logs.

      Each statistic is one kind of record (schemas/stat-NAME.schema.json) with a \`Statistic\` column naming it; \`--statistic NAME\` picks some (repeatable or comma-separated; default all). CSV holds one kind, so \`--format csv\` needs exactly one \`--statistic\`. \`--html FILE\` writes one self-contained page with the tables and charts (no network needed to view it); records then go to stdout only when \`--format\`, \`--json\` or \`--out-file\` is given too.

      What is counted: a record is one port use, a row of PR-PORTS or PR-INITIAL or an Opened event of our event log (Closed events are not counted again). "% of time" (PercentOfTime) is the share of observed hours, the clock hours in which at least one record was logged, that have at least one record of the port, process or address; ActiveHours is that number of hours. Port Reporter logs new endpoints only, not how long they lived, so this is how regularly something is used, not a duration. Figures cover all computers read together (ComputerName null) unless \`--per-computer\` computes each computer on its own.

      Fleets: \`--partial\` writes one small mergeable summary of the logs it read (schemas/stats-partial.schema.json) instead of the statistics; \`--merge\` reads any number of summaries (files, or \`-\` for stdin, one per line) and writes the records one run over all those logs gives, so each server counts its own logs and only summaries cross the network. Counts merge exactly; a statistic whose bounded tables dropped keys (more than 40,000 remote addresses, for one) says so in the partial's \`Approximate\` and stays approximate after the merge. Filters, \`--criteria\` and \`--process\` are given when making the partials and must be the same for all of them; \`--statistic\`, \`--top\`, \`--per-computer\`, \`--html\` and the formats are given to the merge.

      Threads: one by default. The environment variable PORTQRY_STATS_WORKERS=1 (\$env:PORTQRY_STATS_WORKERS = '1' in PowerShell) counts half of the statistics on a second thread, for large logs on a server with two free cores and memory to spare: the same output, 25-37 % less time, 25-30 MB more memory at the peak (docs/parse-stats.md, "Threads"). Not with --partial, --html, --criteria, --resolve or a single --statistic.

${STATISTICS.map((s) => `      - \`${s.name}\`: ${s.definition.replace(/`/g, "'")}`).join('\n\n')}
    `,
    examples: [
      ['Every statistic as tables, for one server', '$0 stats C:\\Windows\\System32\\LogFiles\\PortReporter --format table'],
      ['A report to open in a browser, for fifty servers read together', '$0 stats \\\\fs01\\prlogs\\* --html report.html'],
      ['Process usage as PowerShell objects', "$0 stats C:\\PRLogs --statistic process-usage --json | ConvertFrom-Json | Sort-Object PercentOfTime -Descending"],
      ['svchost.exe services to Excel', '$0 stats C:\\PRLogs --statistic svchost --format csv --out-file svchost.csv'],
      ["Who reached which sites with a browser (the original's iexplore.exe report)", '$0 stats C:\\PRLogs --statistic process-by-user --process msedge.exe --format table'],
      ['New listeners since Monday, per server', '$0 stats D:\\logs --statistic new-listener --since 2026-11-23 --per-computer --format table'],
      ['A summary on each server, merged at the console', '$0 stats C:\\PRLogs --partial --out-file \\\\console\\drop\\%COMPUTERNAME%.json  &  $0 stats --merge \\\\console\\drop\\*.json --format table'],
      ['The same through PowerShell remoting', "Invoke-Command -Session $s { portqry-ts stats C:\\PRLogs --partial } | portqry-ts stats --merge - --statistic remote-address --top 20"],
      ['A large log on two threads (two free cores and memory to spare)', "$env:PORTQRY_STATS_WORKERS = '1'; $0 stats D:\\PRLogs\\big --format table; Remove-Item Env:\\PORTQRY_STATS_WORKERS"],
    ],
  });

  statistic = listOption('--statistic', { description: `Statistics to compute (repeatable or comma-separated; default all): ${STATISTIC_NAMES.join(', ')}` });
  perComputer = Option.Boolean('--per-computer', false, { description: 'Compute every statistic for each computer on its own (ComputerName set) instead of over all of them' });
  top = Option.String('--top', { description: 'Rows per ranked statistic (endpoints per process for process-endpoint, whose default is 10; the newest for new-listener); default all' });
  html = Option.String('--html', { description: 'Also write a self-contained HTML report with tables and charts to this file' });

  partial = Option.Boolean('--partial', false, { description: 'Write one mergeable summary (JSON, schemas/stats-partial.schema.json) instead of the statistics, for --merge at a console' });
  merge = Option.Boolean('--merge', false, { description: 'The inputs are summaries written by --partial (files, or - for stdin): combine them into the statistics one run over all their logs gives' });

  async run(): Promise<number> {
    if (this.partial && this.merge) throw new UsageError('--partial and --merge cannot be used together');
    const statistics = this.selectedStatistics();
    if (this.html !== undefined) checkOutFile(this.html, this.force);
    const top = this.top === undefined ? undefined : parseIntegerOption('--top', this.top, 1, 10_000_000);
    const writeRecords = !this.html || this.format !== undefined || this.json || this.outFile !== undefined;
    if (this.partial && (this.html || (this.format !== undefined && this.format !== 'jsonl' && this.format !== 'json'))) {
      throw new UsageError(`--partial writes JSON: it goes with --format json or jsonl (or none), not ${this.html ? '--html' : `--format ${this.format}`}`);
    }
    const filterOptions = this.filters();
    const filters = filterArguments(filterOptions);
    if (this.merge) {
      const filter = [...filters, ...(this.criteria ? ['--criteria'] : []), ...(this.resolve ? ['--resolve'] : [])][0];
      if (filter) throw new UsageError(`${filter} cannot be used with --merge: the partials were counted already; give it when making them with --partial`);
    }
    const reportedProcess = filterOptions.process && filterOptions.process.length > 0 ? null : DEFAULT_REPORTED_PROCESS;
    const inputs = this.allInputs();
    const [{ runStats }, { readPortReporterBatches }] = await Promise.all([import('../src/stats/run'), import('../src/portreporter/read')]);
    return runStats(
      {
        statistics,
        top,
        perComputer: this.perComputer,
        reportedProcess,
        mode: this.partial ? 'partial' : this.merge ? 'merge' : 'stats',
        html: this.html,
        force: this.force,
        writeRecords,
        inputs,
        filters,
        readBatches: (prepare) => {
          const options = this.readOptions();
          return readPortReporterBatches(inputs, prepare ? { ...options, prepareSources: (sources) => prepare(options, sources) } : options);
        },
        afterRead: () => this.reportSkipped(),
        stdin: this.context.io.stdin,
        failOnFlag: this.failOnFlag,
      },
      this.output,
    );
  }

  protected override async outputKinds() {
    if (this.partial) return { kinds: [(await import('../src/stats/partial')).statsPartialKind] };
    return { kinds: (this.selectedStatistics() ?? STATISTICS).map((s) => s.kind), hint: `choose one with --statistic NAME (${STATISTIC_NAMES.join(', ')})` };
  }

  protected outputPaths(): string[] {
    return [...super.outputPaths(), ...(this.html === undefined ? [] : [this.html])];
  }

  /** --statistic as chosen, in the registry's order; undefined when not given (all; with --merge, all the partials hold). */
  private selectedStatistics(): StatisticDefinition[] | undefined {
    if (!this.statistic || this.statistic.length === 0) return undefined;
    const names = this.statistic.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    const chosen = new Set<StatisticDefinition>();
    for (const name of names) {
      const statistic = findStatistic(name);
      if (!statistic) throw new UsageError(`invalid --statistic '${name}': expected one of ${STATISTIC_NAMES.join(', ')}`);
      chosen.add(statistic);
    }
    // Output in the registry's order whatever order they were asked in.
    return STATISTICS.filter((s) => chosen.has(s));
  }

}
