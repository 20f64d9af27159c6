import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BUNDLE = path.join(ROOT, 'dist', 'main.cjs');

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
  /** Run this executable instead of `node dist/main.cjs` (e.g. dist/portqry-ts). */
  bin?: string;
}

/**
 * Runs the built CLI as a user would: a separate process with piped stdio (so stdout is not a TTY),
 * and returns everything it printed. PORTQRY_BIN in the environment selects a standalone executable.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const bin = options.bin ?? process.env.PORTQRY_BIN;
  const [cmd, argv] = bin ? [bin, args] : [process.execPath, [BUNDLE, ...args]];
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: options.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, signal });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** Parses JSON Lines output strictly: every line one JSON value, no blank lines, trailing newline. */
export function parseJsonl(stdout: string): Record<string, unknown>[] {
  if (stdout === '') return [];
  if (!stdout.endsWith('\n')) throw new Error('JSONL output does not end with a newline');
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
      }
    });
}
