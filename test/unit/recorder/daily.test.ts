process.env.TZ = 'Europe/Berlin';
import t from 'tap';
import { nextLocalMidnight, suffixNextMidnight } from '../../../src/portreporter/daily';

t.test('next local midnight, DST days included', async (t) => {
  t.equal(new Date(nextLocalMidnight(new Date('2026-12-04T12:00:00Z'))).toISOString(), '2026-12-04T23:00:00.000Z', 'CET');
  t.equal(new Date(nextLocalMidnight(new Date('2026-07-04T12:00:00Z'))).toISOString(), '2026-07-04T22:00:00.000Z', 'CEST');
  t.equal(new Date(nextLocalMidnight(new Date('2026-10-25T01:30:00Z'))).toISOString(), '2026-10-25T23:00:00.000Z', 'from inside the repeated hour');
  t.equal(new Date(nextLocalMidnight(new Date('2026-12-31T22:59:59Z'))).toISOString(), '2026-12-31T23:00:00.000Z', 'new year');
  t.equal(new Date(suffixNextMidnight('26-03-28-23-59-59')).toISOString(), '2026-03-28T23:00:00.000Z');
  t.equal(new Date(suffixNextMidnight('26-03-29-0-0-1-2')).toISOString(), '2026-03-29T22:00:00.000Z', 'a 23-hour day; collision counter ignored');
});
