import { Builtins, Cli, type CommandClass } from 'clipanion';
import type { PortqryContext } from '../commands/BaseCommand';
import { ParseCommand } from '../commands/ParseCommand';
import { QueryCommand } from '../commands/QueryCommand';
import { QueryLocalCommand, QueryWatchPidCommand, QueryWatchPortCommand } from '../commands/QueryLocalCommand';
import { RecordCommand } from '../commands/RecordCommand';
import { StatsCommand } from '../commands/StatsCommand';
import { translateLegacyArgv } from './argv';
import { ExitCode } from './exit-codes';
import type { IOStreams } from './output/iostreams';
import { sanitizeLine } from './output/sanitize';
import { createStyle } from './output/style';
import { VERSION } from './version';

/** Every subcommand, in the order `--help` lists them. Adding a command is adding it here. */
export const COMMANDS: CommandClass<PortqryContext>[] = [QueryCommand, QueryLocalCommand, QueryWatchPortCommand, QueryWatchPidCommand, RecordCommand, ParseCommand, StatsCommand];

export function buildCli(io: IOStreams): Cli<PortqryContext> {
  const cli = new Cli<PortqryContext>({
    binaryLabel: 'portqry-ts',
    binaryName: 'portqry-ts',
    binaryVersion: VERSION,
    // clipanion would colour help whenever the OS supports colour, piped or not: the decision is ours.
    enableColors: io.colorStdout,
    enableCapture: false,
  });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  for (const command of COMMANDS) cli.register(command);
  return cli;
}

/**
 * Runs one command line and returns its exit code. clipanion prints parse errors on stdout
 * (arcanis/clipanion#176), where they would corrupt a JSON pipeline, so parsing is done here and a
 * parse error becomes one line on stderr with ExitCode.Usage.
 */
export async function runCli(argv: readonly string[], io: IOStreams): Promise<number> {
  const cli = buildCli(io);
  const context: PortqryContext = {
    stdin: io.stdin as NodeJS.ReadStream,
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    colorDepth: io.colorStdout ? 8 : 1,
    io,
    argv,
  };
  const args = translateLegacyArgv(argv);
  // Several classes share the `query` path (clipanion picks one by its required options); their
  // `--help` is every one of them in turn, not clipanion's "multiple commands match" list.
  const sharing = COMMANDS.filter((c) => c.paths?.some((p) => p.length === 1 && p[0] === args[0]));
  if (sharing.length > 1 && args.length === 2 && (args[1] === '--help' || args[1] === '-h')) {
    io.stdout.write(sharing.map((c) => cli.usage(c, { detailed: true, colored: io.colorStdout })).join('\n'));
    return ExitCode.Ok;
  }
  let command;
  try {
    command = cli.process(args, context);
  } catch (err) {
    const style = createStyle(io.colorStderr);
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
    const topic = args[0] && COMMANDS.some((c) => c.paths?.[0]?.[0] === args[0]) ? `${args[0]} --help` : '--help';
    io.stderr.write(`${style.bad('portqry-ts:')} ${sanitizeLine(message)} (see 'portqry-ts ${topic}')\n`);
    return ExitCode.Usage;
  }
  return cli.run(command, context);
}
