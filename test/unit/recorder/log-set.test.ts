import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { newestSet, SET_FILE, setFiles } from '../../../src/portreporter/log-set';

t.test('set files: the four names of one suffix', async (t) => {
  t.same(setFiles('/d', '26-12-4-9-5-7'), {
    INITIAL: path.join('/d', 'PR-INITIAL-26-12-4-9-5-7.log'),
    PORTS: path.join('/d', 'PR-PORTS-26-12-4-9-5-7.log'),
    PIDS: path.join('/d', 'PR-PIDS-26-12-4-9-5-7.log'),
    EVENTS: path.join('/d', 'PR-EVENTS-26-12-4-9-5-7.jsonl'),
  });
  t.ok(SET_FILE.test('PR-PORTS-05-07-6-13-44-4-2.log'), 'a collision counter');
  t.notOk(SET_FILE.test('PR-PORTS-05-07-6-13-44-4.log.bak'));
  t.notOk(SET_FILE.test('PR-EVENTS-05-07-6-13-44-4.log'));
});

t.test('newestSet: the set whose files were written last; other files ignored; null for none', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-sets-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.equal(newestSet(dir), null);
  t.equal(newestSet(path.join(dir, 'missing')), null);
  const touch = (name: string, secondsAgo: number) => {
    fs.writeFileSync(path.join(dir, name), 'x');
    const when = new Date(Date.now() - secondsAgo * 1000);
    fs.utimesSync(path.join(dir, name), when, when);
  };
  touch('PR-PORTS-26-12-4-9-0-0.log', 300);
  touch('PR-PIDS-26-12-4-9-0-0.log', 300);
  touch('PR-EVENTS-26-12-3-23-0-0.jsonl', 100);
  touch('PR-PORTS-26-12-3-23-0-0.log', 200);
  touch('notes.txt', 1);
  t.equal(newestSet(dir), '26-12-3-23-0-0', 'by modification time, not by name');
});
