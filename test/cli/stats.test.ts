import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl, ROOT } from '../helpers/cli';
// In-process (runCli with test IOStreams): the executables are proven by standalone.test.ts and Wine.
import { runInProcess as runCli } from '../helpers/in-process';
import { chromiumPath, chromiumSkip, runChromium } from '../helpers/chromium';
import { schemaErrors, schemaKeys } from '../helpers/schema';

// test/fixtures/stats/logs: SRV1 (PR-INITIAL + PR-PORTS original format + PR-PIDS, 11 records) and
// SRV2 (PR-PORTS only, named by its folder, 2 records). Times are read as UTC (--utc-offset).
// Hand counts: 13 records, 11 TCP, 2 UDP, 8 connections; observed clock hours 03-01 08h, 09h, 10h, 11h and
// 03-02 08h = 5.
const LOGS = path.join(ROOT, 'test', 'fixtures', 'stats', 'logs');
const BASE = ['stats', LOGS, '--utc-offset', '+00:00'];

/** Statistic column value → schema file. */
const SCHEMA_OF = new Map<string, string>(
  fs
    .readdirSync(path.join(ROOT, 'schemas'))
    .filter((f) => f.startsWith('stat-'))
    .map((f) => [JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', f), 'utf8')).properties.Statistic.const as string, f]),
);

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function stats(args: string[]) {
  const r = await runCli([...BASE, ...args]);
  return { ...r, records: r.code === 0 && r.stdout.startsWith('{') ? parseJsonl(r.stdout) : [] };
}

/** RFC 4180 reader: quoted fields, doubled quotes, CRLF rows. What Excel and Import-Csv do, without a library. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field), rows.push(row), (row = []), (field = ''), i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

t.test('every statistic as JSON Lines: valid against its schema, keys in schema order, nothing on stderr', async (t) => {
  const r = await stats(['--json']);
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const kinds = new Set<string>();
  for (const rec of r.records) {
    const file = SCHEMA_OF.get(rec.Statistic as string);
    t.ok(file, `schema for ${rec.Statistic}`);
    t.same(schemaErrors(file!, rec), [], `${rec.Statistic} valid`);
    t.same(Object.keys(rec), schemaKeys(file!), `${rec.Statistic} key order`);
    kinds.add(rec.Statistic as string);
  }
  t.equal(kinds.size, 10, 'all ten statistics by default');
});

t.test('hand-counted figures over real log files', async (t) => {
  const r = await stats(['--json']);
  const of = (name: string) => r.records.filter((x) => x.Statistic === name);
  const port135 = of('LocalTcpPortUsage').find((x) => x.LocalPort === 135)!;
  t.match(port135, { Records: 2, ListenRecords: 1, ConnectionRecords: 1, RecordPercent: 18.18, ActiveHours: 2, PercentOfTime: 40 });
  t.same(of('ProcessUsage').map((x) => [x.ProcessName, x.Records, x.PercentOfTime, x.Instances]), [
    ['svchost.exe', 5, 60, 3],
    ['iexplore.exe', 4, 60, 3],
    ['chrome.exe', 2, 40, 1],
    ['System', 2, 20, 1],
  ]);
  t.same(of('RemoteAddressUsage').map((x) => [x.RemoteAddress, x.Connections, x.ConnectionPercent, x.PercentOfTime]), [
    ['10.0.0.5', 5, 62.5, 80],
    ['10.0.0.7', 1, 12.5, 20],
    ['10.0.0.9', 1, 12.5, 20],
    ['192.0.2.10', 1, 12.5, 20],
  ]);
  t.same(of('UserContextUsage').map((x) => [x.UserName, x.Processes, x.Records]), [
    ['CONTOSO\\alice', 3, 5],
    ['NT AUTHORITY\\NETWORK SERVICE', 2, 4],
    [null, 1, 2],
    ['CONTOSO\\bob', 1, 1],
    ['NT AUTHORITY\\LOCAL SERVICE', 1, 1],
  ]);
  t.same(of('PortUsageByHour').filter((x) => (x.Records as number) > 0).map((x) => [x.Hour, x.Records, x.Days]), [
    [8, 6, 2],
    [9, 3, 1],
    [10, 2, 1],
    [11, 2, 1],
  ]);
  t.same(of('SvchostEnumeration').map((x) => [x.OwningProcess, x.Services, x.ListeningPorts, x.ProcessStartTime]), [
    [800, ['DcomLaunch', 'RpcSs'], ['TCP 135'], '2026-03-01T07:00:00.000Z'],
    [900, ['W32Time'], ['UDP 123'], '2026-03-01T07:00:01.000Z'],
    [1500, ['TermService'], ['TCP 3389'], '2026-03-01T09:29:00.000Z'],
  ], 'services from PR-INITIAL and PR-PIDS, joined per instance');
  t.same(of('ProcessUsageByUser').map((x) => [x.ProcessName, x.UserName, `${x.RemoteAddress}:${x.RemotePort}`, x.Connections]), [
    ['iexplore.exe', 'CONTOSO\\alice', '10.0.0.5:443', 3],
    ['IEXPLORE.EXE', 'CONTOSO\\bob', '10.0.0.9:80', 1],
  ]);
  t.same(of('NewListener').map((x) => [x.ComputerName, x.Protocol, x.LocalPort, x.SeenAtStart, x.FirstSeenLocal]), [
    ['SRV1', 'TCP', 135, true, '2026-03-01T08:00:00'],
    ['SRV1', 'UDP', 123, true, '2026-03-01T08:00:00'],
    ['SRV1', 'TCP', 3389, false, '2026-03-01T09:30:00'],
    ['SRV2', 'TCP', 445, false, '2026-03-01T10:00:00'],
    ['SRV1', 'UDP', 5353, false, '2026-03-01T11:10:00'],
  ]);
  t.same(of('ProcessRemoteEndpoint').slice(0, 2).map((x) => [x.ProcessName, x.Rank, x.RemoteAddress, x.Connections]), [
    ['iexplore.exe', 1, '10.0.0.5', 3],
    ['iexplore.exe', 2, '10.0.0.9', 1],
  ]);
  t.same(of('ComputerConnections').map((x) => [x.ComputerName, x.Records, x.TcpConnections, x.TcpListeners, x.UdpEndpoints, x.RemoteAddresses]), [
    ['SRV1', 11, 7, 2, 2, 4],
    ['SRV2', 2, 1, 1, 0, 1],
  ]);
});

t.test('filters are parse\'s; --process also picks the process of process-by-user', async (t) => {
  const r = await stats(['--process', 'chrome.exe', '--statistic', 'process-usage,process-by-user', '--json']);
  t.equal(r.code, 0);
  t.same(r.records.map((x) => [x.Statistic, x.ProcessName]), [
    ['ProcessUsage', 'chrome.exe'],
    ['ProcessUsageByUser', 'chrome.exe'],
  ]);
  const since = await stats(['--since', '2026-03-02T00:00Z', '--statistic', 'computer', '--json']);
  t.same(since.records.map((x) => [x.ComputerName, x.Records]), [['SRV1', 2]]);
});

t.test('--per-computer: figures per computer; --top limits rows', async (t) => {
  const r = await stats(['--per-computer', '--statistic', 'local-tcp-port', '--json']);
  const srv2 = r.records.filter((x) => x.ComputerName === 'SRV2');
  t.same(srv2.map((x) => [x.LocalPort, x.Records, x.RecordPercent, x.PercentOfTime]), [[445, 2, 100, 100]]);
  t.equal(r.records.filter((x) => x.ComputerName === 'SRV1').length, 7);
  const top = await stats(['--top', '2', '--statistic', 'process-usage', '--json']);
  t.same(top.records.map((x) => x.ProcessName), ['svchost.exe', 'iexplore.exe']);
});

t.test('CSV of one statistic, read back by a plain RFC 4180 reader', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'processes.csv');
  const r = await runCli([...BASE, '--statistic', 'process-usage', '--format', 'csv', '--out-file', file]);
  t.equal(r.code, 0);
  t.equal(r.stdout, '');
  t.equal(r.stderr, '');
  const bytes = fs.readFileSync(file);
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for Excel');
  const rows = readCsv(bytes.subarray(3).toString('utf8'));
  t.same(rows[0], schemaKeys('stat-process-usage.schema.json'));
  const objects = rows.slice(1).map((cells) => Object.fromEntries(rows[0]!.map((k, i) => [k, cells[i]])));
  t.equal(objects.length, 4);
  t.match(objects[0], { Statistic: 'ProcessUsage', ComputerName: '', ProcessName: 'svchost.exe', Records: '5', PercentOfTime: '60', Instances: '3', UserNames: 'NT AUTHORITY\\NETWORK SERVICE; NT AUTHORITY\\LOCAL SERVICE', FirstSeenUtc: '2026-03-01 08:00:00.000' });
  t.ok(rows.every((row) => row.length === rows[0]!.length), 'every row has every column');
});

t.test('usage errors: CSV of several statistics, unknown statistic, bad --top', async (t) => {
  for (const args of [['--format', 'csv'], ['--statistic', 'nope'], ['--top', '0']]) {
    const r = await runCli([...BASE, ...args]);
    t.equal(r.code, 64, args.join(' '));
    t.equal(r.stdout, '');
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  const csv = await runCli([...BASE, '--format', 'csv']);
  t.match(csv.stderr, /--statistic NAME/);
  const bad = await runCli([...BASE, '--statistic', 'process-usage,nope']);
  t.match(bad.stderr, /'nope'/);
  const html = await runCli([...BASE, '--html', path.join(ROOT, 'no-such-dir', 'report.html')]);
  t.equal(html.code, 73, 'an HTML file that cannot be created');
  t.equal(html.stdout, '');
  t.match(html.stderr, /^portqry-ts: .*no-such-dir.*report\.html\n$/);
});

t.test('text output: one heading per statistic, sanitized lines', async (t) => {
  const r = await runCli([...BASE, '--format', 'text', '--statistic', 'svchost,computer']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^svchost\.exe enumeration\n\nSRV1 PID 800 {2}NT AUTHORITY\\NETWORK SERVICE {2}listening: TCP 135 {2}services: DcomLaunch, RpcSs\n/);
  t.match(r.stdout, /\n\nConnections per computer\n\nSRV1 +11 records: 7 connections, 2 listeners, 2 UDP; 4 remote addresses, 3 processes\n/);
});

t.test('--html: a self-contained report that renders in headless Chromium with its charts', { skip: chromiumSkip() }, async (t) => {
  const dir = tempDir(t);
  const report = path.join(dir, 'report.html');
  const r = await runCli([...BASE, '--html', report]);
  t.equal(r.code, 0);
  t.equal(r.stdout, '', 'no records on stdout with --html alone');
  t.equal(r.stderr, '');
  const html = fs.readFileSync(report, 'utf8');
  t.notMatch(html, /\b(?:src|href)="(?:https?:)?\/\//, 'nothing fetched from the network');

  const dom = await runChromium(report, ['--dump-dom']);
  t.equal(dom.code, 0);
  t.match(dom.stdout, /<h1>Port Reporter statistics<\/h1>/);
  const hours = /<figure class="chart" id="chart-hours">[\s\S]*?<\/figure>/.exec(dom.stdout)?.[0] ?? '';
  t.equal(hours.match(/<g class="bar"/g)?.length, 24, '24 hour bars');
  t.match(hours, /data-label="8" data-value="6"/, '6 records at 08h');
  const processes = /<figure class="chart" id="chart-processes">[\s\S]*?<\/figure>/.exec(dom.stdout)?.[0] ?? '';
  t.same([...processes.matchAll(/data-label="([^"]+)" data-value="(\d+)"/g)].map((m) => [m[1], Number(m[2])]), [
    ['svchost.exe', 5],
    ['iexplore.exe', 4],
    ['chrome.exe', 2],
    ['System', 2],
  ]);
  const remotes = /<figure class="chart" id="chart-remote-addresses">[\s\S]*?<\/figure>/.exec(dom.stdout)?.[0] ?? '';
  t.match(remotes, /data-label="10\.0\.0\.5" data-value="5"/);
  t.equal(dom.stdout.match(/<section class="statistic"/g)?.length, 10, 'a table section per statistic');
  // The script ran (the page's CSP allows it) and threw nothing.
  t.match(dom.stdout, /<html[^>]* data-script="ready"/, "the page's script ran to its end");
  t.notMatch(dom.stderr, /Uncaught|SyntaxError|Refused to execute/, 'no script error in Chromium\'s log');
  // What the script does: a click on a header sorts the table (driven by the report's #sort= link).
  const sorted = await runChromium(report, ['--dump-dom'], 60_000, '#sort=stat-process-usage:0:desc');
  t.equal(sorted.code, 0);
  t.notMatch(sorted.stderr, /Uncaught|SyntaxError/);
  const section = /<section class="statistic" id="stat-process-usage">[\s\S]*?<\/section>/.exec(sorted.stdout)?.[0] ?? '';
  const firstColumn = [...section.matchAll(/<tr><td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]!);
  t.ok(firstColumn.length >= 3, `${firstColumn.length} rows`);
  t.same(firstColumn, [...firstColumn].sort((a, b) => b.localeCompare(a)), 'rows sorted by the first column, descending');
  t.match(section, /aria-sort="descending"/);

  const shot = path.join(dir, 'report.png');
  const png = await runChromium(report, ['--window-size=1280,1600', `--screenshot=${shot}`]);
  t.equal(png.code, 0);
  const bytes = fs.readFileSync(shot);
  t.same([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  t.equal(bytes.readUInt32BE(16), 1280, 'screenshot width');
  t.ok(bytes.length > 20_000, `a screenshot with content (${bytes.length} bytes)`);
  if (process.env.STATS_KEEP_SCREENSHOT) fs.copyFileSync(shot, process.env.STATS_KEEP_SCREENSHOT);
});

t.test('--criteria with --fail-on-flag: exit 3 when a counted record matches, 0 otherwise; --flagged-only narrows', async (t) => {
  const dir = tempDir(t);
  const criteria = path.join(dir, 'criteria.json');
  fs.writeFileSync(criteria, JSON.stringify({ Ports: [3389] }));
  const hit = await stats(['--criteria', criteria, '--fail-on-flag', '--statistic', 'computer', '--json']);
  t.equal(hit.code, 3);
  t.equal(hit.stderr, '');
  t.same(parseJsonl(hit.stdout).map((x) => [x.ComputerName, x.Records]), [['SRV1', 11], ['SRV2', 2]], 'statistics still cover every record');
  const only = await stats(['--criteria', criteria, '--flagged-only', '--statistic', 'computer', '--json']);
  t.same(only.records.map((x) => [x.ComputerName, x.Records]), [['SRV1', 2]], 'the two RDP records');
  fs.writeFileSync(criteria, JSON.stringify({ Ports: [6667] }));
  const miss = await stats(['--criteria', criteria, '--fail-on-flag', '--statistic', 'computer', '--json']);
  t.equal(miss.code, 0);
});
