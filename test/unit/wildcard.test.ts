/**
 * Issue 14, "Wildcard patterns can hang". Failed on the old code: patterns were backtracking regexes,
 * so '*a*a*a*a*a*a*a*a*b' against a long run of 'a's never finished (tap's deadline killed the test),
 * and a glob with a reversed class ('[z-a]*.log') was an internal error (exit 70) instead of 64.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { UsageError } from '../../src/errors';
import { compileFilter } from '../../src/portreporter/filter';
import { expandGlob } from '../../src/portreporter/inputs';
import type { PortReporterRecord } from '../../src/portreporter/record';
import { createLocalClock } from '../../src/portreporter/time';
import { compileWildcard } from '../../src/portreporter/wildcard';
import { runInProcess } from '../helpers/in-process';

/** The meaning the matcher must keep: the old regex translation, on inputs too small to blow up. */
function reference(pattern: string, text: string, caseInsensitive: boolean): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, caseInsensitive ? 'is' : 's').test(text);
}

t.test('table: what * and ? match', async (t) => {
  const cases: [string, string, boolean][] = [
    ['svchost.exe', 'SVCHOST.EXE', true],
    ['svc*', 'svchost.exe', true],
    ['*.exe', 'svchost.exe', true],
    ['*.exe', 'svchost.dll', false],
    ['s?c*', 'svchost', true],
    ['?', '', false],
    ['*', '', true],
    ['**', 'x', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['a*b', 'ab', true],
    ['a*ab', 'ab', false],
    ['C:\\Users\\*', 'c:\\users\\bob\\x.exe', true],
    ['[ab]', '[ab]', true],
    ['*\\Temp\\*.dll', 'C:\\Windows\\Temp\\payload.dll', true],
  ];
  for (const [p, s, want] of cases) t.equal(compileWildcard(p, { caseInsensitive: true }).test(s), want, `${p} ~ ${s}`);
});

t.test('agrees with the regex translation on every short pattern and string over {a, b, .}', async (t) => {
  const alphabet = ['a', 'b', '.'];
  const patternAlphabet = ['a', 'b', '.', '*', '?'];
  const words = (chars: string[], max: number): string[] => {
    let out = [''];
    let layer = [''];
    for (let n = 1; n <= max; n++) {
      layer = layer.flatMap((w) => chars.map((c) => w + c));
      out = out.concat(layer);
    }
    return out;
  };
  const patterns = words(patternAlphabet, 4);
  const texts = words(alphabet, 5);
  let mismatches = 0;
  const examples: string[] = [];
  for (const p of patterns) {
    const w = compileWildcard(p);
    for (const s of texts) {
      if (w.test(s) !== reference(p, s, false)) {
        mismatches++;
        if (examples.length < 5) examples.push(`${p} ~ ${s}`);
      }
    }
  }
  t.equal(mismatches, 0, `${patterns.length} patterns × ${texts.length} strings agree (${examples.join(', ')})`);
});

t.test('adversarial patterns against long strings finish (deadline: tap timeout)', { timeout: 20_000 }, async (t) => {
  const long = 'a'.repeat(200_000);
  t.equal(compileWildcard('*a*a*a*a*a*a*a*a*a*a*b', { caseInsensitive: true }).test(long), false);
  t.equal(compileWildcard(`*${'a'.repeat(40)}b*`).test(long), false);
  t.equal(compileWildcard('*a*a*a*a*a*a*a*a*a*a*').test(long), true);
  t.equal(compileWildcard('?'.repeat(30) + '*b').test(long), false);
});

t.test('a --process filter with many * over a hostile process name finishes', { timeout: 20_000 }, async (t) => {
  const filter = compileFilter({ process: ['*a*a*a*a*a*a*a*a*a*a*b'], user: ['*a*a*a*a*a*a*a*a*a*a*b'] }, createLocalClock(0));
  const record = { ProcessName: 'a'.repeat(50_000), ProcessPath: null, UserName: `DOM\\${'a'.repeat(50_000)}` } as unknown as PortReporterRecord;
  t.equal(filter.beforeResolve(record), false);
});

t.test('file globs: classes, negation, and a malformed class is a usage error naming it', async (t) => {
  t.equal(compileWildcard('PR-[PI]*.log', { classes: true }).test('PR-PORTS-1.log'), true);
  t.equal(compileWildcard('PR-[!P]*.log', { classes: true }).test('PR-PORTS-1.log'), false);
  t.equal(compileWildcard('[a-c]x', { classes: true }).test('bx'), true);
  t.throws(() => compileWildcard('[z-a]*.log', { classes: true }), UsageError);
  t.throws(() => compileWildcard('[abc', { classes: true }), /no closing/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wildcard-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'PR-PORTS-1.log'), '');
  const found: string[] = [];
  for await (const f of expandGlob(path.join(dir, 'PR-[OP]*.log'), 'linux')) found.push(path.basename(f));
  t.same(found, ['PR-PORTS-1.log']);
  const r = await runInProcess(['parse', path.join(dir, '[z-a]*.log')]);
  t.equal(r.code, 64, 'a malformed glob is a usage error, not an internal error (70)');
  t.match(r.stderr, /^portqry-ts: invalid wildcard '\[z-a\]\*\.log': range 'z-a' is out of order\n$/);
});
