import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../helpers/cli';
import { runExe, wineTest } from '../helpers/wine';

// stats' second thread inside the Windows executable, under Wine (PORTQRY_STATS_WORKERS=1,
// src/stats/parallel.ts): the worker starts from code embedded in the executable and reads the bytes
// the main thread reads. The output must be one thread's, byte for byte. What Wine cannot show: the
// timing and memory of two threads on a Windows scheduler (docs/windows.md, the admin's check).
wineTest('portqry-ts.exe stats on two threads under Wine: one thread\'s output, byte for byte', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-wine-stats-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // A busy server's log of about 1 MB with its PR-PIDS.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), dir, '1'], { stdio: 'ignore' });
  const log = `Z:${path.join(dir, 'PR-PORTS-26-11-16-0-0-0.log').replace(/\//g, '\\')}`;
  const env = { TZ: 'UTC', PORTQRY_STATS_TRACE: '1' };
  const parallel = await runExe(['stats', log, '--format', 'jsonl'], { env: { ...env, PORTQRY_STATS_WORKERS: '1' }, keepServer: true, timeoutMs: 120_000 });
  const single = await runExe(['stats', log, '--format', 'jsonl'], { env: { ...env, PORTQRY_STATS_WORKERS: '0' }, keepServer: true, timeoutMs: 120_000 });
  t.equal(parallel.code, 0, parallel.stderr);
  t.equal(single.code, 0, single.stderr);
  const onWorker = /trace: (\S+) counted by a worker thread/.exec(parallel.stderr)?.[1]?.split(',') ?? [];
  t.ok(onWorker.length >= 3, `the worker counted ${onWorker.join(', ')}`);
  t.equal(single.stderr, '', 'one thread: no trace, no warning');
  const rows = single.stdout.split('\n').length - 1;
  t.ok(rows > 1000, `${rows} rows`);
  t.ok(parallel.stdout === single.stdout, `stdout byte for byte (${single.stdout.length} bytes)`);
});
