import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { system32Program } from '../../../src/platform/system32';
import { ROOT } from '../../helpers/cli';

t.test('Windows programs by full %SystemRoot%\\System32 path', async (t) => {
  t.equal(system32Program('icacls.exe', { SystemRoot: 'D:\\WINDOWS' }), 'D:\\WINDOWS\\System32\\icacls.exe');
  t.equal(system32Program('sc.exe', { SYSTEMROOT: 'C:\\Win' }), 'C:\\Win\\System32\\sc.exe', 'either spelling of the variable');
  t.equal(system32Program('whoami.exe', {}), 'C:\\Windows\\System32\\whoami.exe', 'the default when the variable is missing');
});

// libuv on Windows searches the current directory before PATH: a Windows program started by bare name
// could be a planted one. This fails when code starts one by name instead of through system32Program.
t.test('no Windows program is started by bare name anywhere in src/ or commands/', async (t) => {
  const bare = /\b(execFileSync|execFile|spawnSync|spawn)\(\s*['"`](icacls|sc|schtasks|whoami|reg|net|wevtutil|takeown|cmd|powershell)(\.exe)?['"`]/i;
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (file.endsWith('.ts')) fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => bare.test(line) && offenders.push(`${path.relative(ROOT, file)}:${i + 1}`));
    }
  };
  walk(path.join(ROOT, 'src'));
  walk(path.join(ROOT, 'commands'));
  t.same(offenders, []);
});
