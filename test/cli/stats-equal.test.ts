import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';
import { runInProcess as runCli } from '../helpers/in-process';

// The stats fast path (interned row fields, per-record keys computed once, time buckets reused for
// rows of the same second) must give exactly the records of the reader and statistics before it.
// test/fixtures/stats/equal-digests.json holds the SHA-256 of each scenario's output as the code
// before those changes wrote it (commit 39c7c46), statistic by statistic: every statistic, on a
// generated busy-server log (scripts/bench/generate-pr-ports.mjs, deterministic: 3 MB, about 32,000
// rows, thousands of client addresses, enough for the bounded tables to prune) and on the
// hand-counted fixtures, with filters, --per-computer, --top, and the --partial document.
// PORTQRY_WRITE_EQUAL_DIGESTS=1 rewrites the file (only ever from the old code). Rewritten once on
// purpose: when svchost's ListeningPorts stopped listing UDP client sockets (the dynamic range), only
// its digests and the partials' changed, and the partials differ only in the svchost part.
const DIGESTS = path.join(ROOT, 'test', 'fixtures', 'stats', 'equal-digests.json');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'stats', 'logs');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-equal-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const GEN = path.join(work, 'BUSY');
execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), GEN, '3'], { stdio: 'ignore' });
// 14 MB: more than 40,000 client addresses, so that remote-address's bounded table prunes too.
const BIG = path.join(work, 'BIG');
execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), BIG, '14'], { stdio: 'ignore' });
fs.cpSync(FIXTURES, path.join(work, 'fixtures'), { recursive: true });

const SCENARIOS: Record<string, string[]> = {
  'busy, all': [GEN],
  'big, all': [BIG],
  'busy, --per-computer --top 7': [GEN, '--per-computer', '--top', '7'],
  'busy, --process svchost.exe': [GEN, '--process', 'svchost.exe'],
  'busy, --process w3wp.exe,sqlservr.exe --protocol TCP': [GEN, '--process', 'w3wp.exe,sqlservr.exe', '--protocol', 'TCP'],
  'busy, --process msedge.exe,w3wp.exe (process-by-user)': [GEN, '--process', 'msedge.exe,w3wp.exe'],
  'busy, --local-port 443 --top 3': [GEN, '--local-port', '443', '--top', '3'],
  'busy, --user "NT AUTHORITY\\SYSTEM"': [GEN, '--user', 'NT AUTHORITY\\SYSTEM'],
  'busy, --computer OTHER --since': [GEN, '--computer', 'OTHER', '--since', '2026-11-16T06:00:00Z'],
  'busy and fixtures, --per-computer': [GEN, path.join(work, 'fixtures'), '--per-computer'],
  'fixtures, all': [path.join(work, 'fixtures')],
  'fixtures, --top 2 --per-computer': [path.join(work, 'fixtures'), '--top', '2', '--per-computer'],
  'fixtures, --process svchost.exe': [path.join(work, 'fixtures'), '--process', 'svchost.exe'],
};

/** Output lines grouped by statistic (the Statistic column), paths of this run's folder made neutral. */
function byStatistic(stdout: string): Record<string, string> {
  const out: Record<string, string[]> = {};
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const name = (JSON.parse(line) as { Statistic?: string }).Statistic ?? 'partial';
    (out[name] ??= []).push(line.split(JSON.stringify(work).slice(1, -1)).join('<WORK>'));
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, `${v.length} ${createHash('sha256').update(v.join('\n')).digest('hex')}`]));
}

async function run(args: string[]): Promise<string> {
  const r = await runCli(['stats', ...args, '--utc-offset', '+00:00', '--format', 'jsonl']);
  if (r.code !== 0) throw new Error(`stats ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

t.test('every statistic gives the records it gave before the fast path', async (t) => {
  const actual: Record<string, Record<string, string>> = {};
  for (const [name, args] of Object.entries(SCENARIOS)) actual[name] = byStatistic(await run(args));
  // The partial document: the same saved counts (its creation time and version set aside).
  for (const [name, dir] of [['busy', GEN], ['big', BIG]] as const) {
    const partial = JSON.parse(await run([dir, '--partial'])) as Record<string, unknown>;
    partial.CreatedUtc = partial.ProducedBy = null;
    actual[`${name}, --partial`] = byStatistic(JSON.stringify(partial));
  }
  if (process.env.PORTQRY_WRITE_EQUAL_DIGESTS === '1') fs.writeFileSync(DIGESTS, `${JSON.stringify(actual, null, 2)}\n`);
  const expected = JSON.parse(fs.readFileSync(DIGESTS, 'utf8')) as typeof actual;
  t.equal(new Set(Object.values(actual).flatMap((d) => Object.keys(d))).size, 11, 'rows of all ten statistics, and partials');
  t.match(JSON.stringify(expected['big, --partial']), /./, 'the big partial is there');
  for (const [name, digests] of Object.entries(expected)) t.strictSame(actual[name], digests, name);
});
