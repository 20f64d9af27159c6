import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';

// Runs Pester files (test/pwsh/*.Tests.ps1) in real PowerShell 7 against the built Linux executable and
// the packaged module (dist/PortQryTs); each Pester test becomes one tap assertion. Pester comes from
// NuGet (scripts/install-pester.ps1); .ci/run installs PowerShell. The files are split over two tap
// files (pester.test.ts, pester-remoting.test.ts) so each stays within tap's per-file timeout.
const PWSH_DIRS = [path.join(process.env.HOME ?? '', '.dotnet', 'tools')];
const env = { ...process.env, PATH: [...PWSH_DIRS, process.env.PATH].join(path.delimiter), POWERSHELL_TELEMETRY_OPTOUT: '1', NO_COLOR: '1' };
const pwsh = (args: string[], timeout = 280_000) => spawnSync('pwsh', ['-NoProfile', '-NonInteractive', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });

export function runPesterFiles(select: (file: string) => boolean): void {
  const found = spawnSync('pwsh', ['-NoProfile', '-Command', '$PSVersionTable.PSVersion.ToString()'], { env, encoding: 'utf8' });
  const missing = found.status === 0 ? false : 'pwsh is not installed (.ci/run installs PowerShell 7 as a dotnet tool)';
  t.test('Pester', { skip: missing }, async (t) => {
    for (const exe of ['dist/portqry-ts', 'dist/PortQryTs/PortQryTs.psd1']) {
      if (!fs.existsSync(path.join(ROOT, exe))) return t.fail(`${exe} does not exist: run npm run build`);
    }
    const install = pwsh(['-File', 'scripts/install-pester.ps1']);
    if (install.status !== 0) return t.fail(`installing Pester failed: ${install.stderr}`);
    const manifest = install.stdout.trim().split('\n').at(-1)!;
    const files = fs.readdirSync(path.join(ROOT, 'test', 'pwsh')).filter((f) => f.endsWith('.Tests.ps1') && select(f)).sort();
    t.ok(files.length > 0, 'there are Pester files to run');
    for (const file of files) {
      t.test(file, async (t) => {
        const r = pwsh(['-File', 'test/pwsh/run-pester.ps1', '-PesterManifest', manifest, '-Path', path.join('test', 'pwsh', file)]);
        const json = r.stdout.trim().split('\n').at(-1) ?? '';
        let results: { Name: string; Result: string; Message: string | null }[];
        try {
          results = JSON.parse(json);
        } catch {
          return t.fail(`Pester did not report (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${r.stderr.slice(0, 2000)}${r.stdout.slice(0, 2000)}`);
        }
        t.ok(results.length > 0, 'the file has tests');
        for (const test of results) {
          if (test.Result === 'Skipped') t.pass(test.Name, { skip: test.Message ?? 'skipped by Pester' });
          else t.equal(test.Result, 'Passed', test.Name, { diagnostic: true, message: test.Message ?? undefined });
        }
      });
    }
  });
}
