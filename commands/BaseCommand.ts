import { type BaseContext, Command, Option } from 'clipanion';
import * as t from 'typanion';
import { PortqryError, UsageError, writeError } from '../src/errors';
import { ExitCode } from '../src/exit-codes';
import { checkCsvKinds, checkOutFile, FORMATS, openOutput, type Output, resolveFormat } from '../src/output/emitter';
import type { RecordKind } from '../src/output/record-kind';
import type { IOStreams } from '../src/output/iostreams';
import { sanitizeLine } from '../src/output/sanitize';
import { createStyle } from '../src/output/style';

/** clipanion's context plus our IOStreams: commands reach stdout/stderr only through it. */
export type PortqryContext = BaseContext & {
  io: IOStreams;
  /** The command line as typed (before the PortQry spelling is translated), e.g. for query's -l log header. */
  argv?: readonly string[];
};

/**
 * Options that take several values (repeated, or a comma list): the rest take one, and giving one of
 * those twice is a usage error (src/usage.ts). listOption() is the one way to declare such an option.
 */
export const REPEATABLE_OPTIONS = new WeakSet<object>();

export function listOption(names: string, options: { description: string }) {
  const option = Option.Array(names, options);
  REPEATABLE_OPTIONS.add(option as unknown as object);
  return option;
}

/**
 * Options every command shares (clipanion has no global options, so they are inherited), and the
 * template method that turns whatever a command throws into one stderr line and an exit code.
 * Subclasses implement run() and write records to this.output.
 */
export abstract class BaseCommand extends Command<PortqryContext> {
  format = Option.String('--format', {
    description: 'Output format: text, table, json, jsonl or csv (default: text on a terminal, jsonl when redirected)',
    validator: t.isEnum(FORMATS),
  });
  json = Option.Boolean('--json', false, { description: 'Same as --format jsonl: one JSON object per line, for ConvertFrom-Json' });
  outFile = Option.String('--out-file', { description: 'Write the records to this file instead of stdout (CSV gets a UTF-8 BOM and CRLF for Excel)' });
  delimiter = Option.String('--delimiter', { description: "CSV delimiter: one character, or comma, semicolon, tab, pipe (default ,)" });
  color = Option.Boolean('--color', { description: 'Force colour on (--color) or off (--no-color); default: on for a terminal unless NO_COLOR is set' });
  force = Option.Boolean('-y,--force', false, { description: 'Replace an existing --out-file (it is written to a temporary file beside it and renamed at the end; a failed run leaves it as it was)' });

  private openedOutput: Output | undefined;

  /** The output, opened on first use so that a usage error found before it creates no file. */
  protected get output(): Output {
    this.openedOutput ??= this.wrapOutput(openOutput(this.context.io, {
      format: this.format as (typeof FORMATS)[number] | undefined,
      json: this.json,
      outFile: this.outFile,
      delimiter: this.delimiter,
      color: this.color,
      force: this.force,
    }));
    return this.openedOutput;
  }

  /**
   * The record kinds this run will write (for the one CSV check), with what to tell the user; undefined =
   * not declared. It may be async, for a command that imports its kinds when it runs.
   */
  protected outputKinds(): { kinds: readonly RecordKind[]; hint?: string } | undefined | Promise<{ kinds: readonly RecordKind[]; hint?: string } | undefined> {
    return undefined;
  }

  /** A command that also copies its records elsewhere (query's local mode into a -l log) wraps the output here. */
  protected wrapOutput(output: Output): Output {
    return output;
  }

  abstract run(): Promise<number>;

  async execute(): Promise<number> {
    let code: number;
    try {
      // A bad --out-file (exists without -y, a symlink, a directory) stops the run before it does anything.
      if (this.outFile !== undefined) checkOutFile(this.outFile, this.force);
      const declared = await this.outputKinds();
      if (declared) checkCsvKinds(resolveFormat(this.context.io, { format: this.format as (typeof FORMATS)[number] | undefined, json: this.json, outFile: this.outFile }), declared.kinds, declared.hint);
      code = await this.run();
      if (this.openedOutput) await this.openedOutput.end();
    } catch (err) {
      code = this.report(err);
      this.openedOutput?.abort();
    }
    // A lost stdout outranks any result: for `query` an exit code of 1 or 2 would read as a verdict.
    await new Promise((resolve) => setImmediate(resolve));
    const lost = this.context.io.stdoutError;
    if (lost && code !== ExitCode.IoError) code = this.report(writeError(lost, 'to standard output'));
    return code;
  }

  /** One line on stderr for the user; a stack trace only for bugs, and only with PORTQRY_DEBUG set. */
  protected report(err: unknown): number {
    const io = this.context.io;
    const style = createStyle(io.colorStderr);
    io.clearProgress();
    if (err instanceof PortqryError) {
      io.stderr.write(`${style.bad('portqry-ts:')} ${sanitizeLine(err.message)}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`${style.bad('portqry-ts: internal error:')} ${sanitizeLine(message)}\n`);
    if (io.env.PORTQRY_DEBUG && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return ExitCode.Software;
  }
}

/** Parses a decimal integer option value in [min, max] or throws a UsageError naming option and value. */
export function parseIntegerOption(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`invalid ${name} '${value}': expected a whole number from ${min} to ${max}`);
  const n = Number(value.trim());
  if (n < min || n > max) throw new UsageError(`invalid ${name} '${value}': expected a whole number from ${min} to ${max}`);
  return n;
}
