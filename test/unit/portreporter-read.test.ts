import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';
import { schemaErrors, schemaKeys } from '../helpers/schema';
import { readPortReporterRecords, type ReadOptions, type SkippedLine } from '../../src/portreporter/read';
import { PORT_REPORTER_RECORD_KEYS, type PortReporterRecord } from '../../src/portreporter/record';

const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');

async function read(inputs: string[], options: ReadOptions = {}): Promise<{ records: PortReporterRecord[]; skipped: SkippedLine[] }> {
  const skipped: SkippedLine[] = [];
  const records: PortReporterRecord[] = [];
  for await (const r of readPortReporterRecords(inputs, { utcOffsetMinutes: 0, onSkip: (s) => skipped.push(s), ...options })) records.push(r);
  return { records, skipped };
}

t.test('the record interface and its schema list the same keys in the same order', async (t) => {
  t.same([...PORT_REPORTER_RECORD_KEYS], schemaKeys('port-reporter-record.schema.json'));
});

t.test('original PR-PORTS: unpadded date and time, listener, connection, UDP, user brackets', async (t) => {
  const { records, skipped } = await read([path.join(FIX, 'original', 'TEST', 'PR-PORTS-05-07-6-13-44-4.log')]);
  t.same(skipped, []);
  t.equal(records.length, 5);
  const [listen, conn, udp] = records;
  t.match(listen, {
    ComputerName: 'TEST', // from the PR-PIDS header the PORTS header names
    TimeLocal: '2005-07-06T13:44:05',
    TimeUtc: '2005-07-06T13:44:05.000Z',
    Event: 'Opened',
    Protocol: 'TCP',
    LocalAddress: '0.0.0.0',
    LocalPort: 445,
    RemoteAddress: '0.0.0.0',
    RemotePort: null,
    State: 'Listen',
    OwningProcess: 4,
    ProcessName: 'System',
    UserName: 'NT AUTHORITY\\SYSTEM',
    ProcessPath: null,
    Services: null,
    SourceLine: 8,
  });
  t.match(conn, { RemoteAddress: '10.1.9.40', RemotePort: 52011, State: 'Established', TimeLocal: '2005-07-06T13:44:09' });
  t.match(udp, { Protocol: 'UDP', RemoteAddress: null, RemotePort: null, State: null, TimeLocal: '2005-07-06T13:45:00' });
  t.equal(records[3]!.TimeLocal, '2005-07-06T14:02:17');
  t.same(records.flatMap((r) => schemaErrors('port-reporter-record.schema.json', r).map((e) => `line ${r.SourceLine}: ${e}`)), [], `all ${records.length} records valid`);
});

t.test('--utc-offset converts the local log time', async (t) => {
  const { records } = await read([path.join(FIX, 'original', 'TEST', 'PR-PORTS-05-07-6-13-44-4.log')], { utcOffsetMinutes: 120 });
  t.equal(records[0]!.TimeUtc, '2005-07-06T11:44:05.000Z');
  t.equal(records[0]!.TimeLocal, '2005-07-06T13:44:05');
});

t.test('ours: PR-PORTS rows joined with their PR-PIDS blocks by PID and time', async (t) => {
  const { records, skipped } = await read([path.join(FIX, 'ours', 'SRV01', 'PR-PORTS-26-11-25-22-34-17.log')]);
  t.same(skipped, []);
  t.equal(records.length, 7);
  t.match(records[0], {
    ComputerName: 'SRV01',
    OwningProcess: 880,
    ProcessPath: 'C:\\Windows\\System32\\svchost.exe',
    CommandLine: 'C:\\Windows\\system32\\svchost.exe -k RPCSS -p',
    Services: ['RpcEptMapper', 'RpcSs'],
    Modules: ['C:\\Windows\\System32\\ntdll.dll', 'C:\\Windows\\System32\\kernel32.dll', 'C:\\Windows\\System32\\rpcss.dll'],
    ProcessStartTime: '2026-11-25T20:00:00.000Z',
  });
  t.match(records[2], { OwningProcess: 4410, ProcessPath: 'C:\\Users\\bob\\AppData\\Local\\Temp\\svchost.exe', Services: [] });
  t.match(records[4], { LocalAddress: '::', RemoteAddress: '::', State: 'Listen', Modules: [] });
  t.match(records[5], { LocalAddress: 'fe80::1%12', RemoteAddress: 'fe80::2%12', RemotePort: 50001 });
  t.same(records.flatMap((r) => schemaErrors('port-reporter-record.schema.json', r).map((e) => `line ${r.SourceLine}: ${e}`)), [], `all ${records.length} records valid`);
});

t.test('PR-INITIAL: one Initial record per endpoint of each process block', async (t) => {
  const { records } = await read([path.join(FIX, 'ours', 'SRV01', 'PR-INITIAL-26-11-25-22-34-17.log')]);
  t.equal(records.length, 4);
  t.match(records[2], { Event: 'Initial', Protocol: 'TCP', LocalAddress: '10.0.0.5', LocalPort: 445, RemoteAddress: '10.0.0.20', RemotePort: 50123, State: 'Established', OwningProcess: 4 });
  t.match(records[3], { ProcessName: 'lsass.exe', Services: ['KeyIso', 'SamSs', 'VaultSvc'], LocalAddress: '::', State: 'Listen', SourceLine: 28 });
});

t.test('JSONL event log', async (t) => {
  const { records, skipped } = await read([path.join(FIX, 'events')]);
  t.same(skipped, []);
  t.same(records.map((r) => r.Event), ['Initial', 'Opened', 'Closed', 'Opened']);
  t.match(records[0], { ComputerName: 'WEB02', RemoteAddress: '0.0.0.0', State: 'Listen', TimeLocal: '2026-11-25T09:00:00' });
  t.match(records[2], { LifetimeSeconds: 60, Services: ['nginx.service'] });
  t.match(records[3], { Protocol: 'UDP', State: null, RemoteAddress: null });
  t.same(records.flatMap((r) => schemaErrors('port-reporter-record.schema.json', r).map((e) => `line ${r.SourceLine}: ${e}`)), [], `all ${records.length} records valid`);
});

t.test('a directory is read recursively; PR-PIDS yield no records of their own', async (t) => {
  const { records } = await read([FIX]);
  t.equal(records.length, 4 + 5 + 4 + 7);
});

t.test('PR-PORTS rows of one PID: the image and user of each row, whatever the rows before it said', async (t) => {
  // The row reader reuses a PID's last image and user strings when the row's text is the same: a PID
  // reused by another image, another user, an empty field or a row without the user field must still
  // give that row's own values.
  const { parsePortsRow } = await import('../../src/portreporter/read-ports');
  const { createLocalClock } = await import('../../src/portreporter/time');
  const ctx = { clock: createLocalClock(0), computerName: 'SRV', sourceFile: 'x.log' };
  const rows: [string, string | null, string | null][] = [
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5000,10.0.0.2,4,a.exe,<DOM\\u1>', 'a.exe', 'DOM\\u1'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5001,10.0.0.2,4,a.exe,<DOM\\u1>', 'a.exe', 'DOM\\u1'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5002,10.0.0.2,4,a.exe,<DOM\\u2>', 'a.exe', 'DOM\\u2'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5003,10.0.0.2,4,b.exe,<DOM\\u2>', 'b.exe', 'DOM\\u2'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5004,10.0.0.2,4,b.exe', 'b.exe', null],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5005,10.0.0.2,4,,', null, null],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5006,10.0.0.2,4,b.exe,', 'b.exe', null],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5007,10.0.0.2,4,b.ex,<DOM\\u2>', 'b.ex', 'DOM\\u2'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5008,10.0.0.2,4,b.exe,<DOM\\u2>x', 'b.exe', '<DOM\\u2>x'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5009,10.0.0.2,8,b.exe,<DOM\\u2>', 'b.exe', 'DOM\\u2'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5010,10.0.0.2,,c.exe,<DOM\\u3>', 'c.exe', 'DOM\\u3'],
    ['26/11/16,0:0:1,TCP,80,10.0.0.1,5011,10.0.0.2,4,a.exe,<DOM\\u1>', 'a.exe', 'DOM\\u1'],
  ];
  for (const [line, image, user] of rows) {
    const r = parsePortsRow(line, 1, ctx);
    if (typeof r === 'string') {
      t.fail(`${line}: ${r}`);
      continue;
    }
    t.same([r.ProcessName, r.UserName], [image, user], line);
  }
});

t.test('a PR-PORTS row that ends after the PID has no process name (not the whole line)', async (t) => {
  const { parsePortsRow } = await import('../../src/portreporter/read-ports');
  const { createLocalClock } = await import('../../src/portreporter/time');
  const ctx = { clock: createLocalClock(0), computerName: 'SRV', sourceFile: 'x.log' };
  const r = parsePortsRow('26/11/16,0:0:1,TCP,80,10.0.0.1,5000,10.0.0.2,4', 1, ctx);
  if (typeof r === 'string') {
    t.fail(r);
    return;
  }
  t.same([r.OwningProcess, r.ProcessName, r.UserName], [4, null, null]);
});
