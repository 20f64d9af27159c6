import t from 'tap';
import { linuxInstallPlan, systemdQuote, systemdUnit, windowsInstallPlan, windowsQuote, windowsTaskXml, windowsUninstallPlan, describeAction } from '../../../src/recorder/install';

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

t.test('Windows: exact schtasks command lines and the task XML (SYSTEM, at boot, no time limit)', async (t) => {
  const command = ['C:\\Tools\\portqry-ts.exe', 'record', '--log-dir', 'C:\\Windows\\System32\\LogFiles\\PortReporter', '--jsonl'];
  const plan = windowsInstallPlan(command, 'C:\\Temp\\portqry-ts-record-task.xml');
  t.same(plan.map((a) => describeAction(a, true)), [
    'write C:\\Temp\\portqry-ts-record-task.xml',
    'schtasks.exe /Create /TN \\portqry-ts\\record /XML C:\\Temp\\portqry-ts-record-task.xml /F',
    'remove C:\\Temp\\portqry-ts-record-task.xml',
    'schtasks.exe /Run /TN \\portqry-ts\\record',
  ]);
  t.same(windowsUninstallPlan().map((a) => describeAction(a, true)), ['schtasks.exe /End /TN \\portqry-ts\\record', 'schtasks.exe /Delete /TN \\portqry-ts\\record /F']);
  const xml = windowsTaskXml(command);
  t.match(xml, /^<\?xml version="1\.0" encoding="UTF-16"\?>\r\n/);
  t.match(xml, /<BootTrigger>/);
  t.match(xml, /<UserId>S-1-5-18<\/UserId>/);
  t.match(xml, /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/, 'no 72-hour limit');
  t.match(xml, /<Command>C:\\Tools\\portqry-ts\.exe<\/Command>/);
  t.match(xml, /<Arguments>record --log-dir C:\\Windows\\System32\\LogFiles\\PortReporter --jsonl<\/Arguments>/);
  t.equal(windowsQuote('C:\\Program Files\\x\\'), '"C:\\Program Files\\x\\\\"');
  t.equal(windowsQuote('say "hi"'), '"say \\"hi\\""');
  t.equal(windowsQuote('plain'), 'plain');
});
