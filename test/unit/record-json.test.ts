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
