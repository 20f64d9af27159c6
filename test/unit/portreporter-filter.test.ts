import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';
import { compileCriteria, checkCriteria, normalizeFolder } from '../../src/portreporter/criteria';
import { parseAddressMatcher } from '../../src/portreporter/address';
import { readPortReporterRecords, type ReadOptions } from '../../src/portreporter/read';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { createReverseResolver } from '../../src/dns/reverse';
import { createResolver, resolveInOrder } from '../../src/portreporter/resolve';
import type { FilterOptions } from '../../src/portreporter/filter';

const PORTS = path.join(ROOT, 'test', 'fixtures', 'portreporter', 'ours', 'SRV01', 'PR-PORTS-26-11-25-22-34-17.log');
const NAMES: Record<string, string> = { '203.0.113.7': 'www.example.net', '198.51.100.9': 'c2.bad.test' };
const fakeLookup = async (a: string) => NAMES[a] ?? null;

async function rows(filter: FilterOptions, options: ReadOptions = {}): Promise<number[]> {
  const out: PortReporterRecord[] = [];
  for await (const r of readPortReporterRecords([PORTS], { utcOffsetMinutes: 0, filter, ...options })) out.push(r);
  // Row index in the fixture (rows start on line 8).
  return out.map((r) => r.SourceLine - 8);
}

t.test('each filter', async (t) => {
  t.same(await rows({}), [0, 1, 2, 3, 4, 5, 6]);
  t.same(await rows({ protocol: ['udp'] }), [1]);
  t.same(await rows({ protocol: ['TCP,udp'] }), [0, 1, 2, 3, 4, 5, 6]);
  t.same(await rows({ port: ['443'] }), [2]);
  t.same(await rows({ port: ['1000-2000'] }), [4, 5]);
  t.same(await rows({ port: ['135', '4444'] }), [0, 3]);
  t.same(await rows({ localPort: ['135,5353'] }), [0, 1]);
  t.same(await rows({ remotePort: ['445'] }), [6]);
  t.same(await rows({ process: ['svchost.exe'] }), [0, 1, 2, 3, 6]);
  t.same(await rows({ process: ['SQL*'] }), [4, 5]);
  t.same(await rows({ process: ['C:\\Users\\*'] }), [2, 3], 'a pattern with a backslash matches the path');
  t.same(await rows({ module: ['payload.dll'] }), [2, 3]);
  t.same(await rows({ module: ['*\\System32\\rpcss.dll'] }), [0, 6]);
  t.same(await rows({ ip: ['203.0.113.0/24'] }), [2]);
  t.same(await rows({ ip: ['fe80::/10'] }), [5]);
  t.same(await rows({ ip: ['10.0.0.9', '198.51.100.9'] }), [3, 6]);
  t.same(await rows({ user: ['bob'] }), [2, 3], 'a bare user name matches any domain');
  t.same(await rows({ user: ['NT AUTHORITY\\*'] }), [0, 1, 6]);
  t.same(await rows({ user: ['nt service\\mssqlserver'] }), [4, 5]);
  t.same(await rows({ since: '2026-11-25T23:00' }), [3, 4, 5, 6]);
  t.same(await rows({ until: '2026-11-25T22:40:02' }), [0, 1, 2]);
  t.same(await rows({ since: '2026-11-26T00:00:00+01:00' }), [3, 4, 5, 6], 'an offset in --since is honoured');
  t.same(await rows({ since: '2026-11-25T22:00', until: '2026-11-25T22:00' }), []);
  t.same(await rows({ host: ['*.example.net'] }, { resolve: { lookup: fakeLookup } }), [2], '--host after resolution');
});

t.test('filters combine with AND, values of one filter with OR', async (t) => {
  t.same(await rows({ process: ['svchost.exe'], protocol: ['tcp'], since: '2026-11-25T23:00' }), [3, 6]);
  t.same(await rows({ port: ['443', '445'], user: ['bob'] }), [2]);
});

t.test('bad filter values are usage errors naming the value', async (t) => {
  await t.rejects(rows({ port: ['70000'] }), { exitCode: 64, message: /--port '70000'/ });
  await t.rejects(rows({ protocol: ['icmp'] }), { exitCode: 64, message: /icmp/ });
  await t.rejects(rows({ ip: ['10.0.0.0/33'] }), { exitCode: 64, message: /10\.0\.0\.0\/33/ });
  await t.rejects(rows({ since: 'yesterday' }), { exitCode: 64, message: /--since 'yesterday'/ });
  await t.rejects(rows({ since: '2026-11-26', until: '2026-11-25' }), { exitCode: 64, message: /is after --until/ });
});

t.test('addresses and CIDR blocks', async (t) => {
  const m = parseAddressMatcher('10.0.0.0/8');
  t.ok(m.matches('10.200.1.1'));
  t.notOk(m.matches('11.0.0.1'));
  t.ok(m.matches('::ffff:10.1.2.3'), 'IPv4-mapped IPv6');
  t.notOk(m.matches('*'));
  t.notOk(m.matches(null));
  t.ok(parseAddressMatcher('2001:db8::/32').matches('2001:db8:0:1::5'));
  t.notOk(parseAddressMatcher('2001:db8::/32').matches('2001:db9::5'));
  t.ok(parseAddressMatcher('fe80::1').matches('fe80::1%12'));
  t.ok(parseAddressMatcher('0.0.0.0/0').matches('192.0.2.1'));
});

t.test('criteria: every kind of criterion, and known processes from an unexpected folder', async (t) => {
  const criteria = compileCriteria(
    checkCriteria({ Ports: [4444, '6660-6669'], Processes: ['sqlservr.exe'], Modules: ['payload.dll'], Users: ['CONTOSO\\bob'], Addresses: ['10.0.0.0/24'], HostNames: ['*.example.net'] }, 'c.json'),
  );
  const out: PortReporterRecord[] = [];
  for await (const r of readPortReporterRecords([PORTS], { utcOffsetMinutes: 0, criteria, resolve: { lookup: fakeLookup } })) out.push(r);
  const reasons = out.map((r) => [r.Flagged, r.FlagReasons]);
  const unexpected = 'svchost.exe runs from an unexpected folder C:\\Users\\bob\\AppData\\Local\\Temp\\svchost.exe (expected %SystemRoot%\\System32 or %SystemRoot%\\SysWOW64)';
  t.same(reasons, [
    [false, []],
    [false, []],
    [true, ['module C:\\Users\\bob\\AppData\\Local\\Temp\\payload.dll', 'user CONTOSO\\bob', 'address 10.0.0.5 in 10.0.0.0/24', 'host www.example.net', unexpected]],
    [true, ['port 4444', 'module C:\\Users\\bob\\AppData\\Local\\Temp\\payload.dll', 'user CONTOSO\\bob', 'address 10.0.0.5 in 10.0.0.0/24', unexpected]],
    [true, ['process sqlservr.exe']],
    [true, ['process sqlservr.exe']],
    [true, ['address 10.0.0.9 in 10.0.0.0/24']],
  ]);
  t.equal(out[2]!.RemoteHostName, 'www.example.net');
});

t.test('flagged only; own expected folders; the built-in list can be turned off', async (t) => {
  const own = compileCriteria({ ExpectedFolders: { 'sqlservr.exe': ['C:\\SQL\\Binn'] }, DefaultExpectedFolders: false });
  const out: PortReporterRecord[] = [];
  for await (const r of readPortReporterRecords([PORTS], { utcOffsetMinutes: 0, criteria: own, flaggedOnly: true })) out.push(r);
  t.same(out.map((r) => r.SourceLine - 8), [4, 5]);
  t.match(out[0]!.FlagReasons, [/sqlservr\.exe runs from an unexpected folder/]);
});

t.test('criteria files are checked with messages naming the key', async (t) => {
  t.throws(() => checkCriteria({ Prots: [1] }, 'c.json'), { message: /criteria file c\.json: unknown key "Prots"/ });
  t.throws(() => checkCriteria({ Users: 'bob' }, 'c.json'), { message: /"Users" must be a list/ });
  t.throws(() => compileCriteria({ Ports: ['99999'] }, 'c.json'), { message: /"Ports"/ });
  t.throws(() => compileCriteria({ Addresses: ['nope'] }, 'c.json'), { message: /"Addresses".*nope/ });
  t.equal(normalizeFolder('\\\\?\\C:\\WINDOWS\\system32\\'), '%systemroot%\\system32');
  t.equal(normalizeFolder('\\SystemRoot\\System32'), '%systemroot%\\system32');
  t.equal(normalizeFolder('D:\\WINNT\\System32'), '%systemroot%\\system32');
  t.equal(normalizeFolder('%windir%\\System32'), '%systemroot%\\system32');
});

t.test('resolution keeps order, caches, and a hanging lookup only costs its timeout', { timeout: 20_000 }, async (t) => {
  const calls: string[] = [];
  let pulled = 0;
  const resolver = createResolver({
    timeoutMs: 300,
    lookup: (a) => {
      calls.push(a);
      if (a === '192.0.2.99') return new Promise(() => {}); // never answers
      return new Promise((resolve) => setTimeout(() => resolve(`h${a.split('.').pop()}`), Math.floor(Math.random() * 20)));
    },
  });
  async function* source() {
    for (let b = 0; b < 20; b++) {
      pulled++;
      yield Array.from({ length: 10 }, (_, i) => ({ RemoteAddress: b === 3 && i === 0 ? '192.0.2.99' : `192.0.2.${(b * 10 + i) % 50}`, SourceLine: b * 10 + i, RemoteHostName: null }) as unknown as PortReporterRecord);
    }
  }
  const out: PortReporterRecord[] = [];
  let pulledWhenFirstOut = -1;
  for await (const batch of resolveInOrder(source(), resolver, 100)) {
    if (pulledWhenFirstOut < 0) pulledWhenFirstOut = pulled;
    out.push(...batch);
  }
  t.same(out.map((r) => r.SourceLine), Array.from({ length: 200 }, (_, i) => i), 'order kept');
  t.equal(out[30]!.RemoteHostName, null, 'timed out: null');
  t.equal(out[31]!.RemoteHostName, 'h31');
  t.equal(calls.length, 51, 'each address looked up once');
});

t.test('the system resolver: loopback from the hosts file, no other traffic', async (t) => {
  const system = createReverseResolver({ timeoutMs: 2000 });
  t.equal(await system.reverse('127.0.0.1'), 'localhost');
  system.close();
  const resolver = createResolver();
  t.equal(resolver.nameOf('0.0.0.0'), null);
  t.equal(resolver.nameOf(null), null);
  t.equal(await resolver.nameOf('127.0.0.1'), 'localhost');
  t.equal(resolver.nameOf('127.0.0.1'), 'localhost', 'cached');
  resolver.close();
});
