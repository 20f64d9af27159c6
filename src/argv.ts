/**
 * PortQry spells multi-letter options with one dash (`-nr`, `-sp 53`, `-wpid 4`); clipanion would read
 * `-nr` as `-n -r`. This is the one documented place that rewrites them to their long names before
 * clipanion parses argv. Only exact tokens after the given subcommand are rewritten, and PortQry's
 * options are case-insensitive there, as in PortQry.
 */
export const LEGACY_OPTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  query: {
    '-nr': '--no-reverse-lookup',
    '-sp': '--source-port',
    '-sl': '--slow-link',
    // PortQry 1.x spelled slow link -s.
    '-s': '--slow-link',
    '-cn': '--community',
    '-local': '--local',
    '-wport': '--watch-port',
    '-wpid': '--watch-pid',
    '-wt': '--watch-interval',
  },
  record: {
    '-ld': '--log-dir',
    '-ls': '--log-size',
  },
};

export function translateLegacyArgv(argv: readonly string[]): string[] {
  const command = argv[0];
  const table = command ? LEGACY_OPTIONS[command] : undefined;
  if (!table) return [...argv];
  const out = [command!];
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const long = table[token.toLowerCase()];
    out.push(long ?? token);
    // `-cn !my community name!` typed without quotes arrives as several words: join them up to the closing `!`.
    if (long === '--community' && argv[i + 1]?.startsWith('!')) {
      let value = argv[++i]!;
      while (!(value.length > 1 && value.endsWith('!')) && i + 1 < argv.length) value += ` ${argv[++i]!}`;
      out.push(value);
    }
  }
  return out;
}
