import t from 'tap';
import {
  describeAction,
  linuxInstallPlan,
  recorderServiceDefinition,
  runActions,
  systemdQuote,
  systemdUnit,
  windowsInstallPlan,
  windowsQuote,
  windowsUninstallPlan,
  type ServiceOperations,
} from '../../../src/recorder/install';
import { toInstallAction } from '../../../src/recorder/install-action';
import { RECORDER_FAILURE_ACTIONS } from '../../../src/service/windows-scm';
import { schemaErrors } from '../../helpers/schema';

t.test('systemd unit: ExecStart quoted for systemd, SIGTERM stop, boot target', async (t) => {
  const unit = systemdUnit(['/opt/portqry ts/portqry-ts', 'record', '--log-dir', '/var/log/portqry-ts', '--rotate', 'start,size', '--interval', '1s']);
  t.match(unit, /^ExecStart="\/opt\/portqry ts\/portqry-ts" record --log-dir \/var\/log\/portqry-ts --rotate start,size --interval 1s$/m);
  t.match(unit, /^\[Service\]\nType=simple\n/m);
  t.match(unit, /^KillSignal=SIGTERM$/m);
  t.match(unit, /^Restart=on-failure$/m);
  t.match(unit, /^WantedBy=multi-user\.target$/m);
  t.equal(systemdQuote('50%'), '50%%');
  t.equal(systemdQuote('a "b"'), '"a \\"b\\""');
  const plan = linuxInstallPlan(['/usr/local/bin/portqry-ts', 'record'], '/etc/systemd/system');
  t.same(plan.map((a) => describeAction(a, false)), [
    'write /etc/systemd/system/portqry-ts-record.service',
    'systemctl daemon-reload',
    'systemctl enable --now portqry-ts-record.service',
  ]);
});

t.test('Windows: a service (create, configure, start), no scheduled task; uninstall stops, then deletes', async (t) => {
  const service = recorderServiceDefinition(['C:\\Program Files\\portqry-ts\\portqry-ts.exe', 'record', '--service', '-ld', 'C:\\Port Logs'], RECORDER_FAILURE_ACTIONS);
  t.equal(service.binaryPath, '"C:\\Program Files\\portqry-ts\\portqry-ts.exe" record --service -ld "C:\\Port Logs"');
  t.equal(service.name, 'portqry-ts');
  t.equal(service.displayName, 'portqry-ts Port Reporter');
  const plan = windowsInstallPlan(service, { from: 'D:\\dl\\portqry-ts.exe', to: 'C:\\Program Files\\portqry-ts\\portqry-ts.exe' });
  t.same(
    plan.map((a) => toInstallAction(a, true, null)).map((r) => [r.Action, r.Target]),
    [
      ['Copy', 'copy D:\\dl\\portqry-ts.exe to C:\\Program Files\\portqry-ts\\portqry-ts.exe'],
      ['CreateService', 'portqry-ts ("portqry-ts Port Reporter", automatic start, LocalSystem): "C:\\Program Files\\portqry-ts\\portqry-ts.exe" record --service -ld "C:\\Port Logs"'],
      ['ConfigureService', 'portqry-ts: description; on failure restart after 5 s, 30 s, 60 s; failure count reset after 24 h; also when it stops with an error code'],
      ['StartService', 'portqry-ts'],
    ],
  );
  for (const a of plan) t.same(schemaErrors('install-action.schema.json', toInstallAction(a, true, null)), []);
  t.same(
    windowsUninstallPlan().map((a) => toInstallAction(a, true, null)).map((r) => [r.Action, r.Target]),
    [
      ['StopService', 'portqry-ts'],
      ['DeleteService', 'portqry-ts'],
    ],
  );
  t.equal(windowsQuote('C:\\Program Files\\x\\'), '"C:\\Program Files\\x\\\\"');
  t.equal(windowsQuote('say "hi"'), '"say \\"hi\\""');
  t.equal(windowsQuote('plain'), 'plain');
});

t.test('runActions: service steps go to the injected operations in order, and the first failure stops the rest', async (t) => {
  const calls: string[] = [];
  const ops: ServiceOperations = {
    create: (s) => (calls.push(`create ${s.binaryPath}`), 'created'),
    configure: (s) => (calls.push(`configure ${s.failureActions.restartDelaysMs.join('/')}`), null),
    start: () => {
      calls.push('start');
      throw new Error('StartServiceW failed: the service did not respond to the start or control request in a timely fashion (1053)');
    },
    stop: async () => 'stopped',
    delete: () => 'deleted',
  };
  const service = recorderServiceDefinition(['C:\\pq\\portqry-ts.exe', 'record', '--service'], RECORDER_FAILURE_ACTIONS);
  const results = await runActions([...windowsInstallPlan(service, null), { kind: 'service', op: 'delete', name: 'portqry-ts' }], ops);
  t.same(calls, ['create "C:\\pq\\portqry-ts.exe" record --service', 'configure 5000/30000/60000', 'start']);
  t.same(results.map((r) => r.ok), [true, true, false]);
  t.equal(results[0]!.detail, 'created');
  t.match(results[2]!.error, /1053/);
  const record = toInstallAction(results[2]!.action, true, results[2]!);
  t.same(schemaErrors('install-action.schema.json', record), []);
  t.equal(record.Succeeded, false);
});
