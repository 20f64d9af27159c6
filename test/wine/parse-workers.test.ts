import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../helpers/cli';
import { runExe, wineTest } from '../helpers/wine';

// parse's worker threads inside the Windows executable, under Wine: they are on by default for large
// logs (src/portreporter/parse-parallel.ts), and the Windows build starts them from code embedded in
// the executable. The output must be the single-threaded path's, byte for byte. What Wine cannot show:
// the timing and memory of threads on a Windows scheduler (docs/windows.md, the admin's check).
wineTest('portqry-ts.exe parse on worker threads under Wine: the single-threaded output, byte for byte', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-wine-workers-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // A busy server's log of about 1 MB with its PR-PIDS; 64 KiB chunks make about 16 of them.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), dir, '1'], { stdio: 'ignore' });
  const log = `Z:${path.join(dir, 'PR-PORTS-26-11-16-0-0-0.log').replace(/\//g, '\\')}`;
  const env = { TZ: 'UTC', PORTQRY_PARSE_CHUNK_BYTES: '65536', PORTQRY_PARSE_TRACE: '1' };
  const parallel = await runExe(['parse', log, '--format', 'jsonl'], { env: { ...env, PORTQRY_PARSE_WORKERS: '2' }, keepServer: true, timeoutMs: 120_000 });
  const single = await runExe(['parse', log, '--format', 'jsonl'], { env: { ...env, PORTQRY_PARSE_WORKERS: '0' }, keepServer: true, timeoutMs: 120_000 });
  t.equal(parallel.code, 0, parallel.stderr);
  t.equal(single.code, 0, single.stderr);
  const chunks = Number(/trace: (\d+) chunks parsed by 2 worker threads/.exec(parallel.stderr)?.[1] ?? -1);
  t.ok(chunks >= 8, `the workers parsed ${chunks} chunks`);
  t.equal(single.stderr, '', 'one thread: no trace (the parallel path was not taken), no warning');
  const records = single.stdout.split('\n').length - 1;
  t.ok(records > 5000, `${records} records`);
  t.ok(parallel.stdout === single.stdout, `stdout byte for byte (${single.stdout.length} bytes)`);
});
