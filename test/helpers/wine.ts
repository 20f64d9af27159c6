import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { ROOT } from './cli';

/**
 * Runs Windows executables under Debian's Wine, the way the Windows build is tested here.
 *
 * - The prefix is set to Windows 10 (node.exe 22 refuses older versions) and kept between runs (creating
 *   one takes ~8 s and ~700 MB). It lives in the temp directory, one per checkout, so worktrees that test
 *   at the same time never share a wineserver; PORTQRY_WINEPREFIX overrides it.
 * - stdout and stderr go to files, never pipes: node.exe under Wine dies with EBADF on a pipe.
 * - Each run has a timeout; `wineserver -k` ends every process of the prefix after the run (or at the
 *   end of a session, see keepServer), so nothing is left running.
 */

export const EXE = path.join(ROOT, 'dist', 'portqry-ts.exe');

export interface WineResult {
  stdout: string;
  stderr: string;
  /** The Windows exit code, or null when the run was killed at the timeout. */
  code: number | null;
  timedOut: boolean;
}

export interface WineRunOptions {
  /** Extra environment for the Windows process (Wine passes the Unix environment through). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  /** Leave wineserver running for the next run; call stopWine() in a teardown. Saves ~0.5 s per run. */
  keepServer?: boolean;
  /** Another prefix than winePrefix() (a namespace test keeps its own, so its wineserver can live in the namespace). */
  prefix?: string;
  /**
   * Run inside this network namespace (`ip netns exec`). Wine creates sockets in the wineserver, so
   * the prefix's wineserver must be started inside the namespace too: stop it before the first run
   * (stopWine(prefix)) and pass keepServer until the last.
   */
  netns?: string;
}

/**
 * Why Wine cannot be used here, or null when it can. Tests skip (with this reason) only when it is not
 * installed; under CI=true (where .ci/run installs it) never: the tests run and fail, so a broken
 * install cannot turn the Wine tests into skips.
 */
export function wineMissing(): string | null {
  if (process.env.CI === 'true') return null;
  const found = spawnSync('sh', ['-c', 'command -v wine && command -v wineserver'], { encoding: 'utf8' });
  return found.status === 0 ? null : 'wine is not installed (.ci/apt-packages.txt lists wine and wine64)';
}

export function winePrefix(): string {
  if (process.env.PORTQRY_WINEPREFIX) return process.env.PORTQRY_WINEPREFIX;
  const checkout = crypto.createHash('sha256').update(ROOT).digest('hex').slice(0, 8);
  return path.join(os.tmpdir(), `portqry-ts-wine-${checkout}`);
}

function wineEnv(extra: Record<string, string | undefined> = {}, prefix = winePrefix()): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    ...process.env,
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    // No Mono or Gecko install prompts while the prefix is created: there is no display to answer them.
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    // Host settings that mean nothing to a Windows node.exe (and would make it warn on stderr).
    NODE_EXTRA_CA_CERTS: undefined,
    NODE_OPTIONS: undefined,
    DISPLAY: undefined,
    ...extra,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env as NodeJS.ProcessEnv;
}

/** Creates the Windows 10 prefix once (marker file written only after success). */
export function ensureWinePrefix(prefix = winePrefix()): string {
  const marker = path.join(prefix, '.portqry-win10');
  if (fs.existsSync(marker)) return prefix;
  const r = spawnSync('wine', ['winecfg', '-v', 'win10'], { env: wineEnv({}, prefix), stdio: 'ignore', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`creating the Wine prefix ${prefix} failed (winecfg exit ${r.status}${r.signal ? `, ${r.signal}` : ''})`);
  fs.writeFileSync(marker, new Date().toISOString());
  return prefix;
}

/** Ends every process of the prefix, wineserver included. */
export function stopWine(prefix = winePrefix()): void {
  spawnSync('wineserver', ['-k'], { env: wineEnv({}, prefix), stdio: 'ignore', timeout: 30_000 });
}

/** Runs a Windows executable with arguments; stdout/stderr are captured through temp files. */
export async function runWine(exe: string, args: readonly string[], options: WineRunOptions = {}): Promise<WineResult> {
  const prefix = ensureWinePrefix(options.prefix);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-wine-run-'));
  const outFile = path.join(dir, 'stdout');
  const errFile = path.join(dir, 'stderr');
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  try {
    const { code, timedOut } = await new Promise<{ code: number | null; timedOut: boolean }>((resolve, reject) => {
      const [file, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, 'wine', exe, ...args]] : ['wine', [exe, ...args]];
      const child = spawn(file, argv, { cwd: options.cwd ?? ROOT, env: wineEnv(options.env, prefix), stdio: ['ignore', out, err] });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        stopWine(prefix); // kills the Windows process; wine then exits
        child.kill('SIGKILL');
      }, options.timeoutMs ?? 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: timedOut ? null : c, timedOut });
      });
    });
    return { stdout: fs.readFileSync(outFile, 'utf8'), stderr: fs.readFileSync(errFile, 'utf8'), code, timedOut };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
    if (!options.keepServer) stopWine(prefix);
  }
}

/** Runs dist/portqry-ts.exe (the standalone Windows build) under Wine. */
export function runExe(args: readonly string[], options: WineRunOptions = {}): Promise<WineResult> {
  return runWine(EXE, args, options);
}

/**
 * A tap test of something built that runs under Wine: skipped where Wine is missing (wineMissing: never
 * in CI) or for `skip`, failed at once where the built file it runs (`needs`, the .exe by default) does
 * not exist, with the command that builds it; wineserver is stopped when it ends.
 */
export function wineTest(name: string, fn: (t: Test) => Promise<void>, options: { needs?: string; build?: string; skip?: string | null } = {}): void {
  const missing = options.skip ?? wineMissing();
  const needs = options.needs ?? EXE;
  t.test(name, { skip: missing ?? false }, async (t) => {
    if (!fs.existsSync(needs)) {
      t.fail(`${needs} does not exist: run ${options.build ?? 'npm run build'}`);
      return;
    }
    t.teardown(() => stopWine());
    await fn(t);
  });
}
