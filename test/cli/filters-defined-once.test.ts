/**
 * The 11 parse/stats filters come from one definition (FILTER_DEFINITIONS): the options of both
 * commands, what `complete` offers (the PowerShell module's test checks its parameters against it), the
 * filter functions' inputs and the HTML report's filter list. Failed on the old code: the table did not
 * exist, and `complete -- parse --protocol ''` offered `both`, which parse refuses.
 */
import t from 'tap';
import { compileFilter, FILTER_DEFINITIONS, filterArguments } from '../../src/portreporter/filter';
import { createLocalClock } from '../../src/portreporter/time';
import { runInProcess } from '../helpers/in-process';

t.test('every filter is an option of parse and of stats, as complete reports them', async (t) => {
  t.equal(FILTER_DEFINITIONS.length, 11);
  for (const command of ['parse', 'stats']) {
    const r = await runInProcess(['complete', '--', command, '--']);
    const offered = new Set(r.stdout.split('\n'));
    t.same(FILTER_DEFINITIONS.filter((f) => !offered.has(f.option)).map((f) => f.option), [], `${command}: every filter offered`);
  }
  const values = await runInProcess(['complete', '--', 'parse', '--protocol', '']);
  t.same(values.stdout.split('\n').filter(Boolean), ['tcp', 'udp'], "parse's --protocol values come from the definition");
});

t.test('each definition reaches the filter functions and the report arguments', async (t) => {
  const sample: Record<string, string[] | string> = { protocol: ['tcp'], port: ['80'], localPort: ['81'], remotePort: ['82'], process: ['a.exe'], module: ['m.dll'], ip: ['10.0.0.0/8'], user: ['bob'], host: ['*.x'], since: '2026-01-01', until: '2026-12-31' };
  t.same(FILTER_DEFINITIONS.map((f) => f.key).sort(), Object.keys(sample).sort(), 'the definition covers FilterOptions');
  const filter = compileFilter(sample, createLocalClock(0));
  t.ok(filter.active && filter.needsNames, 'compiled');
  t.same(filterArguments({ port: ['80', '443'], since: '2026-01-01' }), ['--port', '80', '--port', '443', '--since', '2026-01-01']);
  for (const f of FILTER_DEFINITIONS.filter((d) => !d.list)) {
    const r = await runInProcess(['parse', '/nonexistent.log', f.option, 'a', f.option, 'b']);
    t.equal(r.code, 64, `${f.option} takes one value`);
  }
});
