import t from 'tap';
import { internalized } from '../../../src/runtime/strings';

t.test('internalized: the same text back for any string, also one that names an index or a prototype key', async (t) => {
  const texts = ['', '0', '123', '4294967295', '-1', '1.5', '__proto__', 'constructor', 'toString', 'svchost.exe', 'NT AUTHORITY\\SYSTEM', 'IIS APPPOOL\\DefaultAppPool', 'é\u0000\u{1F600}'];
  for (const s of texts) t.equal(internalized(s), s, JSON.stringify(s));
  // Built at run time (not a literal): a string of its own, given back with the same text.
  const made = ['svchost', '.exe'].join('');
  t.equal(internalized(made), 'svchost.exe');
  t.equal(internalized(made), internalized('svchost.exe'), 'one text, one string');
});
