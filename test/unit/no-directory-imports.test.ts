import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';

// Node's ESM resolution refuses a directory import ('../src/platform' for '../src/platform/index'):
// ERR_UNSUPPORTED_DIR_IMPORT. esbuild and tsx accept it, so the build and most test runs would not
// notice, but a fresh `npm ci` runs the suite through tap's TypeScript loader, which follows Node's
// rule: every in-process test that imported a command failed on a clean clone. Name the file.
t.test('no relative import names a directory', async (t) => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'fixtures') walk(file);
      } else if (file.endsWith('.ts')) {
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bfrom\s+'(\.{1,2}\/[^']*)'/g)) {
          const target = path.resolve(path.dirname(file), m[1]!);
          if (fs.existsSync(target) && fs.statSync(target).isDirectory()) offenders.push(`${path.relative(ROOT, file)}: '${m[1]}'`);
        }
      }
    }
  };
  for (const dir of ['src', 'commands', 'test', 'scripts']) walk(path.join(ROOT, dir));
  t.same(offenders, []);
});
