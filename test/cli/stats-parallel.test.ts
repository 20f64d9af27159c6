import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { type CliResult, ROOT, runCli } from '../helpers/cli';
import { threadingSetup } from '../helpers/threads';

// `stats` with its second thread (PORTQRY_STATS_WORKERS=1, src/stats/parallel.ts) against one thread
// (PORTQRY_STATS_WORKERS=0), byte for byte: stdout, stderr (skipped-line warnings, notes) and exit
// code. Run through the Linux executable (test/helpers/threads.ts). PORTQRY_STATS_TRACE proves which
// statistics the worker counted.
const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');
const ENV = { TZ: 'Europe/Paris' };
const { bin: BIN, run, dir, busy, log: BUSY, damagedCopy } = threadingSetup(t, 'stats-parallel');

// Damaged lines among the busy rows, a file found in the folder that is no log, and a cut-off last line.
const damaged = damagedCopy(
  'damaged',
  [
    [1000, '26/11/16,0:0:1,TCP,99999,10.0.0.1,80,10.0.0.2,4,System,<>'],
    [1500, 'garbage without commas'],
    [3500, '26/11/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,caf\u00e9.exe,<CONTOSO\\\u00e9l\u00e8ve>'],
    [9000, '26/13/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,System,<>'],
  ],
  '26/11/16,0:0:1,TCP,80,10.0.0',
);
fs.writeFileSync(path.join(damaged, 'notes.txt'), 'not a log\n');

const TRACE = /trace: (\S+) counted by a worker thread/;

async function both(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<{ single: CliResult; parallel: CliResult; onWorker: string[] }> {
  const env = { ...ENV, ...options.env };
  const single = await run(args, { ...options, env: { ...env, PORTQRY_STATS_WORKERS: '0' } });
  const parallel = await run(args, { ...options, env: { ...env, PORTQRY_STATS_WORKERS: '1' } });
  const traced = await run(args, { ...options, env: { ...env, PORTQRY_STATS_WORKERS: '1', PORTQRY_STATS_TRACE: '1' } });
  const m = TRACE.exec(traced.stderr);
  return { single, parallel, onWorker: m ? m[1]!.split(',') : [] };
}

function same(t: Test, r: { single: CliResult; parallel: CliResult }): void {
  t.equal(r.parallel.code, r.single.code, 'exit code');
  t.equal(r.parallel.stderr, r.single.stderr, 'stderr');
  t.ok(r.parallel.stdout === r.single.stdout, `stdout byte for byte (${r.single.stdout.length} bytes)`);
}

t.test('busy-server log, every statistic: the same rows, about half of the counting done by the worker', async (t) => {
  const r = await both(['stats', BUSY, '--format', 'jsonl']);
  t.equal(r.single.code, 0);
  t.ok(r.single.stdout.split('\n').length > 1000, 'thousands of rows');
  t.match(r.single.stdout, /"Statistic":"RemoteAddressUsage"/);
  t.ok(r.onWorker.length >= 3 && r.onWorker.length <= 9, `the worker counted ${r.onWorker.join(', ')}`);
  t.notOk(r.onWorker.includes('remote-address'), 'the costliest statistic stays on the main thread');
  same(t, r);
  same(t, await both(['stats', BUSY, '--format', 'json', '--top', '3', '--utc-offset', '+05:30']));
  same(t, await both(['stats', BUSY, '--format', 'text']));
  same(t, await both(['stats', BUSY, '--format', 'table', '--top', '5']));
  same(t, await both(['stats', BUSY, '--format', 'csv', '--statistic', 'remote-address,process-endpoint']));
});

t.test('the fixtures with the busy log: several computers, PR-PIDS, PR-INITIAL, event logs, --per-computer', async (t) => {
  const r = await both(['stats', FIX, busy, '--format', 'jsonl', '--per-computer']);
  t.ok(r.onWorker.length > 0, 'the worker counted');
  t.match(r.single.stdout, /"ComputerName":"[^"]+"/);
  same(t, r);
  same(t, await both(['stats', FIX, '--format', 'jsonl']));
});

t.test('damaged lines and a file that is no log: the same warnings, counts and exit codes', async (t) => {
  const r = await both(['stats', damaged, '--format', 'jsonl']);
  t.match(r.single.stderr, /skipped \d+ unreadable lines/);
  t.ok(r.onWorker.length > 0, 'the worker counted');
  same(t, r);
  same(t, await both(['stats', damaged, '--format', 'jsonl', '--strict']));
  same(t, await both(['stats', path.join(damaged, 'notes.txt'), '--format', 'jsonl']));
});

t.test('filters: both threads keep the same records', async (t) => {
  const r = await both(['stats', BUSY, '--process', 'svchost.exe,lsass.exe', '--format', 'jsonl']);
  t.ok(r.onWorker.length > 0, 'the worker counted');
  same(t, r);
  same(t, await both(['stats', BUSY, '--remote-port', '443', '--since', '2026-11-16T00:30:00Z', '--format', 'jsonl']));
  same(t, await both(['stats', BUSY, '--ip', '10.0.0.0/8', '--protocol', 'tcp', '--format', 'jsonl']));
});

t.test('standard input: the worker reads the bytes the main thread reads', async (t) => {
  const input = fs.readFileSync(BUSY);
  const r = await both(['stats', '-', '--format', 'jsonl'], { input });
  t.ok(r.onWorker.length > 0, 'the worker counted');
  t.ok(r.single.stdout.length > 10000);
  same(t, r);
});

t.test('one thread where the worker cannot do the same: one statistic, criteria, --partial, --html', async (t) => {
  const one = await both(['stats', BUSY, '--statistic', 'remote-address', '--format', 'jsonl']);
  t.same(one.onWorker, [], 'one statistic: no worker');
  same(t, one);
  const criteria = await both(['stats', BUSY, '--criteria', path.join(FIX, 'criteria', 'criteria.json'), '--fail-on-flag', '--format', 'jsonl']);
  t.same(criteria.onWorker, [], 'criteria: no worker');
  same(t, criteria);
  const partial = await both(['stats', BUSY, '--partial']);
  t.same(partial.onWorker, [], '--partial: no worker');
  t.equal(partial.parallel.code, 0);
  const html = path.join(dir, 'report.html');
  const r = await run(['stats', BUSY, '--html', html], { env: { ...ENV, PORTQRY_STATS_WORKERS: '1', PORTQRY_STATS_TRACE: '1' } });
  t.equal(r.code, 0);
  t.notMatch(r.stderr, TRACE, '--html: no worker');
});

t.test('a reader that goes away: the worker stops, the command ends', async (t) => {
  const cmd = `"${BIN}"`;
  const head = execFileSync('sh', ['-c', `PORTQRY_STATS_WORKERS=1 ${cmd} stats "${BUSY}" --format jsonl | head -c 1000 | wc -c`], { encoding: 'utf8', timeout: 30_000 });
  t.equal(head.trim(), '1000');
});
