import * as path from 'node:path';
import t from 'tap';
import { parseJsonl, ROOT, runCli } from '../helpers/cli';
import { schemaErrors, schemaKeys } from '../helpers/schema';

const FIX = path.join(ROOT, 'test', 'fixtures', 'portreporter');
const ENV = { TZ: 'UTC' };

t.test('parse a folder: JSONL valid against the schema, keys in order, nothing on stderr', async (t) => {
  const r = await runCli(['parse', FIX], { env: ENV });
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const records = parseJsonl(r.stdout);
  t.equal(records.length, 20);
  for (const rec of records) {
    t.same(schemaErrors('port-reporter-record.schema.json', rec), []);
    t.same(Object.keys(rec), schemaKeys('port-reporter-record.schema.json'));
  }
});

t.test('a file that is not a Port Reporter log is one line naming it, exit 65', async (t) => {
  const r = await runCli(['parse', path.join(ROOT, 'package.json')]);
  t.equal(r.code, 65);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^portqry-ts: not a Port Reporter log: .*package\.json\n$/);
});

t.test('a missing input exits 66', async (t) => {
  const r = await runCli(['parse', path.join(FIX, 'nope.log')]);
  t.equal(r.code, 66);
  t.match(r.stderr, /nope\.log/);
});
