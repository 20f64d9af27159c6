import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Test } from 'tap';
import { ROOT, runCli } from './cli';

/**
 * What the threading tests of parse and stats share (test/cli/parse-parallel.test.ts,
 * test/cli/stats-parallel.test.ts): the Linux executable (it starts from a V8 startup snapshot, where
 * a worker must not load some modules; PORTQRY_BIN selects another), a run of it, and a scratch
 * folder with a busy server's log (the benchmark's variety) and a damaged copy of it.
 */
export function threadingSetup(t: Test, name: string) {
  const exe = path.join(ROOT, 'dist', 'portqry-ts');
  const bin = process.env.PORTQRY_BIN ?? (fs.existsSync(exe) ? exe : undefined);
  if (bin === undefined) t.fail(`${exe} does not exist: run PORTQRY_BUILD_TARGETS=linux npm run build`);
  const run = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(args, { bin, ...options });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // About 3 MB of rows with their PR-PIDS.
  const busy = path.join(dir, 'busy');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), busy, '3'], { stdio: 'ignore' });
  const log = path.join(busy, 'PR-PORTS-26-11-16-0-0-0.log');
  /**
   * A folder with the first 12,000 lines of the busy log, `inserts` put in at their line numbers, and
   * `tail` after the last line (a cut-off line), beside the same PR-PIDS; the folder's path.
   */
  const damagedCopy = (folder: string, inserts: [number, string][], tail: string): string => {
    const damaged = path.join(dir, folder);
    fs.mkdirSync(damaged);
    fs.copyFileSync(path.join(busy, 'PR-PIDS-26-11-16-0-0-0.log'), path.join(damaged, 'PR-PIDS-26-11-16-0-0-0.log'));
    const lines = fs.readFileSync(log, 'latin1').split('\n').slice(0, 12000);
    for (const [at, line] of [...inserts].reverse()) lines.splice(at, 0, line);
    fs.writeFileSync(path.join(damaged, 'PR-PORTS-26-11-16-0-0-0.log'), Buffer.from(`${lines.join('\n')}\n${tail}`, 'latin1'));
    return damaged;
  };
  return { bin, run, dir, busy, log, damagedCopy };
}
