/**
 * compareText gives the order of ICU's root collation (localeCompare(b, 'en')) without ICU: for every
 * pair of printable ASCII characters, for texts made of address and name characters with case
 * variants and prefixes, and (through ICU) for texts with other characters.
 */
import t from 'tap';
import { compareText } from '../../src/output/collate';
import { prng } from '../helpers/prng';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const icu = (a: string, b: string): number => sign(a.localeCompare(b, 'en'));

t.test('every pair of printable ASCII characters, alone and before a tail', async (t) => {
  const chars = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
  let wrong = 0;
  for (const a of chars) {
    for (const b of chars) {
      for (const [x, y] of [[a, b], [`${a}0`, `${b}0`], [`x${a}`, `x${b}Z`], [`${a}A`, `${b}a`]] as const) {
        if (sign(compareText(x, y)) !== icu(x, y)) wrong++;
      }
    }
  }
  t.equal(wrong, 0, 'no pair ordered differently from ICU');
});

t.test('texts with the variety of addresses, scope names, case and prefixes', async (t) => {
  const rnd = prng(11);
  const alphabet = '0123456789abcdefABCDEF:.%*-_ xyzXYZ[]';
  const texts: string[] = ['', '::', '::1', '0.0.0.0', '127.0.0.1', 'fe80::1%eth0', 'FE80::1%ETH0', '2001:db8::a', '2001:DB8::A', 'TCP', 'UDP', 'tcp'];
  for (let i = 0; i < 600; i++) {
    const n = Math.floor(rnd() * 12);
    let s = '';
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    texts.push(s);
    // A case variant and a prefix of it: ties at the primary level decided by case, shorter first.
    texts.push(s.toUpperCase(), s.slice(0, Math.floor(n / 2)));
  }
  let wrong = 0;
  for (const a of texts) for (const b of texts) if (sign(compareText(a, b)) !== icu(a, b)) wrong++;
  t.equal(wrong, 0, `${texts.length ** 2} pairs: none ordered differently from ICU`);
  const sorted = [...texts].sort(compareText);
  const byIcu = [...texts].sort((a, b) => a.localeCompare(b, 'en'));
  t.same(sorted, byIcu, 'the same sorted list');
});

t.test('texts with characters outside printable ASCII go to ICU', async (t) => {
  const texts = ['caf\u00e9', 'cafe', 'cafe\u0301', 'Caf\u00e9', 'a\tb', 'ab', 'a b', '\u00e91', '\u00e92', '\u4e2d', 'z', 'x\u0000', 'x'];
  const wrong = texts.flatMap((a) => texts.filter((b) => sign(compareText(a, b)) !== icu(a, b)).map((b) => `${JSON.stringify(a)} vs ${JSON.stringify(b)}`));
  t.same(wrong, [], 'every pair as ICU orders it');
});
