import { isIP } from 'node:net';
import t from 'tap';
import { parsePortsRow, type RowContext } from '../../src/portreporter/read-ports';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { createLocalClock } from '../../src/portreporter/time';

// parsePortsRow keeps what it found on earlier rows (the time of the last second, the image and user
// of each PID's last row): a row must read the same whatever came before it, in particular when it
// differs from an earlier row in one character only. The address verdicts are checked against isIP
// in rounds, so that a cache of verdicts (tried: a Map of IPv6 verdicts, no measurable gain over the
// regular expression) cannot return another address's verdict.
const ctx = (): RowContext => ({ clock: createLocalClock(0), computerName: 'SRV', sourceFile: 'x.log' });
const row = (time: string, local: string, remote: string, pid: string, image: string, user: string) => `26/11/16,${time},TCP,443,${local},51000,${remote},${pid},${image},${user}`;

t.test('address verdicts: the same as isIP, asked again after other addresses', async (t) => {
  const addresses = [
    '2001:db8::1', '2001:db8::1%12', '2001:db8::g', '2001:db8:::1', 'fe80::1%eth0', '::', '::1', '::ffff:10.0.0.1', '::ffff:10.0.0.256',
    '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '10.0.0.1', '10.0.0.256', '10.0.0', 'host', '2001:DB8::ABCD', '2001:db8::1%', '%12', '2001:db8::10000',
  ];
  const c = ctx();
  const expectValid = (a: string) => {
    const pct = a.indexOf('%');
    return a !== '' && isIP(pct < 0 ? a : a.slice(0, pct)) !== 0;
  };
  for (let round = 0; round < 3; round++) {
    for (const a of addresses) {
      for (const [local, remote] of [[a, '10.0.0.9'], ['10.0.0.9', a]] as const) {
        const r = parsePortsRow(row('0:0:1', local, remote, '4', 'System', ''), 8, c);
        t.equal(typeof r !== 'string', expectValid(a), `${local} -> ${remote}, round ${round}: ${typeof r === 'string' ? r : 'read'}`);
        if (typeof r !== 'string') t.same([r.LocalAddress, r.RemoteAddress], [local, remote]);
      }
    }
  }
});

t.test('the time, image and user of a row are its own, not a previous row\'s that is nearly the same', async (t) => {
  const c = ctx();
  const cases: [string, string, string, string][] = [
    ['0:0:1', '4', 'w3wp.exe', '<IIS APPPOOL\\A>'],
    ['0:0:1', '4', 'w3wp.exe', '<IIS APPPOOL\\A>'],
    ['0:0:2', '4', 'w3wp.exe', '<IIS APPPOOL\\B>'],
    ['0:0:2', '4', 'w3wq.exe', '<IIS APPPOOL\\B>'],
    ['0:0:3', '4', 'w3wq.exe', '<IIS APPPOOL\\B>x'],
    ['0:0:3', '4', 'w3wq.exe', ''],
    ['0:0:4', '4', 'w3wq.exe', '<IIS APPPOOL\\B>'],
    ['0:0:4', '4', 'w3wq.ex', '<IIS APPPOOL\\B>'],
    ['0:1:4', '4', 'caf\u00e9.exe', '<IIS APPPOOL\\\u00e9>'],
    ['0:1:5', '8', 'caf\u00e9.exe', '<IIS APPPOOL\\\u00e9>'],
    ['0:1:5', '4', 'caf\u00e8.exe', '<IIS APPPOOL\\\u00e8>'],
    ['1:1:5', '4', 'caf\u00e8.exe', '<IIS APPPOOL\\\u00e8>'],
  ];
  for (const [time, pid, image, user] of cases) {
    const r = parsePortsRow(row(time, '10.0.0.1', '10.0.0.2', pid, image, user), 8, c) as PortReporterRecord;
    t.same(
      [r.TimeLocal, r.OwningProcess, r.ProcessName, r.UserName],
      [`2026-11-16T${time.split(':').map((n) => n.padStart(2, '0')).join(':')}`, Number(pid), image, user === '' ? null : user.replace(/^<(.*)>$/, '$1')],
      `${time} ${pid} ${image} ${user}`,
    );
  }
});
