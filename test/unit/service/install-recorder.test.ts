import t from 'tap';
import { toInstallAction } from '../../../src/recorder/install-action';
import type { ServiceOperations } from '../../../src/recorder/install';
import { runInstall, type InstallRequest } from '../../../src/service/install-recorder';
import { schemaErrors } from '../../../test/helpers/schema';

const launch = { logDir: 'D:\\PortLogs', logSizeKb: 5000, rotate: 'start,size', interval: '1s', jsonl: true, modules: true };
const req = (over: Partial<InstallRequest>): InstallRequest => ({
  install: true,
  dryRun: false,
  launch,
  unitDir: '/etc/systemd/system',
  copyToProgramFiles: false,
  platform: 'win32',
  env: { ProgramFiles: 'C:\\Program Files', SystemRoot: 'C:\\Windows' },
  ...over,
});

function fakeServices(calls: string[]): ServiceOperations {
  return {
    create: (s) => (calls.push(`create ${s.binaryPath}`), 'created'),
    configure: () => (calls.push('configure'), null),
    start: (n) => (calls.push(`start ${n}`), 'started'),
    stop: async (n) => (calls.push(`stop ${n}`), 'stopped'),
    delete: (n) => (calls.push(`delete ${n}`), 'deleted'),
  };
}

t.test('Windows install: the location is checked first; the service runs record --service with the options', async (t) => {
  const calls: string[] = [];
  const checked: string[][] = [];
  const out = await runInstall(req({}), { self: ['C:\\Program Files\\portqry-ts\\portqry-ts.exe'], checkLocation: (f) => (checked.push([...f]), null), services: fakeServices(calls) });
  t.equal(out.exitCode, 0);
  t.equal(out.error, null);
  t.same(checked, [['C:\\Program Files\\portqry-ts\\portqry-ts.exe']]);
  t.same(calls, ['create "C:\\Program Files\\portqry-ts\\portqry-ts.exe" record --service -ld D:\\PortLogs -ls 5000 --rotate start,size --interval 1s --jsonl', 'configure', 'start portqry-ts']);
  for (const s of out.steps) t.same(schemaErrors('install-action.schema.json', toInstallAction(s.action, true, s.result)), []);
});

t.test('Windows install refused: exit 78, one line, no service step run', async (t) => {
  const calls: string[] = [];
  const out = await runInstall(req({}), {
    self: ['C:\\Tools\\portqry-ts.exe'],
    checkLocation: () => ({ path: 'C:\\Tools', reason: 'BUILTIN\\Users may create folders (0x4)' }),
    services: fakeServices(calls),
  });
  t.equal(out.exitCode, 78);
  t.match(out.error, /^refusing to install: C:\\Tools: BUILTIN\\Users may create folders \(0x4\), so a non-administrator could replace what the service runs as SYSTEM; .*--copy-to-program-files'$/);
  t.same(calls, []);
  t.same(out.steps, []);
});

t.test('--copy-to-program-files: copy first, then the copy is what is checked and installed; skipped when already there', async (t) => {
  const dry = await runInstall(req({ dryRun: true, copyToProgramFiles: true }), { self: ['D:\\Downloads\\portqry-ts.exe'], checkLocation: () => (t.fail('not checked before the copy exists'), null), services: null });
  t.same(
    dry.steps.map((s) => toInstallAction(s.action, true, s.result)).map((r) => [r.Action, r.Target]),
    [
      ['Copy', 'copy D:\\Downloads\\portqry-ts.exe to C:\\Program Files\\portqry-ts\\portqry-ts.exe'],
      ['CreateService', 'portqry-ts ("portqry-ts Port Reporter", automatic start, LocalSystem): "C:\\Program Files\\portqry-ts\\portqry-ts.exe" record --service -ld D:\\PortLogs -ls 5000 --rotate start,size --interval 1s --jsonl'],
      ['ConfigureService', 'portqry-ts: description; on failure restart after 5 s, 30 s, 60 s; failure count reset after 24 h; also when it stops with an error code'],
      ['StartService', 'portqry-ts'],
    ],
  );
  const checked: string[][] = [];
  const same = await runInstall(req({ copyToProgramFiles: true }), { self: ['c:\\program files\\portqry-ts\\PORTQRY-TS.EXE'], checkLocation: (f) => (checked.push([...f]), null), services: fakeServices([]) });
  t.equal(same.exitCode, 0);
  t.same(same.steps.map((s) => s.action.kind), ['service', 'service', 'service'], 'no copy onto itself');
  t.same(checked, [['C:\\Program Files\\portqry-ts\\portqry-ts.exe']]);
  await t.rejects(runInstall(req({ copyToProgramFiles: true }), { self: ['C:\\node.exe', 'C:\\pq\\main.cjs'], checkLocation: () => null, services: null }), /needs the standalone portqry-ts\.exe/);
});

t.test('uninstall: stop then delete; a failed stop still deletes and fails the run', async (t) => {
  const calls: string[] = [];
  const ok = await runInstall(req({ install: false }), { self: [], checkLocation: () => (t.fail('no check on uninstall'), null), services: fakeServices(calls) });
  t.equal(ok.exitCode, 0);
  t.same(calls, ['stop portqry-ts', 'delete portqry-ts']);
  const hung = { ...fakeServices(calls), stop: async () => Promise.reject(new Error('the service did not stop within 30 s')) };
  calls.length = 0;
  const bad = await runInstall(req({ install: false }), { self: [], checkLocation: () => null, services: hung });
  t.equal(bad.exitCode, 71);
  t.equal(bad.error, 'uninstall failed: the service did not stop within 30 s');
  t.same(calls, ['delete portqry-ts']);
  t.same(bad.steps.map((s) => s.result!.ok), [false, true]);
});

t.test('Linux: the unit runs the program without --service, after the same location check', async (t) => {
  const out = await runInstall(req({ platform: 'linux', dryRun: true, launch: { ...launch, logDir: '/var/log/portqry-ts' } }), {
    self: ['/usr/local/bin/portqry-ts'],
    checkLocation: () => null,
    services: null,
  });
  t.equal(out.exitCode, 0);
  t.same(out.steps.map((s) => toInstallAction(s.action, false, null).Target), ['/etc/systemd/system/portqry-ts-record.service', 'systemctl daemon-reload', 'systemctl enable --now portqry-ts-record.service']);
  const write = out.steps[0]!.action;
  t.match(write.kind === 'write' ? write.content : '', /^ExecStart=\/usr\/local\/bin\/portqry-ts record -ld \/var\/log\/portqry-ts -ls 5000 --rotate start,size --interval 1s --jsonl$/m);
  const refused = await runInstall(req({ platform: 'linux' }), { self: ['/home/bob/portqry-ts'], checkLocation: () => ({ path: '/home/bob', reason: 'its folder is owned by uid 1000, not root' }), services: null });
  t.equal(refused.exitCode, 78);
  t.match(refused.error, /runs as root; move it to a root-owned folder/);
});
