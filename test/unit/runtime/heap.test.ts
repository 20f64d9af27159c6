import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../../helpers/cli';
import { HEAP_PROFILES, useHeapProfile } from '../../../src/runtime/heap';

// The heap profiles work only because V8 reads these flags again at each collection, not once at
// heap set-up (src/runtime/heap.ts). This runs the same allocation pattern in a fresh Node with and
// without each profile's flags set at run time, and checks that V8 then committed less: memory
// figures, not timings.
const CHURN = path.join(ROOT, 'test', 'fixtures', 'runtime', 'heap-churn.cjs');
function churn(flags: readonly string[]): { maxTotal: number; maxNew: number } {
  return JSON.parse(execFileSync(process.execPath, [CHURN, JSON.stringify(flags)], { encoding: 'utf8', timeout: 120_000 })) as { maxTotal: number; maxNew: number };
}

t.test('useHeapProfile sets every flag of its profile', async (t) => {
  for (const profile of Object.keys(HEAP_PROFILES) as (keyof typeof HEAP_PROFILES)[]) {
    const set: string[] = [];
    useHeapProfile(profile, (f) => set.push(f));
    t.same(set, HEAP_PROFILES[profile], profile);
  }
});

t.test('the flags set at run time change what V8 commits', async (t) => {
  const plain = churn([]);
  const bounded = churn(HEAP_PROFILES['bounded-tables']);
  const longRunning = churn(HEAP_PROFILES['long-running']);
  t.comment(`plain ${JSON.stringify(plain)}; bounded-tables ${JSON.stringify(bounded)}; long-running ${JSON.stringify(longRunning)}`);
  // bounded-tables: the old generation's headroom over the live table shrinks.
  t.ok(bounded.maxTotal < plain.maxTotal * 0.8, 'bounded-tables: a smaller heap for the same live table');
  // long-running: the young generation stays at its initial size.
  t.ok(longRunning.maxNew <= plain.maxNew / 4, 'long-running: the young generation does not grow');
});
