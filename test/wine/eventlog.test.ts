import { runExe, runWine, wineTest } from '../helpers/wine';

// The Windows side of the system-log writer (src/eventlog/windows.ts): RegisterEventSourceW,
// ReportEventW and DeregisterEventSource run for real inside dist/portqry-ts.exe under Wine. Wine has
// no Event Viewer: its advapi32 accepts the event and traces it on the "eventlog" debug channel, so
// WINEDEBUG=+eventlog shows the text ReportEventW received (that is what is checked here). Whether the
// Application log shows it with our message table is for a real Windows (docs/windows-build.md).

wineTest('self-check event-log under Wine: the advapi32 calls succeed and carry the text', async (t) => {
  // Wine's advapi32 logs each call's arguments on the "advapi" channel (fixme: its event log is a
  // stub) and the text on the "eventlog" channel at a level that follows wType (err/warn/trace).
  const run = (level: string, id: string, text: string) =>
    runExe(['self-check', 'event-log', '--level', level, '--event-id', id, text], { env: { WINEDEBUG: '+eventlog,+advapi' }, keepServer: true });
  const r = await run('warning', '1200', 'write failed: \x1b[31mdisk full\x07 on D:');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'event 1200 (warning) sent to the Windows Application log, source portqry-ts\n');
  const lines = r.stderr.split('\n');
  const register = lines.find((l) => /:advapi:RegisterEventSourceW/.test(l));
  t.match(register, /RegisterEventSourceW \(\(null\),L"portqry-ts"\)/, 'RegisterEventSourceW(NULL, "portqry-ts")');
  const handle = /\(([0-9A-F]+),/.exec(lines.find((l) => /:advapi:ReportEventW/.test(l)) ?? '')?.[1];
  t.match(
    lines.find((l) => /:advapi:ReportEventW/.test(l)),
    /ReportEventW \([0-9A-F]+,0x0002,0x0000,0x000004b0,0000000000000000,0x0001,0x00000000,/,
    'ReportEventW(handle, EVENTLOG_WARNING_TYPE, category 0, event id 1200, no SID, 1 string, no data)',
  );
  t.ok(lines.some((l) => l.includes(':warn:eventlog:ReportEventW L"write failed: disk full on D:"')), 'the sanitized text reached ReportEventW');
  t.notOk(r.stderr.includes('\x1b[31m'), 'no escape sequence reached the event');
  t.ok(handle && lines.some((l) => l.includes(`:advapi:DeregisterEventSource (${handle})`)), 'DeregisterEventSource on the same handle');

  const info = await run('info', '1000', 'recorder started');
  t.equal(info.code, 0);
  t.match(info.stderr, /ReportEventW \([0-9A-F]+,0x0004,0x0000,0x000003e8,/, 'EVENTLOG_INFORMATION_TYPE, id 1000');
  t.match(info.stderr, /:trace:eventlog:ReportEventW L"recorder started"/);
  const error = await run('error', '1300', 'access denied');
  t.equal(error.code, 0);
  t.match(error.stderr, /ReportEventW \([0-9A-F]+,0x0001,0x0000,0x00000514,/, 'EVENTLOG_ERROR_TYPE, id 1300');
  t.match(error.stderr, /:err:eventlog:ReportEventW L"access denied"/);

});

wineTest('self-check event-source under Wine: the registry key, and the message table read by FormatMessageW', async (t) => {
  const KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\portqry-ts';
  const reg = await runWine('reg', ['delete', KEY, '/f'], { keepServer: true });
  void reg; // absent before: fine either way
  const r = await runExe(['self-check', 'event-source', '--register'], { keepServer: true });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^registered event source portqry-ts \(HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\portqry-ts\), message file Z:\\.*\\portqry-ts\.exe$/);
  t.equal(lines[1], 'event 1000 shows as: portqry-ts message file check', 'FormatMessageW on the exe\'s message table gives our text alone');
  const q = await runWine('reg', ['query', KEY], { keepServer: true });
  t.equal(q.code, 0, q.stderr);
  t.match(q.stdout, /EventMessageFile\s+REG_EXPAND_SZ\s+Z:\\.*\\portqry-ts\.exe/);
  t.match(q.stdout, /TypesSupported\s+REG_DWORD\s+0x7/);

  const u = await runExe(['self-check', 'event-source', '--unregister'], { keepServer: true });
  t.equal(u.code, 0, u.stderr);
  t.equal(u.stdout, 'removed event source portqry-ts\n');
  t.not((await runWine('reg', ['query', KEY], { keepServer: true })).code, 0, 'the key is gone');
  const again = await runExe(['self-check', 'event-source', '--unregister'], { keepServer: true });
  t.equal(again.code, 0, 'removing an absent source is fine');
  const usage = await runExe(['self-check', 'event-source'], { keepServer: true });
  t.equal(usage.code, 64);
  t.equal(usage.stderr, 'portqry-ts: give exactly one of --register and --unregister\n');
});
