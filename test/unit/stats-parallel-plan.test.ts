import t from 'tap';
import { COST, splitStatistics, statsThreadsWanted, workerReadOptions } from '../../src/stats/parallel';
import { STATISTICS } from '../../src/stats/registry';
import type { StatisticDefinition } from '../../src/stats/statistic';

// Which statistics stats' worker thread counts, and when it runs (src/stats/parallel.ts). The costs
// behind the split are in-process figures of scripts/bench/stats-parts.ts (docs/benchmarks.md, stats).

const byName = (names: string[]): StatisticDefinition[] => STATISTICS.filter((s) => names.includes(s.name));
const names = (list: readonly StatisticDefinition[]): string[] => list.map((s) => s.name);

t.test('only with PORTQRY_STATS_WORKERS=1, and only in the bundle that holds the worker', async (t) => {
  t.equal(statsThreadsWanted({}, true), false, 'unset: one thread (the memory bound)');
  t.equal(statsThreadsWanted({ PORTQRY_STATS_WORKERS: '0' }, true), false);
  t.equal(statsThreadsWanted({ PORTQRY_STATS_WORKERS: '2' }, true), false, 'only 1 means on');
  t.equal(statsThreadsWanted({ PORTQRY_STATS_WORKERS: '1' }, true), true);
  t.equal(statsThreadsWanted({ PORTQRY_STATS_WORKERS: '1' }, false), false, 'from the TypeScript sources: no worker code');
});

t.test('every statistic: two groups of about equal cost, each in output order, none lost', async (t) => {
  const split = splitStatistics(STATISTICS)!;
  t.ok(split);
  t.same([...names(split.main), ...names(split.worker)].sort(), names(STATISTICS).sort(), 'each statistic in one group');
  t.ok(split.main.includes(STATISTICS.find((s) => s.name === 'remote-address')!), 'the costliest stays on the main thread');
  t.ok(split.worker.includes(STATISTICS.find((s) => s.name === 'process-endpoint')!), 'the second costliest goes to the worker');
  const inOrder = (list: StatisticDefinition[]) => list.every((s, i) => i === 0 || STATISTICS.indexOf(list[i - 1]!) < STATISTICS.indexOf(s));
  t.ok(inOrder(split.main) && inOrder(split.worker), 'registry order within each group');
  const cost = (list: readonly StatisticDefinition[]) => list.reduce((sum, s) => sum + COST[s.name]!, 0);
  t.ok(STATISTICS.every((s) => COST[s.name] !== undefined), 'a cost for every statistic');
  t.ok(Math.abs(cost(split.main) - cost(split.worker)) <= 10, `about equal: ${names(split.main)} (${cost(split.main)}) | ${names(split.worker)} (${cost(split.worker)})`);
});

t.test('a selection: the same rule; one statistic has no second thread', async (t) => {
  t.equal(splitStatistics(byName(['remote-address'])), undefined);
  t.equal(splitStatistics([]), undefined);
  const two = splitStatistics(byName(['hour-of-day', 'remote-address']))!;
  t.same(names(two.main), ['remote-address']);
  t.same(names(two.worker), ['hour-of-day']);
  const three = splitStatistics(byName(['process-endpoint', 'local-tcp-port', 'computer']))!;
  t.same(names(three.main), ['process-endpoint']);
  t.same(names(three.worker), ['local-tcp-port', 'computer']);
});

t.test('the worker reads with the options that shape records; not with DNS or criteria', async (t) => {
  const filter = { process: ['svchost.exe'], since: '2026-11-16' };
  t.same(workerReadOptions({ utcOffsetMinutes: 60, computer: 'SRV1', filter, maxLineBytes: 4096, strict: true, onSkip() {} }), { utcOffsetMinutes: 60, computer: 'SRV1', filter, maxLineBytes: 4096 });
  t.equal(workerReadOptions({ resolve: { timeoutMs: 100 } }), undefined, '--resolve');
  t.equal(workerReadOptions({ resolve: true }), undefined);
  t.equal(workerReadOptions({ criteria: {} as never }), undefined, '--criteria');
  t.equal(workerReadOptions({ flaggedOnly: true }), undefined, '--flagged-only');
  t.same(workerReadOptions({ resolve: false }), { utcOffsetMinutes: undefined, computer: undefined, filter: undefined, maxLineBytes: undefined });
});
