import * as fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { fileError, UsageError } from '../src/errors';
import { ExitCode } from '../src/exit-codes';
import { readPortReporterBatches } from '../src/portreporter/read';
import { StatsEngine } from '../src/stats/engine';
import { renderHtmlReport } from '../src/stats/html';
import { findStatistic, STATISTICS, STATISTIC_NAMES } from '../src/stats/registry';
import { processKey, type StatisticDefinition } from '../src/stats/statistic';
import { VERSION } from '../src/version';
import { parseIntegerOption } from './BaseCommand';
import { PortReporterInputCommand } from './PortReporterInputCommand';

/** The process of the process-by-user report when --process is not given: the original's report. */
const DEFAULT_REPORTED_PROCESS = 'iexplore.exe';

export class StatsCommand extends PortReporterInputCommand {
  static paths = [['stats']];
  static usage = Command.Usage({
    description: 'Statistics over Port Reporter logs: port, process, remote address and user usage, svchost.exe services, peak hours (Port Reporter Parser)',
    details: `
      Reads the same inputs as \`parse\` (files, folders, wildcards, \`-\` for stdin, \`--inputs-file\` lists; original Port Reporter logs and ours) with the same filters, and counts in one pass with memory that grows with the number of distinct ports, processes and addresses, never with the size of the logs.

      Each statistic is one kind of record (schemas/stat-NAME.schema.json) with a \`Statistic\` column naming it; \`--statistic NAME\` picks some (repeatable or comma-separated; default all). CSV holds one kind, so \`--format csv\` needs exactly one \`--statistic\`. \`--html FILE\` writes one self-contained page with the tables and charts (no network needed to view it); records then go to stdout only when \`--format\`, \`--json\` or \`--out-file\` is given too.

      What is counted: a record is one port use, a row of PR-PORTS or PR-INITIAL or an Opened event of our event log (Closed events are not counted again). "% of time" (PercentOfTime) is the share of observed hours, the clock hours in which at least one record was logged, that have at least one record of the port, process or address; ActiveHours is that number of hours. Port Reporter logs new endpoints only, not how long they lived, so this is how regularly something is used, not a duration. Figures cover all computers read together (ComputerName null) unless \`--per-computer\` computes each computer on its own.

${STATISTICS.map((s) => `      - \`${s.name}\`: ${s.definition.replace(/`/g, "'")}`).join('\n\n')}
    `,
    examples: [
      ['Every statistic as tables, for one server', '$0 stats C:\\Windows\\System32\\LogFiles\\PortReporter --format table'],
      ['A report to open in a browser, for fifty servers read together', '$0 stats \\\\fs01\\prlogs\\* --html report.html'],
      ['Process usage as PowerShell objects', "$0 stats C:\\PRLogs --statistic process-usage --json | ConvertFrom-Json | Sort-Object PercentOfTime -Descending"],
      ['svchost.exe services to Excel', '$0 stats C:\\PRLogs --statistic svchost --format csv --out-file svchost.csv'],
      ["Who reached which sites with a browser (the original's iexplore.exe report)", '$0 stats C:\\PRLogs --statistic process-by-user --process msedge.exe --format table'],
      ['New listeners since Monday, per server', '$0 stats D:\\logs --statistic new-listener --since 2026-11-23 --per-computer --format table'],
    ],
  });

  statistic = Option.Array('--statistic', { description: `Statistics to compute (repeatable or comma-separated; default all): ${STATISTIC_NAMES.join(', ')}` });
  perComputer = Option.Boolean('--per-computer', false, { description: 'Compute every statistic for each computer on its own (ComputerName set) instead of over all of them' });
  top = Option.String('--top', { description: 'Rows per ranked statistic (endpoints per process for process-endpoint, whose default is 10; the newest for new-listener); default all' });
  html = Option.String('--html', { description: 'Also write a self-contained HTML report with tables and charts to this file' });

  async run(): Promise<number> {
    const statistics = this.selectedStatistics();
    const top = this.top === undefined ? undefined : parseIntegerOption('--top', this.top, 1, 10_000_000);
    const writeRecords = !this.html || this.format !== undefined || this.json || this.outFile !== undefined;
    if (writeRecords && statistics.length > 1 && (this.format === 'csv')) {
      throw new UsageError(`--format csv holds one statistic: choose it with --statistic NAME (${STATISTIC_NAMES.join(', ')})`);
    }
    const reported = this.process && this.process.length > 0 ? undefined : DEFAULT_REPORTED_PROCESS;
    const engine = new StatsEngine(statistics, {
      top,
      perComputer: this.perComputer,
      // With --process the reader has already kept only that process; without it, the original's report.
      isReportedProcess: reported === undefined ? () => true : (name) => processKey(name) === reported,
    });
    const inputs = this.allInputs();
    let flagged = false;
    for await (const batch of readPortReporterBatches(inputs, this.readOptions())) {
      for (const record of batch) {
        if (record.Flagged) flagged = true;
        engine.add(record);
      }
    }
    this.reportSkipped();
    const results = engine.results();

    if (this.html) {
      const page = renderHtmlReport(results, {
        generatedUtc: new Date().toISOString(),
        version: VERSION,
        inputs,
        filters: this.filterArguments(),
        records: engine.records,
      });
      try {
        fs.writeFileSync(this.html, page);
      } catch (err) {
        throw fileError(err, this.html, true);
      }
    }
    if (writeRecords) {
      results.forEach(({ statistic, rows }, i) => {
        if (i > 0) this.output.note(['']);
        for (const row of rows) this.output.write(statistic.kind, row);
      });
    } else {
      this.output.note([`HTML report written to ${this.html}`]);
    }
    return flagged && this.failOnFlag ? ExitCode.Flagged : ExitCode.Ok;
  }

  private selectedStatistics(): StatisticDefinition[] {
    if (!this.statistic || this.statistic.length === 0) return [...STATISTICS];
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

  /** The filters as typed, for the report header. */
  private filterArguments(): string[] {
    const out: string[] = [];
    const add = (flag: string, values: string | string[] | undefined) => {
      for (const v of Array.isArray(values) ? values : values === undefined ? [] : [values]) out.push(flag, v);
    };
    add('--protocol', this.protocol);
    add('--port', this.port);
    add('--local-port', this.localPort);
    add('--remote-port', this.remotePort);
    add('--process', this.process);
    add('--module', this.module);
    add('--ip', this.ip);
    add('--user', this.user);
    add('--host', this.host);
    add('--since', this.since);
    add('--until', this.until);
    if (this.flaggedOnly) out.push('--flagged-only');
    return out;
  }
}
