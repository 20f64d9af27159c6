/**
 * record --once's fast paths give exactly what the general ones gave: sortEndpoints the order of
 * ICU's collation (without ICU), and the PortOwner JSON (shared tails copied per process) the bytes of
 * toAsciiJson(normalizeRecord(...)) of the record as it was built before (ComputerName + the spread
 * endpoint-and-owner fields, written out in oldRecord below), on generated endpoints with real variety.
 */
import t from 'tap';
import { toAsciiJson } from '../../../src/output/json';
import { JsonBytes, normalizeRecord, writeRecordJson } from '../../../src/output/record-kind';
import type { Endpoint, ProcessInfo, TcpState } from '../../../src/platform/types';
import { sortEndpoints } from '../../../src/recorder/endpoints';
import { PortOwnerKind, portOwnerRecord, toPortOwner } from '../../../src/recorder/port-owner';
import { prng } from '../../helpers/prng';

const STATES: TcpState[] = ['Listen', 'Established', 'TimeWait', 'CloseWait', 'SynSent', 'FinWait2', 'LastAck'];

function generate(seed: number, count: number, windowsLike = false): { endpoints: Endpoint[]; processes: Map<number, ProcessInfo> } {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const processes = new Map<number, ProcessInfo>();
  for (let i = 0; i < 40; i++) {
    const pid = 1 + Math.floor(rnd() * 100_000);
    processes.set(pid, {
      pid,
      startTime: rnd() < 0.9 ? new Date(1_700_000_000_000 + Math.floor(rnd() * 1e10)) : null,
      name: rnd() < 0.9 ? pick(['sshd', 'node', 'nginx: worker', 'caf\u00e9d', 'svc"quoted"', 'tab\there']) : null,
      path: rnd() < 0.8 ? pick(['/usr/sbin/sshd', '/usr/bin/node', 'C:\\Windows\\System32\\svchost.exe', '/opt/\u00fcber/bin/x']) : null,
      commandLine: rnd() < 0.8 ? `${pick(['node', 'sshd', '"C:\\Program Files\\x.exe"'])} --arg=${i} ${'x'.repeat(Math.floor(rnd() * 200))}` : null,
      user: rnd() < 0.9 ? pick(['vm\\root', 'vm\\www-data', 'CORP\\alice', null]) : null,
      services: Object.freeze(rnd() < 0.5 ? ['ssh.service'] : []) as string[],
      modules: Object.freeze(rnd() < 0.3 ? ['/usr/lib/libc.so.6', '/usr/lib/ld-linux.so.2'] : []) as string[],
      note: null,
    });
  }
  const pids = [...processes.keys()];
  const locals4 = ['0.0.0.0', '127.0.0.1', '127.0.0.2', '10.1.2.3', '127.10.0.1'];
  const locals6 = ['::', '::1', 'fe80::1', '2001:db8::5'];
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < count; i++) {
    const family = rnd() < 0.7 ? 4 : 6;
    const protocol = rnd() < 0.85 ? 'TCP' : 'UDP';
    const state = protocol === 'TCP' ? pick(STATES) : null;
    const remote = protocol === 'TCP' && state !== 'Listen';
    const remoteAddress = !remote ? null : family === 4 ? `127.${64 + Math.floor(rnd() * 64)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 63)}` : `2001:db8::${Math.floor(rnd() * 65536).toString(16)}`;
    // Duplicated sockets (a listener shared after fork) and few ports, so that ties reach the PID.
    const pid = state === 'TimeWait' || rnd() < 0.05 ? null : pick(pids);
    endpoints.push({
      protocol,
      family,
      localAddress: family === 4 ? pick(locals4) : pick(locals6),
      localPort: rnd() < 0.3 ? pick([22, 80, 443, 8080]) : Math.floor(rnd() * 65536),
      remoteAddress,
      remotePort: remote ? Math.floor(rnd() * 65536) : null,
      state,
      pid,
      creationTime: windowsLike ? new Date(1_760_000_000_000 + i * 1000) : null,
    });
    if (rnd() < 0.02) endpoints.push({ ...endpoints[endpoints.length - 1]!, pid: pick(pids) });
  }
  return { endpoints, processes };
}

/**
 * The order endpoints are listed in, written with ICU's collation of the root locale as the oracle
 * (sortEndpoints compares texts without ICU, src/output/collate.ts).
 */
function compareWithIcu(a: Endpoint, b: Endpoint): number {
  return (
    a.protocol.localeCompare(b.protocol, 'en') ||
    a.localPort - b.localPort ||
    a.localAddress.localeCompare(b.localAddress, 'en') ||
    (a.remoteAddress ?? '').localeCompare(b.remoteAddress ?? '', 'en') ||
    (a.remotePort ?? 0) - (b.remotePort ?? 0) ||
    (a.pid ?? -1) - (b.pid ?? -1)
  );
}

t.test('sortEndpoints: protocol, local port, addresses in collation order, remote port, PID; ties keep their order', async (t) => {
  for (const seed of [1, 2, 3, 42]) {
    const { endpoints } = generate(seed, 5000);
    const expected = [...endpoints].sort(compareWithIcu);
    const got = sortEndpoints(endpoints);
    t.equal(got.length, expected.length);
    t.ok(got.every((e, i) => e === expected[i]), `seed ${seed}: the same objects in the same order`);
  }
  t.same(sortEndpoints([]), []);
});

t.test('sortEndpoints: collation order of odd address texts, ties of equal-collating texts', async (t) => {
  // Texts whose collation order differs from code-unit order (":" "." digits, case), scoped and
  // mapped IPv6, and two spellings ICU finds equal (precomposed and combining é), which must tie and
  // fall through to the port and PID.
  const texts = ['::1', '::', '0.0.0.0', '10.0.0.1', '9.0.0.1', 'fe80::1%eth0', 'FE80::1', 'fe80::1', '::ffff:127.0.0.1', '2001:db8::a', '2001:DB8::A', '\u00e9', 'e\u0301', '', '*'];
  const rnd = prng(7);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const endpoints: Endpoint[] = Array.from({ length: 3000 }, () => {
    const protocol = rnd() < 0.5 ? 'TCP' : 'UDP';
    const remote = rnd() < 0.7;
    return {
      protocol,
      family: 6,
      localAddress: pick(texts),
      localPort: pick([0, 1, 80, 65535]),
      remoteAddress: remote ? pick(texts) : null,
      remotePort: remote ? pick([0, 2, 65535]) : null,
      state: protocol === 'TCP' ? 'Established' : null,
      pid: rnd() < 0.2 ? null : pick([1, 2, 3]),
      creationTime: null,
    } satisfies Endpoint;
  });
  const expected = [...endpoints].sort(compareWithIcu);
  t.ok(sortEndpoints(endpoints).every((e, i) => e === expected[i]), 'the same objects in the same order');
  t.equal('\u00e9'.localeCompare('e\u0301', 'en'), 0, 'the two spellings do collate equal here');
});

t.test('sortEndpoints: random texts of address characters (and a few others) in ICU\'s order', async (t) => {
  // sortEndpoints compares texts made of digits, a-f, "." and ":" as strings with ":" mapped below
  // "." (ADDRESS_TEXT); short random texts of those characters, with upper case and "%" mixed in,
  // reach every case of that mapping against compareText's and ICU's order.
  const rnd = prng(11);
  const alphabet = '0123456789abcdef.:';
  const text = (): string => {
    let s = '';
    for (let n = Math.floor(rnd() * 6); n > 0; n--) s += rnd() < 0.03 ? pickChar('F%E') : pickChar(alphabet);
    return s;
  };
  const pickChar = (chars: string): string => chars[Math.floor(rnd() * chars.length)]!;
  for (let round = 0; round < 5; round++) {
    const endpoints: Endpoint[] = Array.from({ length: 2000 }, () => {
      const remote = rnd() < 0.8;
      return { protocol: 'TCP', family: 6, localAddress: text(), localPort: rnd() < 0.5 ? 1 : 2, remoteAddress: remote ? text() : null, remotePort: remote ? 7 : null, state: 'Established', pid: null, creationTime: null } satisfies Endpoint;
    });
    const expected = [...endpoints].sort(compareWithIcu);
    t.ok(sortEndpoints(endpoints).every((e, i) => e === expected[i]), `round ${round}: the same objects in the same order`);
  }
});

/** The record as it was built before the fast path (ComputerName + the endpoint-and-owner fields), written out here as the oracle. */
function oldRecord(computerName: string, e: Endpoint, p: ProcessInfo | null): Record<string, unknown> {
  return {
    ComputerName: computerName,
    Protocol: e.protocol,
    LocalAddress: e.localAddress,
    LocalPort: e.localPort,
    RemoteAddress: e.remoteAddress,
    RemotePort: e.remotePort,
    State: e.state,
    OwningProcess: e.pid,
    ProcessName: p?.name ?? null,
    ProcessPath: p?.path ?? null,
    UserName: p?.user ?? null,
    Services: p?.services ?? [],
    Modules: p?.modules ?? [],
    CreationTime: e.creationTime,
    ProcessStartTime: p?.startTime ?? null,
    CommandLine: p?.commandLine ?? null,
  };
}

function expectedJson(records: Record<string, unknown>[]): string {
  return records.map((r) => `${toAsciiJson(normalizeRecord(PortOwnerKind, r))}\n`).join('');
}

function fastJson(records: Record<string, unknown>[], out = new JsonBytes(4096)): string {
  let text = '';
  for (const r of records) {
    writeRecordJson(PortOwnerKind, r, out);
    out.ascii('\n');
    if (out.pos > 64 * 1024) text += out.take().toString('latin1');
  }
  return text + out.take().toString('latin1');
}

t.test('PortOwner JSON with shared tails is byte for byte the general encoding', async (t) => {
  for (const [seed, windowsLike] of [[7, false], [8, false], [9, true]] as const) {
    const { endpoints, processes } = generate(seed, 4000, windowsLike);
    const owner = (e: Endpoint) => (e.pid === null ? null : processes.get(e.pid) ?? null);
    const sorted = sortEndpoints(endpoints);
    const before = sorted.map((e) => oldRecord('vm', e, owner(e)));
    const now = sorted.map((e) => portOwnerRecord('vm', e, owner(e)));
    t.same(now.map((r) => Object.keys(r)), before.map((r) => Object.keys(r)), 'same keys in the same order');
    t.equal(fastJson(now), expectedJson(before), `seed ${seed}${windowsLike ? ' (a CreationTime per endpoint)' : ''}: same bytes`);
    t.same(toPortOwner({ computerName: 'vm', takenAt: new Date(), endpoints, processes }, { endpoint: sorted[0]!, process: owner(sorted[0]!), key: '' }), before[0]);
  }
});

t.test('a shared tail is not reused once its values change', async (t) => {
  const { endpoints, processes } = generate(11, 50);
  const e = endpoints.find((x) => x.pid !== null)!;
  const p = { ...processes.get(e.pid!)!, startTime: new Date(1_700_000_000_000) };
  const out = new JsonBytes(4096);
  const records: Record<string, unknown>[] = [];
  const expected: Record<string, unknown>[] = [];
  const push = () => {
    const r = portOwnerRecord('vm', e, p);
    records.push(r);
    expected.push(JSON.parse(JSON.stringify(normalizeRecord(PortOwnerKind, r))));
    return fastJson([r], out);
  };
  const texts = [push()];
  p.startTime.setTime(1_800_000_000_000); // the same Date object, changed
  texts.push(push());
  p.services = ['mutable.service']; // a mutable array: never taken as unchanged
  texts.push(push());
  p.services.push('second.service');
  texts.push(push());
  p.user = 'vm\\other';
  texts.push(push());
  t.same(texts.map((x) => JSON.parse(x)), expected);
  t.match(texts[1], /"ProcessStartTime":"2027-01-15T08:00:00.000Z"/);
  t.match(texts[3], /"Services":\["mutable.service","second.service"\]/);
});

t.test('several megabytes through the jsonl and json writers: the same bytes as record by record', async (t) => {
  const { PassThrough } = await import('node:stream');
  const { openOutput } = await import('../../../src/output/emitter');
  const { createIOStreams } = await import('../../../src/output/iostreams');
  const { endpoints, processes } = generate(21, 12_000);
  const records = sortEndpoints(endpoints).map((e) => portOwnerRecord('vm', e, e.pid === null ? null : processes.get(e.pid) ?? null));
  const expected = expectedJson(records);
  t.ok(expected.length > 3 << 20, `${(expected.length / 1e6).toFixed(1)} MB: several batches`);
  for (const format of ['jsonl', 'json'] as const) {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (b: Buffer) => chunks.push(b));
    const io = createIOStreams({ stdin: new PassThrough(), stdout, stderr: new PassThrough(), env: {}, columns: 100 });
    const out = openOutput(io, { format });
    for (const r of records) out.write(PortOwnerKind, r);
    await out.end();
    const text = Buffer.concat(chunks).toString('latin1');
    if (format === 'jsonl') t.ok(text === expected, 'jsonl: byte for byte');
    else t.ok(text === `[\n${expected.slice(0, -1).split('\n').join(',\n')}\n]\n`, 'json: byte for byte');
  }
});

t.test('the PortOwner head writer: the general encoding for any head values, alternating hosts and protocols', async (t) => {
  const { endpoints, processes } = generate(31, 3000);
  const rnd = prng(5);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const records = sortEndpoints(endpoints).map((e) => {
    const r = portOwnerRecord(pick(['vm', 'vm', 'h\u00f4te', 'quo"te', 'back\\slash', 'tab\there']), e, e.pid === null ? null : processes.get(e.pid) ?? null);
    // Values no backend gives, which the general path still encodes: the head writer must too.
    if (rnd() < 0.05) r.LocalPort = pick([0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535, -1, 65536, 1.5, -0, Number.NaN, null, '80']);
    if (rnd() < 0.05) r.RemotePort = pick([0, 65535, 70000, Number.POSITIVE_INFINITY, null, 12.25]);
    if (rnd() < 0.03) r.State = pick(['Bound', 'Weird "state"', null, undefined, 7]);
    if (rnd() < 0.02) r.Protocol = pick(['tcp', 'UDP', null]);
    if (rnd() < 0.02) r.LocalAddress = pick(['fe80::1%eth0', '\u00e9', null]);
    if (rnd() < 0.01) r.ComputerName = pick([null, ['a'], new Date(0)]);
    return r;
  });
  t.equal(fastJson(records), expectedJson(records), 'same bytes');
});
