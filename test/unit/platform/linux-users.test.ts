import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { SystemUserDirectory } from '../../../src/platform/linux';

t.test('user names: local accounts as HOST\\user, others from NSS in one batch, unknown uids absent, all cached', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plat-users-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const passwd = path.join(dir, 'passwd');
  fs.writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
  const asked: number[][] = [];
  const users = new SystemUserDirectory(passwd, 'srv01', async (uids) => {
    asked.push(uids);
    return 'alice@corp.example:*:1234567:100:Alice:/home/alice:/bin/bash\n';
  });
  const names = await users.lookup([0, 33, 1234567, 4242]);
  t.same([...names], [[0, 'srv01\\root'], [33, 'srv01\\www-data'], [1234567, 'alice@corp.example']]);
  t.same(asked, [[1234567, 4242]], 'only uids missing from /etc/passwd go to getent, in one call');
  await users.lookup([0, 1234567, 4242]);
  t.equal(asked.length, 1, 'answers, including "unknown", are cached');

  const broken = new SystemUserDirectory(path.join(dir, 'missing'), 'h', async () => {
    throw new Error('spawn getent ENOENT');
  });
  t.same([...(await broken.lookup([0]))], [], 'no passwd file and no getent: nothing known, no failure');
});

t.test('the real system database knows the current user', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const me = os.userInfo();
  const names = await new SystemUserDirectory().lookup([me.uid]);
  t.match(names.get(me.uid), new RegExp(`(^|\\\\)${me.username}$`));
});
