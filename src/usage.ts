import { UsageError } from './errors';

/**
 * Command-line checks clipanion does not make, with messages that name the option or value and the
 * rule (issue 14): an unknown option, an option that belongs to another form of the command
 * (`query -local -wport 80`), a single-value option given twice (`-n a -n b`: not "the last one
 * wins"), an empty value (`--out-file ''`), and a value that starts with a dash (`-e -1`, `--timeout -5`),
 * which is handed to the command as `--port=-1` so that its own validation names the rule.
 */
export interface OptionSpec {
  /** Every spelling: ['-n', '--host']. */
  readonly names: readonly string[];
  readonly takesValue: boolean;
  /** Takes several values (repeated or a comma list); otherwise giving it twice is an error. */
  readonly repeatable?: boolean;
  /** Selects its form of the command (`--local`, `--watch-port`). */
  readonly required?: boolean;
}

/** One form of a command (clipanion class): its options. */
export interface CommandForm {
  readonly options: readonly OptionSpec[];
}

/**
 * The options of a clipanion command class, read the way clipanion reads them: each option field of an
 * instance declares itself to a builder. `repeatable` tells which option objects take several values.
 */
export function commandFormOf(commandClass: new () => object, repeatable: WeakSet<object>): CommandForm {
  const options: OptionSpec[] = [];
  const instance = new commandClass() as Record<string, unknown>;
  for (const [key, value] of Object.entries(instance)) {
    const option = value as { definition?: (builder: unknown, key: string) => void } | null;
    if (typeof option !== 'object' || option === null || typeof option.definition !== 'function') continue;
    option.definition(
      {
        addOption: (o: { names: string[]; arity: number; required?: boolean }) => options.push({ names: o.names, takesValue: o.arity !== 0, repeatable: repeatable.has(option), required: Boolean(o.required) }),
        addPositional: () => {},
        addRest: () => {},
        addProxy: () => {},
      },
      key,
    );
  }
  return { options };
}

function longest(spec: OptionSpec): string {
  return spec.names.find((n) => n.startsWith('--')) ?? spec.names[0]!;
}

/**
 * Checks argv (after the PortQry spellings were translated) against every form of the command, and
 * returns argv with dash-leading values bound to their option. Throws UsageError naming the problem.
 */
export function checkCommandLine(args: readonly string[], forms: readonly CommandForm[]): string[] {
  const command = args[0];
  if (!command || forms.length === 0) return [...args];
  const known = new Map<string, OptionSpec>();
  for (const form of forms) for (const o of form.options) for (const n of o.names) if (!known.has(n)) known.set(n, o);
  const seen = new Map<string, string>();
  const out = [command];
  for (let i = 1; i < args.length; i++) {
    const token = args[i]!;
    if (token === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (!token.startsWith('-') || token === '-' || token === '-h' || token === '--help') {
      out.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq > 0 ? token.slice(0, eq) : token;
    let spec = known.get(name);
    if (!spec && /^--no-/.test(name)) spec = known.get(`--${name.slice(5)}`);
    if (!spec && /^-[A-Za-z]{2,}$/.test(name) && [...name.slice(1)].every((c) => known.get(`-${c}`) && !known.get(`-${c}`)!.takesValue)) {
      out.push(token); // -qy: several boolean short options together
      continue;
    }
    if (!spec) throw new UsageError(`unknown option '${name}' for '${command}'`);
    if (!spec.takesValue) {
      if (eq > 0 && known.get(name)) throw new UsageError(`option ${name} takes no value ('${token}')`);
      out.push(token);
      continue;
    }
    let value: string;
    if (eq > 0) value = token.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new UsageError(`option ${name} needs a value`);
      value = args[++i]!;
    }
    if (value.trim() === '') throw new UsageError(`invalid ${name} '${value}': the value is empty`);
    const key = longest(spec);
    if (!spec.repeatable) {
      const before = seen.get(key);
      if (before !== undefined) throw new UsageError(`${name} given more than once ('${before}' and '${value}'): give it once`);
      seen.set(key, value);
    }
    out.push(`${key}=${value}`);
  }
  return out;
}

/**
 * After clipanion found no form of the command that takes all the options: names the option that does
 * not go with the others (`--watch-port cannot be combined with --local`).
 */
export function explainNoMatchingForm(args: readonly string[], forms: readonly CommandForm[]): string | undefined {
  const optionTokens = args.slice(1).filter((a) => a.startsWith('-') && a !== '-').map((a) => (a.startsWith('--') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a));
  const formKnows = (form: CommandForm, n: string) => form.options.some((o) => o.names.includes(n) || (n.startsWith('--no-') && o.names.includes(`--${n.slice(5)}`)));
  let best: { form: CommandForm; missing: string[] } | undefined;
  for (const form of forms) {
    const missing = optionTokens.filter((n) => !formKnows(form, n));
    if (!best || missing.length < best.missing.length) best = { form, missing };
  }
  if (!best) return undefined;
  if (best.missing.length === 0) {
    // Every option belongs to this form, but the option that selects it is missing (`query -v`).
    const needed = best.form.options.filter((o) => o.required).map((o) => o.names.find((n) => n.startsWith('--')) ?? o.names[0]!);
    const first = optionTokens[0];
    return first && needed.length > 0 ? `option ${first} works only with ${needed.join(' and ')}` : undefined;
  }
  const odd = best.missing[0]!;
  const owner = forms.find((f) => formKnows(f, odd));
  const other = owner ? optionTokens.find((n) => formKnows(best!.form, n) && !formKnows(owner, n)) : undefined;
  return other ? `${odd} cannot be combined with ${other}` : `${odd} cannot be used here`;
}
