import { Option } from 'clipanion';
import { reverseResolverEnv } from '../src/dns/reverse';
import { UsageError } from '../src/errors';
import { sanitizeLine } from '../src/output/sanitize';
import { createStyle } from '../src/output/style';
import { type CriteriaMatcher, loadCriteria } from '../src/portreporter/criteria';
import { FILTER_DEFINITIONS, type FilterOptions } from '../src/portreporter/filter';
import { readInputsFile } from '../src/portreporter/inputs';
import type { ReadOptions, SkippedLine } from '../src/portreporter/read';
import { parseUtcOffset } from '../src/portreporter/time';
import { BaseCommand, listOption, parseIntegerOption } from './BaseCommand';

/** Warnings shown one by one before the rest are only counted. */
const WARNINGS_SHOWN = 10;

/**
 * What `parse` and `stats` share: the inputs, the filters, criteria, name resolution and how
 * unreadable lines are reported. Both hand readOptions() to src/portreporter/read.ts.
 */
export abstract class PortReporterInputCommand extends BaseCommand {
  inputs = Option.Rest({ name: 'path' });
  inputsFile = Option.String('--inputs-file', { description: 'Also read the inputs listed in this file, one path per line (UTF-8, or UTF-16 with BOM): for more than a command line holds' });

  computer = Option.String('--computer', { description: 'Computer name for logs that do not say (default: the PR-PIDS header, else the folder name)' });
  utcOffset = Option.String('--utc-offset', { description: "The logs' time zone as an offset (+02:00, -0500, UTC); default: this machine's zone" });

  criteria = Option.String('--criteria', { description: 'JSON file of criteria of interest (schemas/criteria.schema.json); matching records get Flagged and FlagReasons' });
  flaggedOnly = Option.Boolean('--flagged-only', false, { description: 'Only records that match the criteria' });
  failOnFlag = Option.Boolean('--fail-on-flag', false, { description: 'Exit with code 3 when a record matches the criteria (for scheduled checks)' });

  resolve = Option.Boolean('--resolve', false, { description: 'Reverse DNS of remote addresses into RemoteHostName (cached, concurrent)' });
  resolveTimeout = Option.String('--resolve-timeout', '2000', { description: 'The longest wait for one remote address\'s name, in ms (default 2000, 1-60000): the hosts file, then DNS with one try and this timeout whatever the system\'s resolver settings; no name in time = null. Lookups still pending when the last record is out are cancelled' });

  strict = Option.Boolean('--strict', false, { description: 'An unreadable line is an error (exit 65) instead of a skipped line' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'No warnings on stderr about skipped lines' });

  constructor() {
    super();
    // The 11 filters come from their one definition (src/portreporter/filter.ts); clipanion reads the
    // option fields of an instance, so they are declared here, one per row.
    for (const f of FILTER_DEFINITIONS) {
      (this as unknown as Record<string, unknown>)[f.key] = f.list ? listOption(f.option, { description: f.description }) : Option.String(f.option, { description: f.description });
    }
  }

  /** The filter options as given (after clipanion filled the fields declared above). */
  protected filters(): FilterOptions {
    const self = this as unknown as Record<string, string | string[] | undefined>;
    return Object.fromEntries(FILTER_DEFINITIONS.map((f) => [f.key, self[f.key]])) as FilterOptions;
  }

  private skipped = 0;
  private skippedFiles = new Set<string>();
  private criteriaMatcher: CriteriaMatcher | undefined;

  /** The inputs: the paths given, then those of --inputs-file; at least one. */
  protected allInputs(): string[] {
    const all = [...this.inputs, ...(this.inputsFile === undefined ? [] : readInputsFile(this.inputsFile))];
    if (all.length === 0) throw new UsageError('no input: give a file, folder, wildcard or - (stdin), or --inputs-file FILE');
    return all;
  }

  /** Options for readPortReporterBatches; throws UsageError/DataError for bad option values. */
  protected readOptions(): ReadOptions {
    const utcOffsetMinutes = this.utcOffset === undefined ? undefined : parseUtcOffset(this.utcOffset);
    if (this.computer !== undefined && this.computer.trim() === '') throw new UsageError("invalid --computer '': expected a computer name");
    if ((this.flaggedOnly || this.failOnFlag) && !this.criteria) throw new UsageError(`${this.flaggedOnly ? '--flagged-only' : '--fail-on-flag'} needs --criteria FILE`);
    const resolveTimeoutMs = parseIntegerOption('--resolve-timeout', this.resolveTimeout, 1, 60000);
    this.criteriaMatcher = this.criteria ? loadCriteria(this.criteria) : undefined;
    return {
      stdin: this.context.io.stdin,
      utcOffsetMinutes,
      computer: this.computer?.trim(),
      filter: this.filters(),
      criteria: this.criteriaMatcher,
      flaggedOnly: this.flaggedOnly,
      resolve: this.resolve || this.filters().host !== undefined || this.criteriaMatcher?.needsNames ? { timeoutMs: resolveTimeoutMs, ...reverseResolverEnv(this.context.io.env) } : false,
      strict: this.strict,
      exclude: this.outputPaths(),
      excludeFiles: this.context.io.stdoutFile ? [this.context.io.stdoutFile] : [],
      onSkip: (skip) => this.onSkip(skip),
    };
  }

  /**
   * A skipped line is a warning: the command still succeeds (exit 0) but did not read everything, which
   * the user must learn. The first few are named (file:line: reason), the rest counted in one summary
   * line at the end; --quiet silences both (PowerShell with $ErrorActionPreference = 'Stop' and 2>&1
   * turns any stderr line into an error), --strict turns the first one into an error.
   */
  private onSkip(skip: SkippedLine): void {
    this.skipped++;
    this.skippedFiles.add(skip.file);
    if (this.quiet || this.skipped > WARNINGS_SHOWN) return;
    this.warn(`${skip.file}:${skip.line}: skipped: ${skip.reason}`);
  }

  /** Files this command writes, which its inputs must never include. */
  protected outputPaths(): string[] {
    return this.outFile === undefined ? [] : [this.outFile];
  }

  /** The summary line, after the records. */
  protected reportSkipped(): void {
    if (this.quiet || this.skipped === 0) return;
    const files = this.skippedFiles.size;
    const more = this.skipped > WARNINGS_SHOWN ? ` (${this.skipped - WARNINGS_SHOWN} not shown)` : '';
    this.warn(`skipped ${this.skipped} unreadable line${this.skipped === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}${more}; --strict makes this an error, --quiet hides it`);
  }

  private warn(text: string): void {
    const io = this.context.io;
    io.clearProgress();
    io.stderr.write(`${createStyle(io.colorStderr).warn('portqry-ts: warning:')} ${sanitizeLine(text)}\n`);
  }
}
