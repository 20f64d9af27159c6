import { runExe, wineTest } from '../helpers/wine';

// SeDebugPrivilege is asked for once, at the Windows backend's first snapshot (src/platform/windows.ts;
// the TOKEN_PRIVILEGES bytes are unit-tested in test/unit/platform/windows-privilege.test.ts).
// Under Wine the calls are traced: LookupPrivilegeValueW returns SeDebugPrivilege's LUID (20, winnt.h
// SE_DEBUG_PRIVILEGE) and AdjustTokenPrivileges is called with it. Whether an elevated admin then opens
// other accounts' services is for a real Windows (docs/windows-build.md).
wineTest('query -local under Wine enables SeDebugPrivilege once, best effort', async (t) => {
  const r = await runExe(['query', '-local', '--json'], { env: { WINEDEBUG: '+advapi,+security' } });
  t.equal(r.code, 0);
  t.ok(r.stdout.length > 0, 'records written');
  const lookups = r.stderr.split('\n').filter((l) => /LookupPrivilegeValueW \(null\),L"SeDebugPrivilege"/.test(l));
  t.equal(lookups.length, 1, 'asked once');
  t.match(r.stderr, /LookupPrivilegeValueW \(null\) -> 00000000-00000014/, 'the LUID of SE_DEBUG_PRIVILEGE (20)');
  t.match(r.stderr, /trace:security:AdjustTokenPrivileges \([0-9A-F]+ 0 [0-9A-F]+ 0 /, 'AdjustTokenPrivileges(token, FALSE, state, 0, …)');
});
