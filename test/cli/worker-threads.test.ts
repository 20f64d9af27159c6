import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl, ROOT, runCli } from '../helpers/cli';
import { schemaErrors } from '../helpers/schema';

// A worker thread inside the Linux standalone executable, which starts from a V8 startup snapshot of
// dist/main.cjs: with node:worker_threads loaded while the snapshot was built, Node aborted the whole
// process when a Worker started (`Assertion failed: shutdown_wrap_template_.IsEmpty()`, exit by
// SIGABRT). scripts/bundle.mjs binds the module lazily, so it loads after deserialization.
const BIN = path.join(ROOT, 'dist', 'portqry-ts');

t.test('self-check starts a worker thread and gets its answer', async (t) => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-worker-'));
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  const runs: [string, string | undefined][] = [['node dist/main.cjs', undefined]];
  if (fs.existsSync(BIN)) runs.push(['dist/portqry-ts (startup snapshot)', BIN]);
  else t.fail(`${BIN} does not exist: run PORTQRY_BUILD_TARGETS=linux npm run build`);
  for (const [name, bin] of runs) {
    const r = await runCli(['self-check', '--json'], { bin, cwd, env: { NODE_PATH: undefined, PORTQRY_NATIVE_DIR: path.join(cwd, 'native') } });
    t.equal(r.signal, null, `${name}: not killed by a signal (${r.stderr.split('\n')[0]})`);
    t.equal(r.code, 0, `${name}: ${r.stderr}`);
    t.equal(r.stderr, '', name);
    const [check] = parseJsonl(r.stdout);
    t.same(schemaErrors('self-check.schema.json', check), [], name);
    t.match(check, { WorkerThread: true, WorkerThreadError: null }, name);
    if (bin) t.equal(check!.Standalone, true, name);
  }
});
