import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runExe, wineTest } from '../helpers/wine';

// portqry-ts.exe under Wine extracts its embedded koffi.node and loads it (src/platform/koffi.ts):
// four first runs at once into a fresh folder, then a swapped file. The folder is given through
// PORTQRY_NATIVE_DIR (a fresh per-test base, as a fresh %LOCALAPPDATA% would be); Wine has no
// Windows ACLs, so the DACL side is covered by test/unit/native-dir.test.ts and docs/windows-build.md.
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

wineTest('portqry-ts.exe: koffi.node extracted once, verified, re-extracted when swapped', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-wine-native-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const env = { PORTQRY_NATIVE_DIR: `Z:${base.replace(/\//g, '\\')}` };

  const runs = await Promise.all([1, 2, 3, 4].map(() => runExe(['self-check', '--json'], { env, keepServer: true, timeoutMs: 120_000 })));
  for (const r of runs) {
    t.equal(r.code, 0, r.stderr);
    const rec = JSON.parse(r.stdout);
    t.equal(rec.FfiError, null);
    t.equal(rec.FfiProcessId, rec.ProcessId);
  }
  const [leaf] = fs.readdirSync(base);
  const dir = path.join(base, leaf!);
  const names = fs.readdirSync(dir);
  t.ok(names.includes('koffi.node'), `koffi.node there (${names.join(', ')})`);
  t.notOk(names.some((n) => n.endsWith('.tmp')), 'no temp file left');
  // A signed build embeds a signed copy (npm run sign), so compare with the exe's own asset by loading:
  // the file must hash to the folder's name, which is the first 16 hex digits of the embedded asset's sha256.
  const file = path.join(dir, 'koffi.node');
  t.equal(sha(fs.readFileSync(file)).slice(0, 16), leaf);
  t.equal(fs.readFileSync(file).length > 100_000, true);

  fs.writeFileSync(file, Buffer.from('MZ swapped'));
  const again = await runExe(['self-check', '--json'], { env, keepServer: true });
  t.equal(again.code, 0, again.stderr);
  t.equal(JSON.parse(again.stdout).FfiError, null);
  t.equal(sha(fs.readFileSync(file)).slice(0, 16), leaf, 'a swapped koffi.node is re-extracted');
});
