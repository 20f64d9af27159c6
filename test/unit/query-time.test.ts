import t from 'tap';
import { isoNow } from '../../src/query/query-port';

// TimeUtc is made once per millisecond (a loopback scan finishes dozens of ports in one): it must be
// exactly what new Date().toISOString() gives for that millisecond, across many millisecond changes.
t.test('isoNow is new Date().toISOString() of the current millisecond', async (t) => {
  let checked = 0;
  const started = Date.now();
  while (Date.now() - started < 50) {
    const before = Date.now();
    const iso = isoNow();
    const after = Date.now();
    if (before === after) {
      if (iso !== new Date(before).toISOString()) t.fail(`${iso} at ${before}`);
      checked++;
    }
  }
  t.ok(checked > 100, `${checked} calls checked`);
});
