import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Debian's `chromium` (.ci/apt-packages.txt), or undefined when it is not installed. */
export function chromiumPath(): string | undefined {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (fs.existsSync(candidate)) return candidate;
  return undefined;
}

/**
 * The `skip` option of a test that needs Chromium: a visible skip when it is missing, but under
 * CI=true (where .ci/run installed it) the test runs and fails, so a broken install cannot hide it.
 */
export function chromiumSkip(): string | false {
  return chromiumPath() || process.env.CI === 'true' ? false : 'chromium is not installed (.ci/apt-packages.txt)';
}

export interface ChromiumRun {
  stdout: string;
  /** Chromium's log (--enable-logging=stderr): page script errors appear here as "Uncaught …". */
  stderr: string;
  code: number | null;
  /** The page's console messages as Chromium logs them (uncaught errors, CSP refusals, console.*). */
  console: string[];
}

/**
 * Runs headless Chromium once on a local file with a fresh profile, no network features and no
 * background services, then removes the profile. `args` adds --dump-dom or --screenshot=….
 */
export async function runChromium(file: string, args: string[], timeoutMs = 60_000, hash = ''): Promise<ChromiumRun> {
  const bin = chromiumPath();
  if (!bin) throw new Error('chromium is not installed (Debian package chromium)');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-chromium-'));
  const argv = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    // Page console messages (an uncaught exception, a script refused by the CSP) go to stderr as
    // `…:INFO:CONSOLE:N] "message", source: URL (line)`.
    '--enable-logging=stderr',
    '--v=0',
    `--user-data-dir=${profile}`,
    ...args,
    pathToFileURL(file).href + hash,
  ];
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' } });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const log = Buffer.concat(err).toString('utf8');
        const console = [...log.matchAll(/:CONSOLE(?::|\()[^\]]*\] (.*)/g)].map((m) => m[1]!);
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: log, code, console });
      });
    });
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
