/**
 * record --once, query -local and stats list things in one order on every machine: the order of texts
 * does not follow the machine's locale. (It did: localeCompare without a locale takes the process's;
 * in Danish "aa" is the letter å, after z, so fe80::aa came after fe80::ab on a server set up in
 * Danish, and in Czech "ch" comes after "h": stats' computers and users moved the same way.)
 * Each locale runs in its own process, since the default locale is fixed when a process starts.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const CODE = `
import { sortEndpoints } from './src/recorder/endpoints.ts';
import { computeStatistics } from './src/stats/engine.ts';
import { findStatistic } from './src/stats/registry.ts';
import { record } from './test/fixtures/stats/records.ts';
const e = (localAddress, remoteAddress) => ({ protocol: 'TCP', family: 6, localAddress, localPort: 80, remoteAddress, remotePort: remoteAddress ? 5 : null, state: 'Established', pid: 1, creationTime: null });
const list = [e('fe80::ab', null), e('fe80::aa', null), e('fe80::ch', null), e('fe80::cz', null), e('::1', 'fe80::ab'), e('::1', 'fe80::aa')];
const order = sortEndpoints(list).map((x) => x.localAddress + ' ' + (x.remoteAddress ?? '-'));
// One record per computer and user, so that only the names order them.
const names = ['CZ', 'CH', 'AA', 'AB'];
const records = names.map((n, i) => record({ ComputerName: 'SRV-' + n, UserName: 'CORP\\\\' + n.toLowerCase() + 'x', OwningProcess: 100 + i, ProcessName: 'p.exe', TimeUtc: '2026-03-01T08:00:00.000Z' }));
const [hours] = await computeStatistics(records, [findStatistic('hour-of-day')], { perComputer: true, isReportedProcess: () => true });
const [users] = await computeStatistics(records, [findStatistic('user-context')], { isReportedProcess: () => true });
const computers = [...new Set(hours.rows.map((r) => r.ComputerName))];
console.log(JSON.stringify({ locale: new Intl.Collator().resolvedOptions().locale, order, computers, users: users.rows.map((r) => r.UserName) }));
`;

t.test('the same order under Danish, Czech, Lithuanian and the C locale', async (t) => {
  const expected = ['::1 fe80::aa', '::1 fe80::ab', 'fe80::aa -', 'fe80::ab -', 'fe80::ch -', 'fe80::cz -'];
  const computers = ['SRV-AA', 'SRV-AB', 'SRV-CH', 'SRV-CZ'];
  const users = ['CORP\\aax', 'CORP\\abx', 'CORP\\chx', 'CORP\\czx'];
  for (const locale of ['C', 'da_DK.UTF-8', 'cs_CZ.UTF-8', 'lt_LT.UTF-8']) {
    const r = spawnSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', CODE], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LANG: locale, LC_ALL: locale },
    });
    t.equal(r.status, 0, `${locale}: ran (${r.stderr.trim()})`);
    const out = JSON.parse(r.stdout) as { locale: string; order: string[]; computers: string[]; users: string[] };
    t.same(out.order, expected, `${locale} (ICU locale ${out.locale}): endpoints in root collation order`);
    t.same(out.computers, computers, `${locale}: stats --per-computer scopes in root collation order`);
    t.same(out.users, users, `${locale}: user-context ties in root collation order`);
  }
});
