import t from 'tap';
import { toAsciiJson } from '../../src/output/json';
import { normalizeRecord, recordToJson } from '../../src/output/record-kind';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { PortReporterRecordKind } from '../../src/portreporter/record-kind';

// parse's record encoder (src/portreporter/record-json.ts) reuses the bytes of runs of fields that
// repeat; it must write exactly what the general encoder writes (toAsciiJson(normalizeRecord(...)))
// whatever the sequence of records: repeats, near-repeats (one field changed), shared frozen arrays,
// arrays changed in place (not frozen), Dates, undefined, non-ASCII, flagged records.
const kind = PortReporterRecordKind;
t.ok(kind.writeJson, 'the PortReporterRecord kind has its fast encoder');

const modulesA = Object.freeze(['C:\\Windows\\System32\\ntdll.dll', 'C:\\Windows\\System32\\KERNEL32.DLL']) as string[];
const modulesB = Object.freeze(['C:\\Program Files\\caf\u00e9\\x.dll']) as string[];
const services = Object.freeze(['Dnscache', 'LanmanServer']) as string[];
const mutable = ['W32Time'];

function base(): PortReporterRecord {
  return {
    ComputerName: 'SRV01', TimeUtc: '2026-11-16T00:00:01.000Z', TimeLocal: '2026-11-16T01:00:01', Event: 'Opened', Protocol: 'TCP',
    LocalAddress: '10.0.0.1', LocalPort: 443, RemoteAddress: '10.9.8.7', RemotePort: 51000, State: 'Established', OwningProcess: 4,
    ProcessName: 'svchost.exe', ProcessPath: 'C:\\Windows\\System32\\svchost.exe', CommandLine: 'svchost.exe -k netsvcs "x"', UserName: 'NT AUTHORITY\\SYSTEM',
    Services: services, Modules: modulesA, ProcessStartTime: '2026-11-15T23:00:00.000Z', LifetimeSeconds: null, RemoteHostName: null,
    Flagged: false, FlagReasons: [], SourceFile: 'C:\\logs\\PR-PORTS-1.log', SourceLine: 9,
  };
}

const variants: ((r: PortReporterRecord) => void)[] = [
  () => {},
  (r) => (r.TimeUtc = '2026-11-16T00:00:02.000Z'),
  (r) => (r.ComputerName = null),
  (r) => (r.Protocol = 'UDP'),
  (r) => (r.UserName = 'CONTOSO\\\u00e9l\u00e8ve'),
  (r) => (r.UserName = null),
  (r) => (r.Modules = modulesB),
  (r) => (r.Modules = null),
  (r) => (r.Services = mutable),
  (r) => mutable.push('x'),
  (r) => (r.Services = null),
  (r) => (r.CommandLine = 'other'),
  (r) => (r.ProcessPath = null),
  (r) => (r.ProcessStartTime = null),
  (r) => ((r as unknown as Record<string, unknown>).ProcessStartTime = new Date('2026-01-02T03:04:05Z')),
  (r) => ((r as unknown as Record<string, unknown>).RemoteHostName = undefined),
  (r) => (r.RemoteHostName = 'host.example'),
  (r) => (r.LifetimeSeconds = 12.5),
  (r) => (r.LifetimeSeconds = Number.NaN),
  (r) => {
    r.Flagged = true;
    r.FlagReasons = ['port 4444'];
  },
  (r) => (r.SourceFile = 'D:\\other.log'),
  (r) => (r.SourceLine = 123456),
  (r) => (r.LocalAddress = 'fe80::1%12'),
  // The per-row fields (Protocol … State, written straight into the buffer) and the process run by PID.
  (r) => (r.LocalAddress = '192.168.10.21'),
  (r) => (r.LocalAddress = '2001:db8:0:1::21'),
  (r) => (r.LocalAddress = null),
  (r) => (r.LocalAddress = 'caf\u00e9"\\\u0001\n\u2028\ud800'),
  (r) => (r.RemoteAddress = '2001:db8:ffff:1234:5678:9abc:def0:1'),
  (r) => (r.RemoteAddress = null),
  (r) => (r.RemoteAddress = '\u00ff\t\u001f\u007f<>'),
  (r) => (r.LocalPort = 0),
  (r) => (r.LocalPort = null),
  (r) => (r.RemotePort = 65535),
  (r) => (r.RemotePort = -1),
  (r) => (r.RemotePort = 1.5),
  (r) => (r.RemotePort = 4294967296),
  (r) => (r.RemotePort = -0),
  (r) => ((r as unknown as Record<string, unknown>).RemotePort = '80'),
  (r) => ((r as unknown as Record<string, unknown>).LocalPort = undefined),
  (r) => (r.State = null),
  (r) => (r.State = 'Listen'),
  (r) => (r.State = 'A state longer than sixteen \u00e9'),
  (r) => ((r as unknown as Record<string, unknown>).Protocol = 'tcp'),
  (r) => ((r as unknown as Record<string, unknown>).Protocol = null),
  (r) => (r.OwningProcess = 8),
  (r) => (r.OwningProcess = null),
  (r) => (r.OwningProcess = 4294967295),
  (r) => (r.ProcessName = 'lsass.exe'),
  (r) => (r.ProcessName = '\u00e9\u0000'),
  (r) => (r.SourceLine = 0),
  (r) => (r.SourceLine = 2 ** 40),
  (r) => ((r as unknown as Record<string, unknown>).SourceLine = null),
];

t.test('byte for byte the general encoder, over a long random sequence of records', async (t) => {
  let seed = 11;
  const pick = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let mismatches = 0;
  for (let i = 0; i < 20000; i++) {
    const r = base();
    // Mostly repeats (as in a log), sometimes one or two fields changed.
    const changes = pick(4) === 0 ? 1 + pick(2) : 0;
    for (let c = 0; c < changes; c++) variants[pick(variants.length)]!(r);
    const rec = r as unknown as Record<string, unknown>;
    const expected = toAsciiJson(normalizeRecord(kind, rec));
    const got = recordToJson(kind, rec);
    if (got !== expected && mismatches++ < 3) t.equal(got, expected, `record ${i}`);
  }
  t.equal(mismatches, 0, 'no record differs');
});

t.test('the per-row fields and their caches: never reused for a different value', async (t) => {
  const check = (r: PortReporterRecord, what: string) => {
    const rec = r as unknown as Record<string, unknown>;
    t.equal(recordToJson(kind, rec), toAsciiJson(normalizeRecord(kind, rec)), what);
  };
  // Local addresses are cached by value: an address, then one differing in a character, in length,
  // by an escape, by a non-ASCII character; each written again after the others.
  const locals = ['10.0.0.1', '10.0.0.2', '10.0.0.10', '10.0.0.1\u0000', '10.0.0.\u0661', '10.0.0."1', 'fe80::1%12', 'fe80::1%13', '::', '::ffff:10.0.0.1'];
  for (let round = 0; round < 3; round++) {
    for (const a of locals) {
      const r = base();
      r.LocalAddress = a;
      r.RemoteAddress = a;
      check(r, `address ${JSON.stringify(a)}, round ${round}`);
    }
  }
  // More distinct local addresses than the cache keeps.
  for (let i = 0; i < 200; i++) {
    const r = base();
    r.LocalAddress = `10.1.${i % 100}.${i}`;
    check(r, `address ${i}`);
  }
  // One PID, its process fields changed one at a time (the run must not be reused), then back.
  const changes: ((r: PortReporterRecord) => void)[] = [
    (r) => (r.ProcessName = 'other.exe'),
    (r) => (r.UserName = 'CONTOSO\\svc'),
    (r) => (r.CommandLine = null),
    (r) => (r.ProcessPath = 'C:\\other.exe'),
    (r) => (r.Services = Object.freeze(['Dnscache']) as string[]),
    (r) => (r.Modules = modulesB),
    (r) => (r.ProcessStartTime = '2026-11-15T23:00:01.000Z'),
    (r) => (r.Services = ['not', 'frozen']),
  ];
  for (const change of changes) {
    const r = base();
    change(r);
    check(r, `PID 4 changed: ${change.toString()}`);
    check(base(), 'PID 4 as before');
  }
  // Two PIDs with the same process fields, and the same PID with a mutable array changed in place.
  const a = base();
  const b = base();
  b.OwningProcess = 5;
  check(a, 'PID 4');
  check(b, 'PID 5, same fields');
  check(a, 'PID 4 again');
  const services = ['A'];
  const c = base();
  c.Services = services;
  check(c, 'mutable services');
  services[0] = 'B';
  check(c, 'mutable services changed in place');
});
