import t from 'tap';
import { isoUtc } from '../../src/portreporter/time';

// isoUtc stands in for Date#toISOString on the rows' hot path; it must give the same text for every instant.
t.test('isoUtc writes what toISOString writes', async (t) => {
  const edges = [
    0, -1, 1, 999, -1000, 951_782_400_000 /* 2000-02-29 */, 951_868_800_000 - 1, -2_203_891_200_000 /* 1900-03-01 */,
    -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, -62_135_596_800_000 /* 0001-01-01 */,
    -59_011_459_200_000 /* 0100-01-01 */, -30_610_224_000_000 /* 1000-01-01 */, -30_610_224_000_001, 4_107_542_399_000 /* 2099-12-31T23:59:59 */,
    1.5, 8.64e15, -8.64e15,
  ];
  for (const ms of edges) t.equal(isoUtc(ms), new Date(ms).toISOString(), `edge ${ms}`);
  let a = 20261205;
  const next = () => {
    a = (Math.imul(a, 1_103_515_245) + 12_345) >>> 0;
    return a / 4294967296;
  };
  let bad = 0;
  for (let i = 0; i < 200_000; i++) {
    // A day of years 0-9999 (days -719,528 to 2,932,896 from 1970), a second of it, now and then a millisecond.
    const day = -719_528 + Math.floor(next() * 3_652_425);
    const whole = day * 86_400_000 + Math.floor(next() * 86_400) * 1000 + (i % 3 === 0 ? Math.floor(next() * 1000) : 0);
    if (isoUtc(whole) !== new Date(whole).toISOString() && bad++ < 5) t.fail(`${whole}: ${isoUtc(whole)} != ${new Date(whole).toISOString()}`);
  }
  t.equal(bad, 0, '200,000 generated instants');
});
