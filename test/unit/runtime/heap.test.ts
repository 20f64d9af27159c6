import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../../helpers/cli';
import { HEAP_PROFILES, useHeapProfile, youngGenerationCap } from '../../../src/runtime/heap';

// The heap profiles work only because V8 reads these flags again at each collection, not once at
// heap set-up (src/runtime/heap.ts). This runs the same allocation pattern in a fresh Node with and
// without each profile's flags set at run time, and checks that V8 then committed less: memory
// figures, not timings.
const CHURN = path.join(ROOT, 'test', 'fixtures', 'runtime', 'heap-churn.cjs');
function churn(flags: readonly string[], youngCap?: number): { maxTotal: number; maxNew: number } {
  const args = youngCap === undefined ? [CHURN, JSON.stringify(flags)] : ['--import=tsx', CHURN, JSON.stringify(flags), String(youngCap)];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })) as { maxTotal: number; maxNew: number };
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

t.test('youngGenerationCap stops the growth at the cap, lets it grow again below, and sets a flag only on a change', async (t) => {
  const MB = 1 << 20;
  const sizes = [1, 2, 4, 8, 16, 16, 32, 8, 8, 16].map((n) => n * MB);
  const set: string[] = [];
  const check = youngGenerationCap(16 * MB, (f) => set.push(f), () => sizes.shift()!);
  const seen: string[][] = [];
  while (sizes.length > 0) {
    check();
    seen.push([...set]);
  }
  t.same(set, ['--semi-space-growth-factor=1', '--semi-space-growth-factor=2', '--semi-space-growth-factor=1']);
  t.same(seen[3], [], 'nothing set below the cap at first');
  t.same(seen[4], ['--semi-space-growth-factor=1'], 'at the cap: no more growth');
});

t.test('youngGenerationCap holds a real young generation at the cap', async (t) => {
  const plain = churn([]);
  const capped = churn([], 8 << 20);
  t.comment(`young generation: plain ${plain.maxNew >> 20} MB, capped at 8 MB ${capped.maxNew >> 20} MB`);
  t.ok(plain.maxNew > 8 << 20, 'without the cap V8 grows it past 8 MB here');
  t.ok(capped.maxNew <= 8 << 20, 'with the cap it stays there');
});
