import t from 'tap';
import { workerPlan } from '../../src/portreporter/parse-parallel';

// How many worker threads parse starts, and for which files (src/portreporter/parse-parallel.ts).
// The figures behind the defaults are in docs/benchmarks.md ("parse: two worker threads by default").

t.test('by default: two workers on two cores or more, for files of 64 MB or more', async (t) => {
  for (const cores of [2, 4, 64]) t.same(workerPlan({}, cores), { workers: 2, minFileBytes: 64 << 20 }, `${cores} cores`);
  t.equal(workerPlan({}, 1).workers, 0, 'one core: none');
  t.equal(workerPlan({ PORTQRY_PARSE_WORKERS: '' }, 2).workers, 2, 'an empty value is no value');
});

t.test('PORTQRY_PARSE_WORKERS sets the number, within the cores and 8, for any file of two chunks', async (t) => {
  t.same(workerPlan({ PORTQRY_PARSE_WORKERS: '0' }, 8), { workers: 0, minFileBytes: 2 << 18 }, '0: none');
  t.equal(workerPlan({ PORTQRY_PARSE_WORKERS: '1' }, 8).workers, 1);
  t.equal(workerPlan({ PORTQRY_PARSE_WORKERS: '3' }, 2).workers, 2, 'no more than the cores');
  t.equal(workerPlan({ PORTQRY_PARSE_WORKERS: '32' }, 64).workers, 8, 'no more than 8');
  for (const bad of ['two', '-1', '1.5']) t.equal(workerPlan({ PORTQRY_PARSE_WORKERS: bad }, 8).workers, 0, `${JSON.stringify(bad)}: none`);
  t.equal(workerPlan({ PORTQRY_PARSE_WORKERS: '2', PORTQRY_PARSE_CHUNK_BYTES: '4096' }, 2).minFileBytes, 8192, 'two chunks of the chunk size given');
});
