import { Command, Option } from 'clipanion';
import { FORMATS } from '../src/output/emitter';
import { FILTER_DEFINITIONS } from '../src/portreporter/filter';
import { PRESETS } from '../src/query/presets';
import { STATISTIC_NAMES } from '../src/stats/registry';
import type { PortqryContext } from './BaseCommand';

/** Values an option accepts, where there is a fixed list. Options not listed here complete nothing. */
const OPTION_VALUES: Record<string, () => readonly string[]> = {
  '--format': () => FORMATS,
  '--protocol': () => ['tcp', 'udp', 'both'],
  '--preset': () => ['list', ...PRESETS.map((p) => p.name)],
  '--statistic': () => STATISTIC_NAMES,
  '--delimiter': () => ['comma', 'semicolon', 'tab', 'pipe'],
};

interface OptionSpec {
  names: string[];
  takesValue: boolean;
}

/**
 * `portqry-ts complete -- <words>`: completion candidates for a command line, one per line, for shells
 * (PowerShell's `Register-ArgumentCompleter -Native`, see powershell/PortQryTs). The last word is the one
 * being completed (empty for a new word). Commands and options come from clipanion's own definitions,
 * so a new option completes without editing any completer. Hidden from the top-level help.
 */
export class CompleteCommand extends Command<PortqryContext> {
  static paths = [['complete']];
  static usage = Command.Usage({
    category: 'Support',
    description: 'Completion candidates for a command line (for shell completers)',
    details: 'Prints one candidate per line for the last word of the command line after `--`. `--new-word` completes a new, empty word after them (an empty last word does the same where the shell can pass one; Windows PowerShell 5.1 drops empty arguments).',
    examples: [
      ['Options of query that start with --f', '$0 complete -- query --f'],
      ['Values of --preset', '$0 complete --new-word -- query --preset'],
    ],
  });

  // Windows PowerShell 5.1 drops an empty-string argument of a native command (PowerShell#1995), so the
  // empty word being completed cannot be passed as ''; --new-word says it instead.
  newWord = Option.Boolean('--new-word', false, { description: 'The word being completed is a new, empty one after the words given' });
  words = Option.Rest();

  async execute(): Promise<number> {
    const words = this.newWord || this.words.length === 0 ? [...this.words, ''] : this.words;
    const current = words.at(-1)!;
    const before = words.slice(0, -1);
    const definitions = this.cli.definitions();
    const commandOf = (path: string) => path.split(' ').slice(1).join(' ');

    let candidates: readonly string[];
    if (before.length === 0) {
      // Support commands (category 'Support': complete, self-check) are not offered, as --help does not list them.
      const commands = new Set(definitions.filter((d) => d.category === undefined).map((d) => commandOf(d.path)).filter((c) => c && !c.startsWith('-')));
      candidates = [...commands, '--help', '--version'];
    } else {
      const options: OptionSpec[] = definitions
        .filter((d) => commandOf(d.path) === before[0])
        .flatMap((d) => d.options)
        .map((o) => {
          const [names = '', ...rest] = o.definition.split(' ');
          return { names: names.split(','), takesValue: rest.some((r) => r.includes('#')) };
        });
      const previous = options.find((o) => o.names.includes(before.at(-1)!));
      if (previous?.takesValue) {
        const long = previous.names.find((n) => n.startsWith('--')) ?? '';
        // parse and stats take their filters' values from the filters' one definition.
        const filter = ['parse', 'stats'].includes(before[0]!) ? FILTER_DEFINITIONS.find((f) => f.option === long) : undefined;
        candidates = filter ? (filter.values ?? []) : (OPTION_VALUES[long]?.() ?? []);
      } else {
        // Long names first: they say what they do; short ones only when the user typed a single dash.
        const names = options.flatMap((o) => o.names);
        const longNames = names.filter((n) => n.startsWith('--'));
        candidates = [...new Set(current.startsWith('-') && !current.startsWith('--') ? names : longNames)];
      }
    }
    const matches = candidates.filter((c) => c.startsWith(current));
    this.context.io.stdout.write(matches.map((m) => `${m}\n`).join(''));
    return 0;
  }
}
