import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';

// stats' memory bound (< 200 MB on a busy server's 1 GB log) is set by its largest table: one entry per
// remote address, up to 40,000 of them. This measures the memory one entry keeps, in a fresh process,
// for an address seen in two hours from 16 ephemeral ports by two processes (a memory figure, not a
// timing): the heap and the typed arrays outside it. 750 bytes before a Usage held its own hours,
// tallies held their first value inline and port tallies packed count and port into one number; about
// 630 after; 538 since the table is columns (src/stats/columns.ts), counting the columns' room for a
// third more ids than are used; 560 since the hash table keeps 8-byte keys beside the ids (endpoint
// keys reach 2^48), each slot 16 bytes.
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'stats-entry-bytes.ts');

t.test('the remote-address table keeps an address in under 700 bytes', async (t) => {
  const out = JSON.parse(execFileSync(process.execPath, ['--import=tsx', FIXTURE], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })) as { bytesPerAddress: number; records: number; rows: number };
  t.comment(`${out.bytesPerAddress} bytes per address`);
  t.equal(out.rows, 20_000, 'every address kept (below the table capacity)');
  t.ok(out.bytesPerAddress > 100, 'the measurement saw the table');
  t.ok(out.bytesPerAddress < 700, `${out.bytesPerAddress} bytes per address`);
});
