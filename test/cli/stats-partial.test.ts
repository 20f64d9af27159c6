import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { parseJsonl, ROOT, runCli } from '../helpers/cli';
import { schemaErrors } from '../helpers/schema';

// Fleet statistics: `stats --partial` on each computer's logs, `stats --merge` at the console, must give
// the records of one `stats` run over all the logs, record for record, for every statistic.
// Three computers: SRV1 and SRV2 are the hand-counted fixtures of test/cli/stats.test.ts (PR-INITIAL,
// PR-PIDS, original-format PR-PORTS); SRV3 is a generated busy server (scripts/bench/generate-pr-ports.mjs:
// thousands of client addresses, ephemeral ports, svchost services), renamed so it is a third computer.
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'stats', 'logs');
const TZ = ['--utc-offset', '+00:00'];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-partial-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const folders = ['SRV1', 'SRV2', 'SRV3', 'SRV4'].map((name) => path.join(work, name));
fs.cpSync(path.join(FIXTURES, 'SRV1'), folders[0]!, { recursive: true });
fs.cpSync(path.join(FIXTURES, 'SRV2'), folders[1]!, { recursive: true });
// SRV4: SRV2's log again, named by its folder: a third computer whose counts stay exact.
fs.cpSync(path.join(FIXTURES, 'SRV2'), folders[3]!, { recursive: true });
execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bench', 'generate-pr-ports.mjs'), folders[2]!, '2'], { stdio: 'ignore' });
for (const file of fs.readdirSync(folders[2]!).filter((f) => f.startsWith('PR-PIDS-'))) {
  const p = path.join(folders[2]!, file);
  fs.writeFileSync(p, fs.readFileSync(p, 'latin1').replace(/\r\n [A-Z0-9-]+\r\n\r\nOperating System/, '\r\n SRV3\r\n\r\nOperating System'), 'latin1');
}

async function ok(args: string[], input?: string) {
  const r = await runCli(args, { input });
  if (r.code !== 0) throw new Error(`portqry-ts ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function partialOf(folder: string, extra: string[] = []): Promise<string> {
  const file = path.join(work, `${path.basename(folder)}${extra.length ? '-f' : ''}.partial.json`);
  await ok(['stats', folder, ...TZ, '--partial', '--out-file', file, '-y', ...extra]);
  return file;
}

t.test('--merge of three --partial runs equals one run over all three folders, record for record', async (t) => {
  const exact = [folders[0]!, folders[1]!, folders[3]!];
  const [pa, pb, pd] = [await partialOf(exact[0]!), await partialOf(exact[1]!), await partialOf(exact[2]!)];

  const doc = JSON.parse(fs.readFileSync(pd, 'utf8')) as Record<string, unknown>;
  t.same(schemaErrors('stats-partial.schema.json', doc), [], 'a partial validates against schemas/stats-partial.schema.json');
  t.equal(doc.Version, 1, 'a partial is versioned');
  t.same((doc.Scopes as { ComputerName: string }[]).map((s) => s.ComputerName), ['SRV4'], 'each computer is a scope of its own');
  t.same(doc.Approximate, [], 'nothing was pruned in these logs, so every statistic merges exactly');

  for (const view of [[], ['--per-computer'], ['--top', '3']]) {
    const whole = parseJsonl((await ok(['stats', ...exact, ...TZ, '--json', ...view])).stdout);
    const merged = parseJsonl((await ok(['stats', '--merge', pa, pb, pd, '--json', ...view])).stdout);
    t.ok(whole.length > 50, `the single run has records to compare (${whole.length}) ${view.join(' ')}`);
    t.same(merged, whole, `merge = single run, every statistic ${view.join(' ') || '(all computers together)'}`);
  }

  const forward = (await ok(['stats', '--merge', pa, pb, pd, '--json'])).stdout;
  const shuffled = (await ok(['stats', '--merge', pd, pa, pb, '--json'])).stdout;
  t.equal(shuffled, forward, 'the order of the partials does not change the result');

  const piped = fs.readFileSync(pb, 'utf8') + fs.readFileSync(pd, 'utf8') + fs.readFileSync(pa, 'utf8');
  const fromStdin = (await ok(['stats', '--merge', '-', '--json'], piped)).stdout;
  t.equal(fromStdin, forward, 'partials concatenated on stdin (one per line) merge the same');

  const glob = (await ok(['stats', '--merge', path.join(work, 'SRV[124].partial.json'), '--json'])).stdout;
  t.equal(glob, forward, 'a wildcard is expanded by the tool (cmd.exe and PowerShell pass it unexpanded)');

  const one = parseJsonl((await ok(['stats', '--merge', pa, pb, pd, '--json', '--statistic', 'remote-address'])).stdout);
  const oneWhole = parseJsonl((await ok(['stats', ...exact, ...TZ, '--json', '--statistic', 'remote-address'])).stdout);
  t.ok(one.length > 0 && one.every((r) => r.Statistic === 'RemoteAddressUsage'), '--statistic picks one of the statistics the partials hold');
  t.same(one, oneWhole, 'and gives that statistic as a single run does');
});

t.test('a busy server: the statistics that stayed exact merge exactly, the approximate ones say so', async (t) => {
  const busy = [folders[0]!, folders[1]!, folders[2]!];
  const parts = [await partialOf(busy[0]!), await partialOf(busy[1]!), await partialOf(busy[2]!)];
  const approximate = new Set<string>();
  for (const p of parts) for (const name of (JSON.parse(fs.readFileSync(p, 'utf8')) as { Approximate: string[] }).Approximate) approximate.add(name);
  t.ok(approximate.size > 0, `the busy server's ephemeral client ports overflow the bounded lists (${[...approximate].join(', ')})`);
  const bounded = new Set(['local-tcp-port', 'process-usage', 'remote-address', 'user-context', 'process-by-user', 'process-endpoint']);
  t.same([...approximate].filter((n) => !bounded.has(n)), [], 'only statistics with bounded tables or lists can be approximate');
  const exactNames = ['local-tcp-port', 'process-usage', 'remote-address', 'user-context', 'hour-of-day', 'svchost', 'process-by-user', 'new-listener', 'process-endpoint', 'computer'].filter((n) => !approximate.has(n));
  const pick = ['--statistic', exactNames.join(',')];
  const whole = parseJsonl((await ok(['stats', ...busy, ...TZ, '--json', ...pick])).stdout);
  const merged = parseJsonl((await ok(['stats', '--merge', ...parts, '--json', ...pick])).stdout);
  t.ok(whole.length > 100, `records to compare (${whole.length}, ${exactNames.length} statistics)`);
  t.same(merged, whole, `merge = single run for every statistic that stayed exact (${exactNames.join(', ')})`);
  const text = (await ok(['stats', '--merge', ...parts, '--format', 'text'])).stdout;
  t.same([...approximate].filter((n) => !text.includes(`(${n}: more distinct keys than are counted exactly`)), [], 'the text output marks each approximate statistic');
});

t.test('a UTF-16LE partial (Windows PowerShell 5.1 `>`) merges like UTF-8', async (t) => {
  const pa = await partialOf(folders[0]!);
  const utf16 = path.join(work, 'SRV1.utf16.json');
  fs.writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(fs.readFileSync(pa, 'utf8'), 'utf16le')]));
  const a = (await ok(['stats', '--merge', pa, '--json'])).stdout;
  const b = (await ok(['stats', '--merge', utf16, '--json'])).stdout;
  t.equal(b, a);
});

t.test('what cannot be merged is refused in one line with its exit code', async (t) => {
  const pa = await partialOf(folders[0]!);
  const future = path.join(work, 'future.json');
  fs.writeFileSync(future, fs.readFileSync(pa, 'utf8').replace('"Version":1', '"Version":2'));
  let r = await runCli(['stats', '--merge', pa, future]);
  t.equal(r.code, 65, 'a partial of another version: data error');
  t.match(r.stderr, /future\.json: stats partial version 2 .* reads version 1/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.equal(r.stdout, '', 'and no records');

  // Counts whose layout is not what this version wrote (hand-edited, truncated in transit): one line, 65, not a crash (70).
  const damaged = path.join(work, 'damaged.json');
  const doc = JSON.parse(fs.readFileSync(pa, 'utf8')) as { Scopes: { Statistics: Record<string, unknown> }[] };
  doc.Scopes[0]!.Statistics['remote-address'] = 42;
  fs.writeFileSync(damaged, `${JSON.stringify(doc)}\n`);
  r = await runCli(['stats', '--merge', damaged]);
  t.equal(r.code, 65, 'a partial whose counts are damaged: data error');
  t.match(r.stderr, /damaged\.json: stats partial is damaged \(remote-address\)/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');

  // A port that is none: counted under another endpoint's key (address × 65,537 + port + 1) or as a
  // port row that cannot exist, it was merged before; now it is damage like any other.
  for (const [statistic, edit] of [
    ['process-endpoint', (state: unknown) => (((state as unknown[][])[0]![4] as unknown[][])[0]![1] = 70_000)],
    ['local-tcp-port', (state: unknown) => ((state as unknown[][])[0]![0] = 70_000)],
  ] as const) {
    const bad = JSON.parse(fs.readFileSync(pa, 'utf8')) as { Scopes: { Statistics: Record<string, unknown> }[] };
    edit(bad.Scopes[0]!.Statistics[statistic]);
    fs.writeFileSync(damaged, `${JSON.stringify(bad)}\n`);
    r = await runCli(['stats', '--merge', damaged]);
    t.equal(r.code, 65, `${statistic}: a port of 70000 is damage`);
    t.match(r.stderr, new RegExp(`damaged\\.json: stats partial is damaged \\(${statistic}\\)`));
  }

  const log = path.join(folders[1]!, fs.readdirSync(folders[1]!)[0]!);
  r = await runCli(['stats', '--merge', log]);
  t.equal(r.code, 65, 'a log is not a partial');
  t.match(r.stderr, /not a stats partial/);

  const filtered = await partialOf(folders[1]!, ['--since', '2026-03-02']);
  r = await runCli(['stats', '--merge', pa, filtered]);
  t.equal(r.code, 64, 'partials counted with other filters cannot be summed');
  t.match(r.stderr, /same filters/);

  r = await runCli(['stats', '--merge', pa, '--since', '2026-03-01']);
  t.equal(r.code, 64, 'a filter at merge time would be silently meaningless: usage error');
  t.match(r.stderr, /--since cannot be used with --merge/);

  r = await runCli(['stats', folders[0]!, '--partial', '--format', 'csv']);
  t.equal(r.code, 64, '--partial writes JSON only');

  r = await runCli(['stats', '--merge', path.join(work, 'nothing-*.json')]);
  t.equal(r.code, 66, 'a wildcard that matches nothing');
});
