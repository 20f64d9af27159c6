import { Chalk } from 'chalk';

/**
 * Semantic colours: commands say what a piece of text *is* (a good verdict, a flagged row), never which
 * colour it gets. With colour off every function is the identity.
 */
export interface Style {
  readonly enabled: boolean;
  good(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  heading(text: string): string;
  /** A record that matched the user's criteria of interest. */
  flagged(text: string): string;
}

export function createStyle(enabled: boolean): Style {
  const chalk = new Chalk({ level: enabled ? 1 : 0 });
  return {
    enabled,
    good: (t) => chalk.green(t),
    bad: (t) => chalk.red(t),
    warn: (t) => chalk.yellow(t),
    dim: (t) => chalk.dim(t),
    bold: (t) => chalk.bold(t),
    heading: (t) => chalk.bold.cyan(t),
    flagged: (t) => chalk.red.bold(t),
  };
}
