import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { type CliResult, ROOT } from '../helpers/cli';
import { threadingSetup } from '../helpers/threads';

// `parse --format jsonl|json` on worker threads (src/portreporter/parse-parallel.ts) against the
// single-threaded path (PORTQRY_PARSE_WORKERS=0), byte for byte: stdout, stderr (skipped-line
// warnings) and exit code. Run through the Linux executable dist/portqry-ts, which starts from a V8
// startup snapshot (PORTQRY_BIN selects another; without it, `node dist/main.cjs`, which holds the
// workers' code too);
// PORTQRY_PARSE_CHUNK_BYTES makes hundreds of chunks out of a few megabytes, so chunk boundaries fall
// everywhere. PORTQRY_PARSE_TRACE proves the workers did parse chunks.
const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');
const ENV = { TZ: 'Europe/Paris' };
const { bin: BIN, run, dir, busy, log: BUSY, damagedCopy } = threadingSetup(t, 'parse-parallel');

// The same rows, damaged: bad fields, garbage, blank and CRLF lines, a line starting with P, a UTF-8
// BOM inside, Windows-1252 bytes, a header repeated (concatenated file), a 5,000-byte line, and a
// cut-off last line.
const header = fs.readFileSync(BUSY, 'latin1').split('\n', 8);
const damaged = damagedCopy(
  'damaged',
  [
    [1000, '26/11/16,0:0:1,TCP,99999,10.0.0.1,80,10.0.0.2,4,System,<>'],
    [1500, 'garbage without commas'],
    [2000, ''],
    [2500, 'Port nonsense, not a header'],
    [3000, '\u00ef\u00bb\u00bf26/11/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,System,<>'],
    [3500, '26/11/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,caf\u00e9.exe,<CONTOSO\\\u00e9l\u00e8ve>'],
    [4000, '26/11/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,System,<>\r'],
    [4500, header.join('\n')],
    [6000, `26/11/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,${'x'.repeat(5000)},<>`],
    [9000, '26/13/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,System,<>'],
  ],
  '26/11/16,0:0:1,TCP,80,10.0.0',
);
const DAMAGED = path.join(damaged, 'PR-PORTS-26-11-16-0-0-0.log');

async function both(args: string[], extraEnv: Record<string, string> = {}): Promise<{ single: CliResult; parallel: CliResult }> {
  const env = { ...ENV, PORTQRY_PARSE_CHUNK_BYTES: '4096', ...extraEnv };
  const single = await run(args, { env: { ...env, PORTQRY_PARSE_WORKERS: '0' } });
  const parallel = await run(args, { env: { ...env, PORTQRY_PARSE_WORKERS: '2' } });
  return { single, parallel };
}

function same(t: Test, r: { single: CliResult; parallel: CliResult }): void {
  t.equal(r.parallel.code, r.single.code, 'exit code');
  t.equal(r.parallel.stderr, r.single.stderr, 'stderr');
  t.ok(r.parallel.stdout === r.single.stdout, `stdout byte for byte (${r.single.stdout.length} bytes)`);
}

async function chunksOnWorkers(args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  const r = await run(args, { env: { ...ENV, PORTQRY_PARSE_CHUNK_BYTES: '4096', PORTQRY_PARSE_WORKERS: '2', PORTQRY_PARSE_TRACE: '1', ...extraEnv } });
  const m = /trace: (\d+) chunks/.exec(r.stderr);
  return m ? Number(m[1]) : -1;
}

t.test('busy-server log, jsonl and json: identical to the single-threaded path', async (t) => {
  t.ok((await chunksOnWorkers(['parse', BUSY, '--format', 'jsonl'])) > 100, 'hundreds of chunks went to the workers');
  const jsonl = await both(['parse', BUSY, '--format', 'jsonl']);
  t.equal(jsonl.single.code, 0);
  t.ok(jsonl.single.stdout.split('\n').length > 20000, 'tens of thousands of records');
  t.match(jsonl.single.stdout, /"ProcessPath":"C:\\\\/, 'rows joined with PR-PIDS');
  same(t, jsonl);
  same(t, await both(['parse', BUSY, '--format', 'json']));
  same(t, await both(['parse', BUSY, '--json', '--utc-offset', '+05:30', '--computer', 'SRV9']));
});

t.test('a line over 1 MiB after rows the workers parsed: the same warning and rows as one thread', async (t) => {
  // The parallel path hands the rest of the file to the single-threaded reader at a line longer than a
  // chunk, reading on in that reader's pieces (src/portreporter/parse-parallel.ts, piecesFrom). The line
  // has Windows-1252 bytes in it and ends 1,000 bytes past a 64 KiB boundary.
  const MIB = 1 << 20;
  const lines = fs.readFileSync(BUSY, 'latin1').split('\n');
  const before = `${lines.slice(0, 3000).join('\n')}\n`;
  const start = before.length;
  const end = Math.ceil((start + MIB + 1) / 65536) * 65536 + 1000;
  const line = `26/11/16,0:0:1,TCP,80,10.0.0.1,51000,10.0.0.2,4,caf\u00e9${'x'.repeat(end - start - 52)}`;
  const file = path.join(dir, 'long-line', 'PR-PORTS-26-11-16-0-0-0.log');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, Buffer.from(`${before}${line}\n${lines.slice(3000, 6000).join('\n')}\n`, 'latin1'));
  t.equal(fs.readFileSync(file).indexOf(0x0a, start), end, `the line ends at byte ${end}`);
  t.ok((await chunksOnWorkers(['parse', file, '--format', 'jsonl'])) > 10, 'chunks before it went to the workers');
  const r = await both(['parse', file, '--format', 'jsonl']);
  t.match(r.single.stderr, /:3001: skipped: line too long/);
  same(t, r);
});

t.test('damaged lines: the same records, the same warnings and summary, the same exit code', async (t) => {
  t.ok((await chunksOnWorkers(['parse', DAMAGED, '--format', 'jsonl'])) > 10, 'chunks went to the workers');
  const r = await both(['parse', DAMAGED, '--format', 'jsonl']);
  t.match(r.single.stderr, /skipped \d+ unreadable lines/);
  same(t, r);
  same(t, await both(['parse', DAMAGED, '--format', 'json', '--quiet']));
  // --strict stops at the first bad line: single-threaded path only, same result.
  same(t, await both(['parse', DAMAGED, '--format', 'jsonl', '--strict']));
  // Chunks smaller than the long line: from there on the file is read the single-threaded way.
  same(t, await both(['parse', DAMAGED, '--format', 'jsonl'], { PORTQRY_PARSE_CHUNK_BYTES: '300' }));
});

t.test('the fixtures: several computers, log sets with PR-PIDS and PR-INITIAL, event logs', async (t) => {
  t.ok((await chunksOnWorkers(['parse', FIX, '--format', 'jsonl'], { PORTQRY_PARSE_CHUNK_BYTES: '256' })) > 0, 'chunks went to the workers');
  same(t, await both(['parse', FIX, '--format', 'jsonl'], { PORTQRY_PARSE_CHUNK_BYTES: '256' }));
  same(t, await both(['parse', FIX, '--format', 'json'], { PORTQRY_PARSE_CHUNK_BYTES: '256' }));
  same(t, await both(['parse', FIX, busy, damaged, '--format', 'jsonl']));
});

t.test('filters and criteria take the single-threaded path: still the same output', async (t) => {
  t.ok((await chunksOnWorkers(['parse', BUSY, '--process', 'svchost.exe'])) <= 0, 'no chunks on workers with a filter');
  same(t, await both(['parse', BUSY, '--process', 'svchost.exe', '--format', 'jsonl']));
  same(t, await both(['parse', BUSY, '--computer', 'SRV9', '--port', '443', '--format', 'json']));
  same(t, await both(['parse', BUSY, '--criteria', path.join(FIX, 'criteria', 'criteria.json'), '--fail-on-flag', '--format', 'jsonl']));
  same(t, await both(['parse', BUSY, '--format', 'csv']));
});

t.test('--out-file: the same file', async (t) => {
  const a = path.join(dir, 'single.jsonl');
  const b = path.join(dir, 'parallel.jsonl');
  const r1 = await run(['parse', BUSY, DAMAGED, '--out-file', a], { env: { ...ENV, PORTQRY_PARSE_CHUNK_BYTES: '4096', PORTQRY_PARSE_WORKERS: '0' } });
  const r2 = await run(['parse', BUSY, DAMAGED, '--out-file', b], { env: { ...ENV, PORTQRY_PARSE_CHUNK_BYTES: '4096', PORTQRY_PARSE_WORKERS: '2' } });
  t.equal(r2.code, r1.code);
  t.equal(r2.stderr, r1.stderr);
  t.equal(r1.stdout, '');
  t.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'files byte for byte');
  t.ok(fs.statSync(a).size > 1_000_000);
});

t.test('a reader that goes away: the workers stop, the command ends', async (t) => {
  const r = await run(['parse', BUSY, '--format', 'jsonl'], { env: { ...ENV, PORTQRY_PARSE_CHUNK_BYTES: '4096', PORTQRY_PARSE_WORKERS: '2' }, timeoutMs: 20_000 });
  t.equal(r.code, 0);
  const cmd = BIN === undefined ? `"${process.execPath}" "${path.join(ROOT, 'dist', 'main.cjs')}"` : `"${BIN}"`;
  const head = execFileSync('sh', ['-c', `PORTQRY_PARSE_CHUNK_BYTES=4096 PORTQRY_PARSE_WORKERS=2 ${cmd} parse "${BUSY}" --format jsonl | head -c 1000 | wc -c`], { encoding: 'utf8', timeout: 20_000 });
  t.equal(head.trim(), '1000');
});
