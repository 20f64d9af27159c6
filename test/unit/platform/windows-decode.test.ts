/**
 * Windows decoders against Buffers built field by field to the x64 layouts of the Win32
 * headers (sizes and offsets checked with mingw-w64 static asserts and koffi).
 */
import t from 'tap';
import {
  decodeModuleHandles,
  decodeProcessEntry,
  decodeServices,
  decodeSocketTable,
  decodeUnicodeString,
  ERROR_INSUFFICIENT_BUFFER,
  fetchSizedTable,
  fileTimeToDate,
  readWideStringAt,
  ROW_LAYOUTS,
  sidToString,
  STATUS_UNSUCCESSFUL,
  tokenUserSidOffset,
  Win32Error,
  windowsBaseName,
  windowsTcpState,
} from '../../../src/platform/windows-decode';

/** Port as Windows stores it: network order in the low 16 bits of a little-endian DWORD, junk above. */
function writePort(buf: Buffer, offset: number, port: number, highJunk = 0): void {
  buf.writeUInt16BE(port, offset);
  buf.writeUInt16LE(highJunk, offset + 2);
}

function ipv4(buf: Buffer, offset: number, text: string): void {
  text.split('.').forEach((octet, i) => buf.writeUInt8(Number(octet), offset + i));
}

const FT_2025 = 133_800_000_000_000_000n; // a FILETIME in 2025
const ftDate = (ft: bigint) => new Date(Number((ft - 116444736000000000n) / 10000n));

t.test('row layouts have the documented sizes and first-row offsets', async (t) => {
  const sizes = Object.fromEntries(
    (['TCP', 'UDP'] as const).flatMap((p) => ([4, 6] as const).flatMap((f) => (['pid', 'module'] as const).map((k) => [`${p}${f}-${k}`, [ROW_LAYOUTS[p][f][k].rowsOffset, ROW_LAYOUTS[p][f][k].stride]]))),
  );
  t.same(sizes, {
    'TCP4-pid': [4, 24], 'TCP4-module': [8, 160], 'TCP6-pid': [4, 56], 'TCP6-module': [8, 192],
    'UDP4-pid': [4, 12], 'UDP4-module': [8, 160], 'UDP6-pid': [4, 28], 'UDP6-module': [8, 176],
  });
});

t.test('MIB_TCPTABLE_OWNER_PID: two rows (listener, established), high ports, junk in the high port bits', async (t) => {
  const buf = Buffer.alloc(4 + 2 * 24);
  buf.writeUInt32LE(2, 0);
  let o = 4;
  buf.writeUInt32LE(2, o); // LISTEN
  ipv4(buf, o + 4, '0.0.0.0');
  writePort(buf, o + 8, 445, 0xbeef);
  ipv4(buf, o + 12, '0.0.0.0');
  writePort(buf, o + 16, 0);
  buf.writeUInt32LE(4, o + 20);
  o += 24;
  buf.writeUInt32LE(5, o); // ESTAB
  ipv4(buf, o + 4, '192.0.2.10');
  writePort(buf, o + 8, 65535);
  ipv4(buf, o + 12, '198.51.100.7');
  writePort(buf, o + 16, 49152);
  buf.writeUInt32LE(0xfffffffc, o + 20);
  t.same(decodeSocketTable(buf, 'TCP', 4, 'pid'), [
    { protocol: 'TCP', family: 4, localAddress: '0.0.0.0', localPort: 445, remoteAddress: null, remotePort: null, state: 'Listen', pid: 4, creationTime: null },
    { protocol: 'TCP', family: 4, localAddress: '192.0.2.10', localPort: 65535, remoteAddress: '198.51.100.7', remotePort: 49152, state: 'Established', pid: 0xfffffffc, creationTime: null },
  ]);
});

t.test('MIB_TCP6TABLE_OWNER_MODULE: rows at offset 8, stride 192, state after the addresses, creation time', async (t) => {
  const buf = Buffer.alloc(8 + 2 * 192);
  buf.writeUInt32LE(2, 0);
  let o = 8;
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(buf, o);
  buf.writeUInt32LE(0, o + 16);
  writePort(buf, o + 20, 3389);
  Buffer.from('20010db8000000000000000000000abc', 'hex').copy(buf, o + 24);
  writePort(buf, o + 44, 60000);
  buf.writeUInt32LE(11, o + 48); // TIME_WAIT
  buf.writeUInt32LE(1234, o + 52);
  buf.writeBigInt64LE(FT_2025, o + 56);
  buf.fill(0xab, o + 64, o + 192); // OwningModuleInfo: opaque
  o += 192;
  Buffer.from('00000000000000000000ffff7f000001', 'hex').copy(buf, o);
  writePort(buf, o + 20, 8080);
  buf.writeUInt32LE(2, o + 48);
  buf.writeUInt32LE(88, o + 52);
  t.same(decodeSocketTable(buf, 'TCP', 6, 'module'), [
    { protocol: 'TCP', family: 6, localAddress: '2001:db8::1', localPort: 3389, remoteAddress: '2001:db8::abc', remotePort: 60000, state: 'TimeWait', pid: 1234, creationTime: ftDate(FT_2025) },
    { protocol: 'TCP', family: 6, localAddress: '::ffff:127.0.0.1', localPort: 8080, remoteAddress: null, remotePort: null, state: 'Listen', pid: 88, creationTime: null },
  ]);
});

t.test('MIB_TCPTABLE_OWNER_MODULE (v4, 160) and MIB_TCP6TABLE_OWNER_PID (56)', async (t) => {
  const m = Buffer.alloc(8 + 160);
  m.writeUInt32LE(1, 0);
  m.writeUInt32LE(8, 8); // CLOSE_WAIT
  ipv4(m, 12, '10.1.2.3');
  writePort(m, 16, 1433);
  ipv4(m, 20, '10.1.2.4');
  writePort(m, 24, 50000);
  m.writeUInt32LE(777, 28);
  m.writeBigInt64LE(FT_2025, 32);
  t.same(decodeSocketTable(m, 'TCP', 4, 'module')[0], { protocol: 'TCP', family: 4, localAddress: '10.1.2.3', localPort: 1433, remoteAddress: '10.1.2.4', remotePort: 50000, state: 'CloseWait', pid: 777, creationTime: ftDate(FT_2025) });
  const p = Buffer.alloc(4 + 56);
  p.writeUInt32LE(1, 0);
  Buffer.from('fe800000000000000000000000000001', 'hex').copy(p, 4);
  p.writeUInt32LE(0x1000, 4 + 16); // scope id: ignored
  writePort(p, 4 + 20, 135);
  p.writeUInt32LE(2, 4 + 48);
  p.writeUInt32LE(900, 4 + 52);
  t.same(decodeSocketTable(p, 'TCP', 6, 'pid')[0], { protocol: 'TCP', family: 6, localAddress: 'fe80::1', localPort: 135, remoteAddress: null, remotePort: null, state: 'Listen', pid: 900, creationTime: null });
});

t.test('UDP tables: v4/v6, PID and module classes (module rows padded before the timestamp)', async (t) => {
  const p4 = Buffer.alloc(4 + 12);
  p4.writeUInt32LE(1, 0);
  ipv4(p4, 4, '127.0.0.1');
  writePort(p4, 8, 53);
  p4.writeUInt32LE(321, 12);
  t.same(decodeSocketTable(p4, 'UDP', 4, 'pid'), [{ protocol: 'UDP', family: 4, localAddress: '127.0.0.1', localPort: 53, remoteAddress: null, remotePort: null, state: null, pid: 321, creationTime: null }]);

  const p6 = Buffer.alloc(4 + 28);
  p6.writeUInt32LE(1, 0);
  Buffer.from('00000000000000000000000000000001', 'hex').copy(p6, 4);
  writePort(p6, 4 + 20, 5353);
  p6.writeUInt32LE(322, 4 + 24);
  t.same(decodeSocketTable(p6, 'UDP', 6, 'pid')[0]?.localAddress, '::1');
  t.same(decodeSocketTable(p6, 'UDP', 6, 'pid')[0]?.pid, 322);

  const m4 = Buffer.alloc(8 + 160);
  m4.writeUInt32LE(1, 0);
  ipv4(m4, 8, '0.0.0.0');
  writePort(m4, 12, 161);
  m4.writeUInt32LE(323, 16);
  m4.writeBigInt64LE(FT_2025, 8 + 16);
  m4.writeUInt32LE(1, 8 + 24); // dwFlags: SpecificPortBind
  t.same(decodeSocketTable(m4, 'UDP', 4, 'module')[0], { protocol: 'UDP', family: 4, localAddress: '0.0.0.0', localPort: 161, remoteAddress: null, remotePort: null, state: null, pid: 323, creationTime: ftDate(FT_2025) });

  const m6 = Buffer.alloc(8 + 2 * 176);
  m6.writeUInt32LE(2, 0);
  for (const [i, port] of [[0, 500], [1, 4500]] as const) {
    const o = 8 + i * 176;
    Buffer.from('20010db8000000000000000000000002', 'hex').copy(m6, o);
    writePort(m6, o + 20, port);
    m6.writeUInt32LE(400 + i, o + 24);
    m6.writeBigInt64LE(FT_2025 + BigInt(i) * 10_000n, o + 32);
  }
  const rows = decodeSocketTable(m6, 'UDP', 6, 'module');
  t.same(rows.map((r) => [r.localAddress, r.localPort, r.pid, r.creationTime?.getTime()]), [
    ['2001:db8::2', 500, 400, ftDate(FT_2025).getTime()],
    ['2001:db8::2', 4500, 401, ftDate(FT_2025).getTime() + 1],
  ]);
});

t.test('a table that claims more rows than its buffer holds is an error, not a read past the end', async (t) => {
  const buf = Buffer.alloc(4 + 24);
  buf.writeUInt32LE(2, 0);
  t.throws(() => decodeSocketTable(buf, 'TCP', 4, 'pid'), /claims 2 rows but holds 28 bytes/);
  const empty = Buffer.alloc(8);
  t.same(decodeSocketTable(empty, 'UDP', 6, 'module'), []);
});

t.test('every MIB_TCP_STATE; FILETIME conversion', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(windowsTcpState), ['Closed', 'Listen', 'SynSent', 'SynReceived', 'Established', 'FinWait1', 'FinWait2', 'CloseWait', 'Closing', 'LastAck', 'TimeWait', 'DeleteTCB']);
  t.throws(() => windowsTcpState(13), /unknown Windows TCP state 13/);
  t.equal(fileTimeToDate(116444736000000000n)?.toISOString(), '1970-01-01T00:00:00.000Z');
  t.equal(fileTimeToDate(0n), null, 'Wine reports 0');
});

/** A fake GetExtendedTcpTable: the table grows by `growth` rows after each call, answers `extra` codes first. */
function fakeTableCall(initialRows: number, growth: number, script: number[] = []) {
  let rows = initialRows;
  const calls: { buffer: boolean; size: number }[] = [];
  const call = (buffer: Buffer | null, size: [number]) => {
    calls.push({ buffer: buffer !== null, size: size[0] });
    const scripted = script.shift();
    const needed = 4 + rows * 24;
    rows += growth;
    if (scripted !== undefined) {
      size[0] = needed;
      return scripted;
    }
    if (!buffer || size[0] < needed) {
      size[0] = needed;
      return ERROR_INSUFFICIENT_BUFFER;
    }
    buffer.writeUInt32LE((needed - 4) / 24, 0);
    return 0;
  };
  return { call, calls };
}

t.test('two-call pattern: probe with NULL, allocate with slack, retry while the table grows', async (t) => {
  const simple = fakeTableCall(3, 0);
  const buf = fetchSizedTable('GetExtendedTcpTable', simple.call);
  t.equal(buf?.readUInt32LE(0), 3);
  t.same(simple.calls.map((c) => c.buffer), [false, true], 'probe, then one fetch');
  t.ok(simple.calls[1]!.size >= 4 + 3 * 24, 'the fetch passes the allocated size');

  // 10,000 rows that grow by 3,000 per call: the 25 % slack is not enough once, then it is.
  const growing = fakeTableCall(10_000, 3_000);
  t.equal(fetchSizedTable('GetExtendedTcpTable', growing.call)?.readUInt32LE(0), 16_000);
  t.same(growing.calls.map((c) => c.buffer), [false, true, true]);

  const transient = fakeTableCall(2, 0, [ERROR_INSUFFICIENT_BUFFER, STATUS_UNSUCCESSFUL]);
  t.equal(fetchSizedTable('GetExtendedTcpTable', transient.call)?.readUInt32LE(0), 2, 'STATUS_UNSUCCESSFUL is retried');

  const runaway = fakeTableCall(1, 100_000);
  t.throws(() => fetchSizedTable('GetExtendedTcpTable', runaway.call, 3), new Win32Error('GetExtendedTcpTable', ERROR_INSUFFICIENT_BUFFER));
  t.equal(runaway.calls.length, 4, 'bounded: probe + 3 tries');

  const denied = fakeTableCall(1, 0, [ERROR_INSUFFICIENT_BUFFER, 87]);
  t.throws(() => fetchSizedTable('GetExtendedUdpTable', denied.call), /GetExtendedUdpTable failed with error 87/);

  const noIPv6 = fakeTableCall(0, 0, [50]);
  t.equal(fetchSizedTable('GetExtendedTcpTable', noIPv6.call), null, 'a family the probe rejects has no rows');
  t.equal(new Win32Error('X', STATUS_UNSUCCESSFUL).message, 'X failed with error 3221225473 (0xc0000001)');
});

function wide(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'utf16le');
}

t.test('ENUM_SERVICE_STATUS_PROCESSW: services per PID, names through pointers into the same buffer', async (t) => {
  const base = 0x7ff6_1234_0000n;
  const entries = [
    ['Dnscache', 1044],
    ['LanmanWorkstation', 1044],
    ['Spooler', 2288],
    ['Stopped', 0],
    ['Überwachung', 3000],
  ] as const;
  const strings: Buffer[] = [];
  let stringOffset = entries.length * 56;
  const table = Buffer.alloc(entries.length * 56);
  entries.forEach(([name, pid], i) => {
    const o = i * 56;
    const w = wide(name);
    table.writeBigUInt64LE(base + BigInt(stringOffset), o); // lpServiceName
    table.writeBigUInt64LE(base + BigInt(stringOffset), o + 8); // lpDisplayName (same, unused)
    table.writeUInt32LE(0x20, o + 16); // dwServiceType: SERVICE_WIN32_SHARE_PROCESS
    table.writeUInt32LE(pid ? 4 : 1, o + 20); // dwCurrentState: RUNNING / STOPPED
    table.writeUInt32LE(pid, o + 16 + 28); // dwProcessId
    strings.push(w);
    stringOffset += w.length;
  });
  const buf = Buffer.concat([table, ...strings]);
  t.same([...decodeServices(buf, entries.length, base)], [
    [1044, ['Dnscache', 'LanmanWorkstation']],
    [2288, ['Spooler']],
    [3000, ['Überwachung']],
  ]);
  t.throws(() => decodeServices(buf, 1, base + 0x100000n), /outside/);
});

t.test('SIDs, TOKEN_USER, PROCESSENTRY32W, module handles, UNICODE_STRING', async (t) => {
  // S-1-5-21-1004336348-1177238915-682003330-512 in binary form
  const sid = Buffer.alloc(8 + 5 * 4);
  sid.writeUInt8(1, 0);
  sid.writeUInt8(5, 1);
  sid.writeUIntBE(5, 2, 6);
  [21, 1004336348, 1177238915, 682003330, 512].forEach((v, i) => sid.writeUInt32LE(v, 8 + 4 * i));
  t.equal(sidToString(sid), 'S-1-5-21-1004336348-1177238915-682003330-512');
  const system = Buffer.from([1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]);
  t.equal(sidToString(system), 'S-1-5-18');

  const base = 0x1000n;
  const token = Buffer.alloc(256);
  token.writeBigUInt64LE(base + 16n, 0); // Sid points right after SID_AND_ATTRIBUTES
  system.copy(token, 16);
  const off = tokenUserSidOffset(token, base);
  t.equal(off, 16);
  t.equal(sidToString(token, off), 'S-1-5-18');

  const entry = Buffer.alloc(568);
  entry.writeUInt32LE(568, 0);
  entry.writeUInt32LE(1044, 8);
  entry.writeUInt32LE(712, 32);
  wide('svchost.exe').copy(entry, 44);
  t.same(decodeProcessEntry(entry), { pid: 1044, parentPid: 712, exeFile: 'svchost.exe' });
  const full = Buffer.alloc(568);
  Buffer.from('x'.repeat(260), 'utf16le').copy(full, 44); // no terminator: stops at MAX_PATH
  t.equal(decodeProcessEntry(full).exeFile.length, 260);

  const handles = Buffer.alloc(8 * 4);
  [0x7ff600000000n, 0x7ffb10000000n, 0x7ffb20000000n].forEach((h, i) => handles.writeBigUInt64LE(h, i * 8));
  t.same(decodeModuleHandles(handles, 24), [0x7ff600000000n, 0x7ffb10000000n, 0x7ffb20000000n], 'only the bytes reported');

  const text = 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule';
  const us = Buffer.alloc(16 + text.length * 2);
  us.writeUInt16LE(text.length * 2, 0);
  us.writeUInt16LE(text.length * 2, 2);
  us.writeBigUInt64LE(0x5000n + 16n, 8);
  us.write(text, 16, 'utf16le');
  t.equal(decodeUnicodeString(us, 0x5000n), text);
  t.equal(decodeUnicodeString(Buffer.alloc(16), 0x5000n), null);
  t.throws(() => decodeUnicodeString(us, 0x9000n), /outside/);

  t.equal(readWideStringAt(wide('abc'), 0), 'abc');
  t.equal(windowsBaseName('C:\\Windows\\System32\\svchost.exe'), 'svchost.exe');
  t.equal(windowsBaseName('Z:/tmp/node.exe'), 'node.exe');
});
