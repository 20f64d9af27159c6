import { Builtins, Cli, Command, type CommandClass } from 'clipanion';
import { type PortqryContext, REPEATABLE_OPTIONS } from '../commands/BaseCommand';
import { CompleteCommand } from '../commands/CompleteCommand';
import { ParseCommand } from '../commands/ParseCommand';
import { QueryCommand } from '../commands/QueryCommand';
import { QueryLocalCommand, QueryWatchPidCommand, QueryWatchPortCommand } from '../commands/QueryLocalCommand';
import { RecordCommand } from '../commands/RecordCommand';
import { EventLogCheckCommand, EventSourceCommand, SelfCheckCommand } from '../commands/SelfCheckCommand';
import { StatsCommand } from '../commands/StatsCommand';
import { translateLegacyArgv } from './argv';
import { UsageError } from './errors';
import { ExitCode } from './exit-codes';
import type { IOStreams } from './output/iostreams';
import { sanitizeLine } from './output/sanitize';
import { createStyle } from './output/style';
import { checkCommandLine, type CommandForm, commandFormOf, explainNoMatchingForm } from './usage';
import { VERSION } from './version';

/** Every subcommand, in the order `--help` lists them. Adding a command is adding it here. */
export const COMMANDS: CommandClass<PortqryContext>[] = [QueryCommand, QueryLocalCommand, QueryWatchPortCommand, QueryWatchPidCommand, RecordCommand, ParseCommand, StatsCommand];
/** Support commands: they work and have their own --help, but the top-level help does not list them. */
export const HIDDEN_COMMANDS: CommandClass<PortqryContext>[] = [SelfCheckCommand, EventLogCheckCommand, EventSourceCommand, CompleteCommand];

/**
 * `portqry-ts`, `-h`, `--help`: one line per command. clipanion's own listing repeats every option
 * of every command and sorts by name; a user scanning for "which command does X" wants less.
 */
class TopLevelHelpCommand extends Command<PortqryContext> {
  static paths = [['-h'], ['--help'], Command.Default];
  async execute(): Promise<number> {
    const style = createStyle(this.context.io.colorStdout);
    // Several classes can share a path (query's forms); the first one registered describes it.
    const described = new Map<string, string>();
    for (const c of COMMANDS) {
      const name = c.paths![0]!.join(' ');
      if (!described.has(name)) described.set(name, c.usage?.description ?? '');
    }
    const width = Math.max(...[...described.keys()].map((n) => n.length));
    const lines = [
      `${style.bold('portqry-ts')} ${VERSION}: PortQry, Port Reporter and Port Reporter Parser in one executable`,
      '',
      `${style.heading('Usage:')} portqry-ts <command> [options]`,
      '',
      ...[...described].map(([name, description]) => `  portqry-ts ${name.padEnd(width)}  ${description}`),
      '',
      'Every command takes --format text|table|json|jsonl|csv (--json = jsonl) and --out-file PATH.',
      "Run 'portqry-ts <command> --help' for its options and examples, 'portqry-ts --version' for the version.",
    ];
    this.context.io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
}

let sharedCli: Cli<PortqryContext> | undefined;
let sharedForms: Map<string, CommandForm[]> | undefined;

/** Each command's forms (classes sharing its path) with their options, computed once (at build time in the snapshot). */
function commandForms(): Map<string, CommandForm[]> {
  if (sharedForms) return sharedForms;
  const forms = new Map<string, CommandForm[]>();
  for (const c of [...COMMANDS, ...HIDDEN_COMMANDS]) {
    for (const p of c.paths ?? []) {
      const name = p.join(' ');
      if (!forms.has(name)) forms.set(name, []);
      forms.get(name)!.push(commandFormOf(c as unknown as new () => object, REPEATABLE_OPTIONS));
    }
  }
  sharedForms = forms;
  return forms;
}

/**
 * The process's one Cli. It is built once, and in the Linux executable already at build time, inside
 * the startup snapshot (src/main.ts). clipanion compiles its parser state machine again on every
 * process() call (~7 ms, the largest part of start-up); the commands are fixed, so it is compiled
 * once here. Colour is not fixed: runCli passes it per run as the context's colorDepth.
 */
export function getCli(): Cli<PortqryContext> {
  if (sharedCli) return sharedCli;
  const cli = new Cli<PortqryContext>({
    binaryLabel: 'portqry-ts',
    binaryName: 'portqry-ts',
    binaryVersion: VERSION,
    enableCapture: false,
  });
  cli.register(TopLevelHelpCommand);
  cli.register(Builtins.VersionCommand);
  for (const command of [...COMMANDS, ...HIDDEN_COMMANDS]) cli.register(command);
  const builder = (cli as unknown as { builder: { compile(): unknown } }).builder;
  const compiled = builder.compile();
  builder.compile = () => compiled;
  sharedCli = cli;
  commandForms();
  return cli;
}

/**
 * For the Linux executable's startup snapshot (src/main.ts): clipanion's compiled parser is a state
 * machine of ~570 nodes and ~32,000 small arrays and objects. Held as objects, V8 deserializes every
 * one of them at every start (about 25 M instructions, `--version` included), while a run reaches
 * some 15-25 nodes. Compiling it at run time instead costs far more (~140 M instructions). So the
 * snapshot holds each node as its JSON text (identical nodes once), and a node is parsed when the
 * parser first reaches it. The machine is plain data (the reducers and tests are named by strings),
 * so the parsed node equals the compiled one; test/unit/start-path.test.ts compares the two parsers'
 * results command line by command line.
 */
export function compactParser(): void {
  const builder = (getCli() as unknown as { builder: { compile(): { machine: { nodes: unknown[] } } } }).builder;
  const machine = builder.compile().machine;
  machine.nodes = lazyNodes(machine.nodes);
}

/** An array-like of `nodes` whose element i is parsed from JSON text on first read (and kept). */
export function lazyNodes(nodes: readonly unknown[]): unknown[] {
  const texts: string[] = [];
  const textIndex: number[] = [];
  const seen = new Map<string, number>();
  for (const node of nodes) {
    const text = JSON.stringify(node);
    let i = seen.get(text);
    if (i === undefined) {
      i = texts.length;
      texts.push(text);
      seen.set(text, i);
    }
    textIndex.push(i);
  }
  const parsed: unknown[] = new Array(nodes.length).fill(undefined);
  return new Proxy(parsed, {
    get(target, key, receiver) {
      if (typeof key === 'string') {
        const i = Number(key);
        if (Number.isInteger(i) && i >= 0 && i < textIndex.length) return (target[i] ??= JSON.parse(texts[textIndex[i]!]!));
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/**
 * Runs one command line and returns its exit code. clipanion prints parse errors on stdout
 * (arcanis/clipanion#176), where they would corrupt a JSON pipeline, so parsing is done here and a
 * parse error becomes one line on stderr with ExitCode.Usage.
 */
export async function runCli(argv: readonly string[], io: IOStreams): Promise<number> {
  const cli = getCli();
  // clipanion's per-command --help renders with the Cli's own colour setting, which otherwise falls
  // back to its terminal-blind guess (colour whenever TERM allows it, even into a pipe).
  (cli as { enableColors?: boolean }).enableColors = io.colorStdout;
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
  // The longest command path the arguments start with (`self-check event-log` before `self-check`).
  const all = commandForms();
  let depth = 1;
  while (depth < args.length && all.has(args.slice(0, depth + 1).join(' '))) depth++;
  const forms = all.get(args.slice(0, depth).join(' ')) ?? [];
  let command;
  let checked: string[] = args;
  try {
    checked = [...args.slice(0, depth), ...checkCommandLine([args.slice(0, depth).join(' '), ...args.slice(depth)], forms).slice(1)];
    command = cli.process(checked, context);
  } catch (err) {
    const style = createStyle(io.colorStderr);
    let message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
    if (!(err instanceof UsageError)) message = explainNoMatchingForm(checked, forms) ?? message;
    const topic = args[0] && COMMANDS.some((c) => c.paths?.[0]?.[0] === args[0]) ? `${args[0]} --help` : '--help';
    io.stderr.write(`${style.bad('portqry-ts:')} ${sanitizeLine(message)} (see 'portqry-ts ${topic}')\n`);
    return ExitCode.Usage;
  }
  return cli.run(command, context);
}
