import t from 'tap';
import { computeStatistics, type StatisticResult } from '../../src/stats/engine';
import { IndexSet } from '../../src/stats/index-set';
import { findStatistic, STATISTICS } from '../../src/stats/registry';
import { processKey } from '../../src/stats/statistic';
import { timeBuckets } from '../../src/stats/time';
import { FIXTURE, record } from '../fixtures/stats/records';
import { schemaErrors } from '../helpers/schema';
import { prng } from '../helpers/prng';

// Every expectation below is counted by hand from test/fixtures/stats/records.ts (15 records, one of
// them Closed and so not counted): 14 counted, 12 TCP, 2 UDP, 9 connections, observed clock hours
// 03-01 08h, 09h, 10h, 11h and 03-02 08h = 5.

const iexplore = (name: string | null) => processKey(name) === 'iexplore.exe';

async function run(names: string[], options: { perComputer?: boolean; top?: number; isReportedProcess?: (n: string | null) => boolean } = {}) {
  const statistics = names.map((n) => findStatistic(n)!);
  const results = await computeStatistics(FIXTURE, statistics, { isReportedProcess: iexplore, ...options });
  return results;
}
const rowsOf = (results: StatisticResult[], name: string) => results.find((r) => r.statistic.name === name)!.rows;
const pick = (rows: Record<string, unknown>[], keys: string[]) => rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));

t.test('local TCP port usage', async (t) => {
  const rows = rowsOf(await run(['local-tcp-port']), 'local-tcp-port');
  t.same(
    rows.map((r) => r.LocalPort),
    [135, 445, 3389, 49700, 49701, 49702, 49800, 49801, 49999],
    'most records first, ties by port',
  );
  t.same(rows[0], {
    Statistic: 'LocalTcpPortUsage',
    ComputerName: null,
    LocalPort: 135,
    Records: 2,
    ListenRecords: 1,
    ConnectionRecords: 1,
    RecordPercent: 16.67,
    ActiveHours: 2,
    PercentOfTime: 40,
    ProcessNames: ['svchost.exe'],
    FirstSeenUtc: '2026-03-01T08:00:00.000Z',
    LastSeenUtc: '2026-03-01T11:00:00.000Z',
  });
  t.same(pick([rows[1]!, rows[2]!], ['LocalPort', 'Records', 'ActiveHours', 'PercentOfTime', 'ProcessNames']), [
    { LocalPort: 445, Records: 2, ActiveHours: 1, PercentOfTime: 20, ProcessNames: ['System'] },
    { LocalPort: 3389, Records: 2, ActiveHours: 1, PercentOfTime: 20, ProcessNames: ['svchost.exe'] },
  ]);
  t.same(pick([rows[3]!, rows[8]!], ['Records', 'RecordPercent', 'ActiveHours', 'FirstSeenUtc']), [
    { Records: 1, RecordPercent: 8.33, ActiveHours: 1, FirstSeenUtc: '2026-03-01T08:10:00.000Z' },
    { Records: 1, RecordPercent: 8.33, ActiveHours: 0, FirstSeenUtc: null },
  ], 'a record without time counts in Records but in no hour');
});

t.test('process usage: names without case, instances, users, paths', async (t) => {
  const rows = rowsOf(await run(['process-usage']), 'process-usage');
  t.same(pick(rows, ['ProcessName', 'Records', 'RecordPercent', 'ActiveHours', 'PercentOfTime', 'Instances']), [
    { ProcessName: 'svchost.exe', Records: 5, RecordPercent: 35.71, ActiveHours: 3, PercentOfTime: 60, Instances: 3 },
    { ProcessName: 'iexplore.exe', Records: 4, RecordPercent: 28.57, ActiveHours: 3, PercentOfTime: 60, Instances: 3 },
    { ProcessName: 'chrome.exe', Records: 2, RecordPercent: 14.29, ActiveHours: 2, PercentOfTime: 40, Instances: 1 },
    { ProcessName: 'System', Records: 2, RecordPercent: 14.29, ActiveHours: 1, PercentOfTime: 20, Instances: 1 },
    { ProcessName: null, Records: 1, RecordPercent: 7.14, ActiveHours: 0, PercentOfTime: 0, Instances: 1 },
  ]);
  t.same(rows[0]!.UserNames, ['NT AUTHORITY\\NETWORK SERVICE', 'NT AUTHORITY\\LOCAL SERVICE']);
  t.same(rows[1]!.UserNames, ['CONTOSO\\alice', 'CONTOSO\\bob']);
  t.same(rows[1]!.ProcessPaths, ['C:\\Program Files\\Internet Explorer\\iexplore.exe']);
});

t.test('remote IP address usage', async (t) => {
  const rows = rowsOf(await run(['remote-address']), 'remote-address');
  t.same(rows.map((r) => r.RemoteAddress), ['10.0.0.5', '10.0.0.7', '10.0.0.9', '192.0.2.10']);
  t.same(pick([rows[0]!], ['Connections', 'ConnectionPercent', 'ActiveHours', 'PercentOfTime', 'RemotePorts', 'ProcessNames']), [
    { Connections: 6, ConnectionPercent: 66.67, ActiveHours: 4, PercentOfTime: 80, RemotePorts: [443, 50123, 50200], ProcessNames: ['iexplore.exe', 'System', 'svchost.exe'] },
  ]);
  t.same(pick([rows[3]!], ['Connections', 'ConnectionPercent', 'RemoteHostName']), [{ Connections: 1, ConnectionPercent: 11.11, RemoteHostName: 'proxy.example' }]);
});

t.test('user context usage: process instances per user', async (t) => {
  const rows = rowsOf(await run(['user-context']), 'user-context');
  t.same(pick(rows, ['UserName', 'Processes', 'ProcessPercent', 'Records', 'RecordPercent']), [
    { UserName: 'CONTOSO\\alice', Processes: 3, ProcessPercent: 33.33, Records: 5, RecordPercent: 35.71 },
    { UserName: 'NT AUTHORITY\\NETWORK SERVICE', Processes: 2, ProcessPercent: 22.22, Records: 4, RecordPercent: 28.57 },
    { UserName: null, Processes: 2, ProcessPercent: 22.22, Records: 3, RecordPercent: 21.43 },
    { UserName: 'CONTOSO\\bob', Processes: 1, ProcessPercent: 11.11, Records: 1, RecordPercent: 7.14 },
    { UserName: 'NT AUTHORITY\\LOCAL SERVICE', Processes: 1, ProcessPercent: 11.11, Records: 1, RecordPercent: 7.14 },
  ]);
  t.same(rows[0]!.ProcessNames, ['iexplore.exe', 'chrome.exe']);
});

t.test('port usage by hour of day, in server local time', async (t) => {
  const rows = rowsOf(await run(['hour-of-day']), 'hour-of-day');
  t.equal(rows.length, 24);
  t.same(rows.map((r) => r.Hour), [...Array(24).keys()]);
  const busy = pick(rows.filter((r) => (r.Records as number) > 0), ['Hour', 'Records', 'TcpRecords', 'UdpRecords', 'RecordPercent', 'Days', 'AveragePerDay', 'DistinctLocalPorts']);
  t.same(busy, [
    { Hour: 8, Records: 6, TcpRecords: 5, UdpRecords: 1, RecordPercent: 46.15, Days: 2, AveragePerDay: 3, DistinctLocalPorts: 6 },
    { Hour: 9, Records: 3, TcpRecords: 3, UdpRecords: 0, RecordPercent: 23.08, Days: 1, AveragePerDay: 1.5, DistinctLocalPorts: 2 },
    { Hour: 11, Records: 4, TcpRecords: 3, UdpRecords: 1, RecordPercent: 30.77, Days: 1, AveragePerDay: 2, DistinctLocalPorts: 3 },
  ], 'SRV2 logged at 10h UTC, which is 11h on its clock');
});

t.test('svchost.exe enumeration: services per instance', async (t) => {
  const rows = rowsOf(await run(['svchost']), 'svchost');
  t.same(pick(rows, ['ComputerName', 'OwningProcess', 'UserName', 'Services', 'ListeningPorts', 'Records']), [
    { ComputerName: 'SRV1', OwningProcess: 800, UserName: 'NT AUTHORITY\\NETWORK SERVICE', Services: ['DcomLaunch', 'RpcSs'], ListeningPorts: ['TCP 135'], Records: 2 },
    { ComputerName: 'SRV1', OwningProcess: 900, UserName: 'NT AUTHORITY\\LOCAL SERVICE', Services: ['W32Time'], ListeningPorts: ['UDP 123'], Records: 1 },
    { ComputerName: 'SRV1', OwningProcess: 1500, UserName: 'NT AUTHORITY\\NETWORK SERVICE', Services: ['TermService'], ListeningPorts: ['TCP 3389'], Records: 2 },
  ]);
  t.equal(rows[0]!.ProcessStartTime, '2026-03-01T07:00:00.000Z');
  t.equal(rows[0]!.ProcessPath, 'C:\\Windows\\System32\\svchost.exe');
});

t.test('svchost.exe enumeration: UDP client sockets (dynamic range) are not listening ports', async (t) => {
  // The DNS client in a svchost.exe opens a UDP socket per query from the dynamic range: a week of a
  // busy server's log listed 1,500 of them per instance (14 KB rows) and grew the table for as long
  // as the log ran. As in new-listener, a UDP endpoint listens only below 49152.
  const base = { ProcessName: 'svchost.exe', OwningProcess: 1200, TimeUtc: '2026-03-01T08:00:00.000Z' };
  const records = [
    record({ ...base, Protocol: 'UDP', LocalPort: 53, RemoteAddress: '*' }),
    record({ ...base, Protocol: 'UDP', LocalPort: 49152, RemoteAddress: '*' }),
    record({ ...base, Protocol: 'UDP', LocalPort: 61000, RemoteAddress: '*' }),
    record({ ...base, Protocol: 'UDP', LocalPort: 49151, RemoteAddress: '*' }),
    record({ ...base, Protocol: 'TCP', LocalPort: 135, RemoteAddress: '0.0.0.0', State: 'Listen' }),
    record({ ...base, Protocol: 'TCP', LocalPort: 50000, RemoteAddress: '0.0.0.0', State: 'Listen' }),
  ];
  const rows = rowsOf(await computeStatistics(records, [findStatistic('svchost')!], { isReportedProcess: iexplore }), 'svchost');
  t.same(rows.map((r) => r.ListeningPorts), [['TCP 135', 'TCP 50000', 'UDP 53', 'UDP 49151']], 'TCP listeners at any port; UDP below the dynamic range');
  t.equal(rows[0]!.Records, 6, 'every record of the instance is still counted');
});

t.test('process usage by user: iexplore.exe by default, any process on request', async (t) => {
  const rows = rowsOf(await run(['process-by-user']), 'process-by-user');
  t.same(pick(rows, ['ProcessName', 'UserName', 'RemoteAddress', 'RemotePort', 'Connections', 'FirstSeenUtc', 'LastSeenUtc']), [
    { ProcessName: 'iexplore.exe', UserName: 'CONTOSO\\alice', RemoteAddress: '10.0.0.5', RemotePort: 443, Connections: 3, FirstSeenUtc: '2026-03-01T08:10:00.000Z', LastSeenUtc: '2026-03-02T08:15:00.000Z' },
    { ProcessName: 'IEXPLORE.EXE', UserName: 'CONTOSO\\bob', RemoteAddress: '10.0.0.9', RemotePort: 80, Connections: 1, FirstSeenUtc: '2026-03-01T09:05:00.000Z', LastSeenUtc: '2026-03-01T09:05:00.000Z' },
  ]);
  const chrome = rowsOf(await run(['process-by-user'], { isReportedProcess: (n) => n === 'chrome.exe' }), 'process-by-user');
  t.same(pick(chrome, ['UserName', 'RemoteAddress', 'RemotePort', 'RemoteHostName', 'Connections']), [
    { UserName: 'CONTOSO\\alice', RemoteAddress: '192.0.2.10', RemotePort: 8080, RemoteHostName: 'proxy.example', Connections: 1 },
  ], 'the UDP endpoint of chrome.exe is not a connection');
});

t.test('new listeners over time', async (t) => {
  const rows = rowsOf(await run(['new-listener']), 'new-listener');
  t.same(pick(rows, ['ComputerName', 'Protocol', 'LocalPort', 'ProcessName', 'FirstSeenUtc', 'SeenAtStart', 'Records', 'SourceLine']), [
    { ComputerName: 'SRV1', Protocol: 'TCP', LocalPort: 135, ProcessName: 'svchost.exe', FirstSeenUtc: '2026-03-01T08:00:00.000Z', SeenAtStart: true, Records: 1, SourceLine: 20 },
    { ComputerName: 'SRV1', Protocol: 'UDP', LocalPort: 123, ProcessName: 'svchost.exe', FirstSeenUtc: '2026-03-01T08:00:00.000Z', SeenAtStart: true, Records: 1, SourceLine: 21 },
    { ComputerName: 'SRV1', Protocol: 'TCP', LocalPort: 3389, ProcessName: 'svchost.exe', FirstSeenUtc: '2026-03-01T09:30:00.000Z', SeenAtStart: false, Records: 1, SourceLine: 11 },
    { ComputerName: 'SRV2', Protocol: 'TCP', LocalPort: 445, ProcessName: 'System', FirstSeenUtc: '2026-03-01T10:00:00.000Z', SeenAtStart: false, Records: 1, SourceLine: 8 },
    { ComputerName: 'SRV1', Protocol: 'UDP', LocalPort: 5353, ProcessName: 'chrome.exe', FirstSeenUtc: '2026-03-01T11:10:00.000Z', SeenAtStart: false, Records: 1, SourceLine: 14 },
  ]);
  t.equal(rows[3]!.FirstSeenLocal, '2026-03-01T11:00:00');
  const later = rowsOf(await computeStatistics([...FIXTURE].reverse(), [findStatistic('new-listener')!], { isReportedProcess: iexplore }), 'new-listener');
  t.same(later, rows, 'the first sighting wins whatever order the files are read in');
  const client = record({ TimeUtc: '2026-03-03T00:00:00.000Z', Protocol: 'UDP', LocalPort: 61000, ProcessName: 'chrome.exe' });
  const withClient = rowsOf(await computeStatistics([...FIXTURE, client], [findStatistic('new-listener')!], { isReportedProcess: iexplore }), 'new-listener');
  t.same(withClient, rows, 'a UDP socket in the dynamic range is a client, not a listener');
  const newest = rowsOf(await run(['new-listener'], { top: 2 }), 'new-listener');
  t.same(newest.map((r) => r.LocalPort), [445, 5353], '--top keeps the newest');
});

t.test('top remote endpoints per process', async (t) => {
  const rows = rowsOf(await run(['process-endpoint']), 'process-endpoint');
  t.same(pick(rows, ['ProcessName', 'Rank', 'RemoteAddress', 'RemotePort', 'Connections', 'ConnectionPercent']), [
    { ProcessName: 'iexplore.exe', Rank: 1, RemoteAddress: '10.0.0.5', RemotePort: 443, Connections: 3, ConnectionPercent: 75 },
    { ProcessName: 'iexplore.exe', Rank: 2, RemoteAddress: '10.0.0.9', RemotePort: 80, Connections: 1, ConnectionPercent: 25 },
    { ProcessName: 'svchost.exe', Rank: 1, RemoteAddress: '10.0.0.5', RemotePort: 50123, Connections: 1, ConnectionPercent: 50 },
    { ProcessName: 'svchost.exe', Rank: 2, RemoteAddress: '10.0.0.7', RemotePort: 50000, Connections: 1, ConnectionPercent: 50 },
    { ProcessName: null, Rank: 1, RemoteAddress: '10.0.0.5', RemotePort: 443, Connections: 1, ConnectionPercent: 100 },
    { ProcessName: 'chrome.exe', Rank: 1, RemoteAddress: '192.0.2.10', RemotePort: 8080, Connections: 1, ConnectionPercent: 100 },
    { ProcessName: 'System', Rank: 1, RemoteAddress: '10.0.0.5', RemotePort: 50200, Connections: 1, ConnectionPercent: 100 },
  ]);
  const top1 = rowsOf(await run(['process-endpoint'], { top: 1 }), 'process-endpoint');
  t.same(top1.map((r) => `${r.ProcessName}:${r.Rank}`), ['iexplore.exe:1', 'svchost.exe:1', 'null:1', 'chrome.exe:1', 'System:1']);
});

t.test('connections per computer', async (t) => {
  const rows = rowsOf(await run(['computer']), 'computer');
  t.same(pick(rows, ['ComputerName', 'Records', 'TcpConnections', 'TcpListeners', 'UdpEndpoints', 'RemoteAddresses', 'Processes', 'ActiveHours']), [
    { ComputerName: 'SRV1', Records: 11, TcpConnections: 7, TcpListeners: 2, UdpEndpoints: 2, RemoteAddresses: 4, Processes: 3, ActiveHours: 4 },
    { ComputerName: 'SRV2', Records: 3, TcpConnections: 2, TcpListeners: 1, UdpEndpoints: 0, RemoteAddresses: 1, Processes: 1, ActiveHours: 1 },
  ]);
});

t.test('--per-computer: every figure relative to its own computer', async (t) => {
  const rows = rowsOf(await run(['local-tcp-port'], { perComputer: true }), 'local-tcp-port');
  const srv2 = rows.filter((r) => r.ComputerName === 'SRV2');
  t.same(pick(srv2, ['LocalPort', 'Records', 'RecordPercent', 'ActiveHours', 'PercentOfTime']), [
    { LocalPort: 445, Records: 2, RecordPercent: 66.67, ActiveHours: 1, PercentOfTime: 100 },
    { LocalPort: 49999, Records: 1, RecordPercent: 33.33, ActiveHours: 0, PercentOfTime: 0 },
  ]);
  t.same(rows.filter((r) => r.ComputerName === 'SRV1').map((r) => r.LocalPort), [135, 3389, 49700, 49701, 49702, 49800, 49801]);
  const hours = rowsOf(await run(['hour-of-day'], { perComputer: true }), 'hour-of-day');
  t.equal(hours.length, 48, '24 rows per computer');
});

t.test('every row of every statistic validates against its schema, keys in schema order', async (t) => {
  const results = await computeStatistics(FIXTURE, STATISTICS, { isReportedProcess: iexplore });
  for (const { statistic, rows } of results) {
    t.ok(rows.length > 0, `${statistic.name} has rows`);
    for (const row of rows) {
      t.same(schemaErrors(`stat-${statistic.name}.schema.json`, row), [], `${statistic.name} row valid`);
      t.same(Object.keys(row), statistic.kind.keys, `${statistic.name} key order`);
    }
  }
});

t.test('no records: empty statistics, 24 zero hours', async (t) => {
  const results = await computeStatistics([], STATISTICS, { isReportedProcess: iexplore });
  t.same(
    results.map(({ statistic, rows }) => [statistic.name, rows.length]),
    results.map(({ statistic }) => [statistic.name, statistic.name === 'hour-of-day' ? 24 : 0]),
    'every statistic empty but hour-of-day (24 zero rows)',
  );
});

t.test('time buckets', async (t) => {
  t.same(timeBuckets('2026-03-01T10:30:00.000Z', '2026-03-01T11:30:00'), { hour: 20513 * 24 + 10, hourOfDay: 11, day: 20513 });
  t.same(timeBuckets(null, null), { hour: -1, hourOfDay: -1, day: -1 });
  t.same(timeBuckets('garbage', null), { hour: -1, hourOfDay: -1, day: -1 });
});

t.test('IndexSet: dense growth both ways, sparse for bogus ranges', async (t) => {
  const set = new IndexSet();
  const want = new Set<number>();
  for (const n of [500_000, 500_001, 500_000, 499_000, 501_000, 499_968, 510_000, 498_000]) {
    set.add(n);
    want.add(n);
  }
  t.equal(set.size, want.size);
  t.same([...want].filter((n) => !set.has(n)), [], 'every added index is there (missing ones shown)');
  t.notOk(set.has(500_002));
  set.add(10); // 57 years away: switches to sparse words
  set.add(10);
  t.equal(set.size, want.size + 1);
  t.same([...want, 10].filter((n) => !set.has(n)), [], 'still there after the switch to sparse words');
  set.add(0);
  t.ok(set.has(0));
  t.notOk(set.has(11));
  const random = new IndexSet();
  const check = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const n = 400_000 + ((i * 7919) % 5000);
    random.add(n);
    check.add(n);
  }
  t.equal(random.size, check.size);
});

t.test('record helper: base shape', async (t) => {
  t.equal(record({}).Event, 'Opened');
});

t.test('bounded memory: a top-N table prunes its least used keys past twice its capacity', async (t) => {
  const { BoundedTable, Tally } = await import('../../src/stats/statistic');
  const table = new BoundedTable<{ records: number }>(10);
  for (let i = 0; i < 5; i++) (table.get('heavy') ?? table.add('heavy', { records: 0 })).records += 1000;
  for (let i = 0; i < 10_000; i++) table.add(`light-${i}`, { records: 1 });
  t.ok(table.entries.size <= 20, `at most twice the capacity (${table.entries.size})`);
  t.equal(table.entries.get('heavy')?.records, 5000, 'the heavy key survives, exact');
  t.ok(table.pruned);
  t.equal(table.admit('once-more'), 0, 'after pruning, a key seen once does not get an entry');
  let admitted = 0;
  for (let i = 0; i < 10 && admitted === 0; i++) admitted = table.admit('rising');
  t.ok(admitted >= 2, `a key seen as often as the weakest kept one is admitted, with its count (${admitted})`);
  const tally = new Tally<number>();
  for (let port = 49152; port < 65536; port++) tally.add(port);
  for (let i = 0; i < 100; i++) tally.add(443);
  t.same(tally.top(1), [443]);
  t.ok(tally.top().length <= 16, 'a tally keeps 16 values at most');
  t.ok(tally.pruned, 'and says its list is approximate once it replaced one');
});

t.test('Tally: exact up to 16 values; Space-Saving beyond keeps every value seen more often than the smallest count', async (t) => {
  const { Tally } = await import('../../src/stats/statistic');
  const exact = new Tally();
  for (let i = 0; i < 16; i++) for (let n = 0; n <= i; n++) exact.add(`p${i}`);
  t.same(exact.top(3), ['p15', 'p14', 'p13'], 'most counted first');
  t.notOk(exact.pruned);
  t.same(exact.top(), Array.from({ length: 16 }, (_, i) => `p${15 - i}`), 'all 16 kept in order');
  exact.add(null);
  exact.add('');
  t.equal(exact.top().length, 16, 'null and empty are not values');

  // Interleaved: 3 busy values among 3,000 one-off ephemeral ports, as a server's client ports look.
  // N = 4,584 occurrences; with 16 counters every value seen more than N/16 = 286 times is kept, with a
  // count over by at most 286, so the three (750, 500 and 334 times) outrank every one-off.
  const stream = new Tally<number>();
  for (let i = 0; i < 3000; i++) {
    stream.add(40000 + i);
    if (i % 4 === 0) stream.add(443);
    if (i % 6 === 0) stream.add(80);
    if (i % 9 === 0) stream.add(8080);
  }
  t.same([...stream.top(3)].sort((x, y) => x - y), [80, 443, 8080], 'the heavy hitters come out on top');
  t.equal(stream.top(1)[0], 443, 'the heaviest first');

  // Merge: saved counts add up; two exact tallies with 16 values in all stay exact.
  const a = new Tally();
  const b = new Tally();
  for (let i = 0; i < 8; i++) for (let n = 0; n <= i; n++) a.add(`x${i}`);
  for (let i = 0; i < 8; i++) for (let n = 0; n <= i; n++) b.add(`x${i + 4}`);
  a.merge(b.save());
  t.notOk(a.pruned, '12 distinct values: exact');
  t.same(a.top(2), ['x7', 'x6'], 'x7 = 8 + 4, x6 = 7 + 3');
  const c = new Tally<number>();
  c.merge(stream.save());
  t.ok(c.pruned, 'an approximate tally stays marked approximate through a merge');
});

t.test('addressKey / endpointKey: IPv4 as numbers, everything else as the string, no two addresses alike', async (t) => {
  const { addressKey, endpointKey } = await import('../../src/stats/statistic');
  t.equal(addressKey('0.0.0.0'), 0);
  t.equal(addressKey('10.1.2.3'), 10 * 2 ** 24 + 1 * 2 ** 16 + 2 * 256 + 3);
  // Signed 32-bit (a small integer to V8): 255.255.255.255 is -1; endpointKey reads it back unsigned.
  t.equal(addressKey('255.255.255.255'), -1);
  t.equal(addressKey('172.16.0.1'), (172 * 2 ** 24 + 16 * 2 ** 16 + 1) | 0);
  for (const s of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.', '.1.2.3', '1.2.3.4a', '1234.1.1.1', '::1', '2001:db8::1', '', 'fe80::1%eth0']) {
    t.equal(addressKey(s), s, `${JSON.stringify(s)} stays a string`);
  }
  const seen = new Map<string | number, string>();
  for (const a of ['10.0.0.1', '10.0.1.0', '1.0.0.10', '2001:db8::1']) for (const p of [null, 0, 1, 443, 65535]) {
    const k = endpointKey(a, p);
    t.notOk(seen.has(k), `${a}:${p} has a key of its own`);
    seen.set(k, `${a}:${p}`);
  }
  t.ok(Number.isSafeInteger(endpointKey('255.255.255.255', 65535) as number), 'the largest IPv4 endpoint key is exact in a double');
  t.equal(endpointKey('255.255.255.255', 65535), (2 ** 32 - 1) * 65537 + 65536, 'endpoint keys as before (unsigned address)');
});

t.test('distinctAddressKey: distinct texts stay distinct, addressText gives each text back', async (t) => {
  const { distinctAddressKey, addressText } = await import('../../src/stats/statistic');
  const texts = ['10.0.0.1', '010.0.0.1', '10.0.0.01', '10.00.0.1', '0.0.0.0', '255.255.255.255', '198.18.3.4', '172.31.255.0', '::1', '2001:db8::1', '1.2.3', ''];
  const keys = new Set(texts.map(distinctAddressKey));
  t.equal(keys.size, texts.length, 'one key per text');
  for (const a of texts) t.equal(addressText(distinctAddressKey(a)), a, `${JSON.stringify(a)} round-trips`);
  t.type(distinctAddressKey('198.18.3.4'), 'number');
  t.type(distinctAddressKey('010.0.0.1'), 'string', 'a leading zero keeps the text');
});

t.test('distinctAddressKey parses once what addressKey and a leading-zero check gave, addressKeyOf gives addressKey back', async (t) => {
  const { distinctAddressKey, addressKey, addressKeyOf } = await import('../../src/stats/statistic');
  // The definition before the one-pass parse: addressKey, then the text kept for a leading zero.
  const reference = (address: string): string | number => {
    const key = addressKey(address);
    if (typeof key === 'string') return key;
    for (let i = 0; i < address.length - 1; i++) {
      if (address.charCodeAt(i) === 48 && (i === 0 || address.charCodeAt(i - 1) === 46) && address.charCodeAt(i + 1) !== 46) return address;
    }
    return key;
  };
  const random = prng(11);
  const pieces = ['0', '00', '1', '01', '10', '100', '255', '256', '007', '1000', '', 'a', ':'];
  let differ = 0;
  let numbers = 0;
  let leadingZeros = 0;
  for (let i = 0; i < 20_000; i++) {
    const parts = Array.from({ length: random() < 0.7 ? 4 : 2 + Math.floor(random() * 4) }, () => pieces[Math.floor(random() * pieces.length)]!);
    const text = parts.join(random() < 0.9 ? '.' : ':');
    const key = distinctAddressKey(text);
    if (typeof key === 'number') numbers++;
    else if (typeof addressKey(text) === 'number') leadingZeros++;
    if (key !== reference(text)) differ++;
    if (addressKeyOf(key) !== addressKey(text)) differ++;
  }
  t.equal(differ, 0, 'the same keys on 20,000 address-like texts');
  t.ok(numbers > 200 && leadingZeros > 200, `${numbers} of them IPv4 keys, ${leadingZeros} IPv4 with a leading zero`);
});

/** Space-Saving as Tally documents it, written plainly (two arrays, no inline slot): the reference. */
class ReferenceTally<K extends string | number> {
  values: K[] = [];
  counts: number[] = [];
  pruned = false;
  add(value: K | null, times = 1): void {
    if (value === null || value === '') return;
    const i = this.values.indexOf(value);
    if (i >= 0) this.counts[i]! += times;
    else if (this.values.length < 16) {
      this.values.push(value);
      this.counts.push(times);
    } else {
      let min = 0;
      for (let j = 1; j < 16; j++) if (this.counts[j]! < this.counts[min]!) min = j;
      this.values[min] = value;
      this.counts[min]! += times;
      this.pruned = true;
    }
  }
  save(): (readonly [K, number] | 1)[] {
    const out: (readonly [K, number] | 1)[] = this.values.map((v, i) => [v, this.counts[i]!] as const);
    if (this.pruned) out.push(1);
    return out;
  }
}

t.test('Tally: the same slots, counts, tops and saved form as plain Space-Saving, on random streams', async (t) => {
  const { Tally } = await import('../../src/stats/statistic');
  let seed = 12345;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let checked = 0;
  // Streams of 1, 2, 16, 17 and many distinct values, skewed or flat, single and repeated counts.
  // (The port lists of remote-address: PortTallyColumns, test/unit/stats-columns.test.ts.)
  for (const distinct of [1, 2, 3, 16, 17, 40, 5000]) {
    for (let round = 0; round < 6; round++) {
      const names = new Tally();
      const refNames = new ReferenceTally<string>();
      const length = 1 + next(400);
      for (let i = 0; i < length; i++) {
        const v = round % 2 === 0 ? next(distinct) : Math.floor(distinct * (next(1000) / 1000) ** 3);
        const times = round >= 4 ? 1 + next(20_000) : 1;
        names.add(`name-${v}`, times);
        refNames.add(`name-${v}`, times);
      }
      t.same(names.save(), refNames.save(), `names: ${distinct} distinct, round ${round}`);
      t.equal(names.pruned, refNames.pruned);
      checked++;
    }
  }
  t.equal(checked, 42);
});

t.test('engine: rows statistic by statistic with release give results() rows, and a released statistic cannot be used again', async (t) => {
  const { StatsEngine } = await import('../../src/stats/engine');
  const make = () => {
    const engine = new StatsEngine(STATISTICS, { isReportedProcess: iexplore, perComputer: true });
    for (const r of FIXTURE) engine.add(r);
    return engine;
  };
  const whole = make().results();
  const engine = make();
  const streamed = engine.selected.map((statistic, i) => ({ statistic, rows: [...engine.rowsOf(i, true)] }));
  t.same(streamed, whole);
  t.ok(streamed.some((r) => r.rows.length > 0));
  t.throws(() => [...engine.rowsOf(0)], /already written and released/);
});

t.test('engine: a batch counted statistic by statistic gives the counts of record-by-record counting', async (t) => {
  const { StatsEngine } = await import('../../src/stats/engine');
  // The fixture with its computers interleaved and a Closed event inside runs, repeated with shifted
  // times so that batches hold several seconds, hours and computers.
  const records = [...FIXTURE, ...FIXTURE.slice().reverse(), ...FIXTURE.map((r, i) => ({ ...r, ComputerName: i % 3 === 0 ? 'OTHER' : r.ComputerName }))];
  for (const perComputer of [false, true]) {
    const one = new StatsEngine(STATISTICS, { isReportedProcess: iexplore, perComputer });
    for (const r of records) one.add(r);
    for (const size of [2, 5, 16, records.length]) {
      const batched = new StatsEngine(STATISTICS, { isReportedProcess: iexplore, perComputer });
      for (let i = 0; i < records.length; i += size) batched.addBatch(records.slice(i, i + size));
      t.same(batched.results(), one.results(), `perComputer ${perComputer}, batches of ${size}`);
      t.same(batched.save(), one.save(), `saved state, perComputer ${perComputer}, batches of ${size}`);
      t.equal(batched.records, one.records);
    }
  }
  t.ok(records.some((r) => r.Event === 'Closed'), 'Closed events are in the batches');
});

t.test('facts.remoteKey: parsed only when a selected statistic declares readsRemoteKey, and each one that reads it declares it', async (t) => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { StatsEngine } = await import('../../src/stats/engine');
  for (const s of STATISTICS) {
    const source = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'src', 'stats', 'statistics', `${s.name}.ts`), 'utf8');
    t.equal(s.readsRemoteKey === true, source.includes('facts.remoteKey'), `${s.name}: declared as its add() reads it`);
  }
  const seen = (readsRemoteKey: true | undefined): (string | number)[] => {
    const keys: (string | number)[] = [];
    const probe = { ...STATISTICS[0]!, name: 'probe', readsRemoteKey, create: () => ({ add: (_r: unknown, f: { remoteKey: string | number }) => void keys.push(f.remoteKey), rows: () => [], save: () => null, merge() {}, approximate: () => false }) };
    const engine = new StatsEngine([probe], { isReportedProcess: () => false, perComputer: false });
    engine.addBatch([
      record({ TimeUtc: '2026-11-16T08:00:00.000Z', LocalPort: 443, RemoteAddress: '10.0.0.1', RemotePort: 50000, State: 'Established' }),
      record({ TimeUtc: '2026-11-16T08:00:00.000Z', LocalPort: 443, RemoteAddress: '2001:db8::1', RemotePort: 50001, State: 'Established' }),
      record({ TimeUtc: '2026-11-16T08:00:00.000Z', LocalPort: 80, State: 'Listen' }),
    ]);
    return keys;
  };
  t.same(seen(true), [(10 << 24) + 1, '2001:db8::1', ''], 'declared: the connections\' keys, none for a listener');
  t.same(seen(undefined), ['', '', ''], 'not declared: no address parsed');
});
