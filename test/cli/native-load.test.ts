import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';

// The Linux executable extracts its embedded koffi.node to a private folder and loads it
// (src/platform/native-dir.ts, koffi.ts): concurrent first runs, a swapped file, a folder that is not ours.
const BIN = path.join(ROOT, 'dist', 'portqry-ts');
const ASSET = path.join(ROOT, 'node_modules', '@koromix', 'koffi-linux-x64', 'linux_x64', 'koffi.node');
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

function selfCheck(home: string, env: Record<string, string> = {}): Promise<{ code: number | null; record: Record<string, unknown> | null; stderr: string }> {
  return new Promise((resolve) => {
    const e: NodeJS.ProcessEnv = { ...process.env };
    delete e.XDG_CACHE_HOME;
    delete e.XDG_RUNTIME_DIR;
    delete e.PORTQRY_NATIVE_DIR;
    Object.assign(e, { HOME: home }, env);
    const child = spawn(BIN, ['self-check', '--json'], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('close', (code) => resolve({ code, record: out ? JSON.parse(out) : null, stderr: err }));
  });
}

t.test('dist/portqry-ts: koffi.node in a private folder', { skip: process.platform !== 'linux' ? 'Linux executable' : false }, async (t) => {
  if (!fs.existsSync(BIN)) {
    t.fail(`${BIN} missing: run npm run build`);
    return;
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-home-'));
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const hash = sha(fs.readFileSync(ASSET));
  const dir = path.join(home, '.cache', 'portqry-ts', hash.slice(0, 16));
  const file = path.join(dir, 'koffi.node');

  t.test('four first runs at once', async (t) => {
    const runs = await Promise.all([1, 2, 3, 4].map(() => selfCheck(home)));
    for (const r of runs) {
      t.equal(r.code, 0, r.stderr);
      t.equal(r.record?.FfiError, null);
      t.equal(r.record?.FfiProcessId, r.record?.ProcessId);
    }
    t.same(fs.readdirSync(dir), ['koffi.node'], 'one file, no temp left');
    t.equal(sha(fs.readFileSync(file)), hash, 'the embedded asset, byte for byte');
    t.equal(fs.statSync(dir).mode & 0o777, 0o700);
    t.equal(fs.statSync(path.dirname(dir)).mode & 0o777, 0o700);
    t.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  t.test('a swapped koffi.node is detected and re-extracted', async (t) => {
    fs.writeFileSync(file, Buffer.from('\x7fELF not koffi'));
    const r = await selfCheck(home);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.record?.FfiError, null);
    t.equal(sha(fs.readFileSync(file)), hash);
  });

  t.test('a folder that is open to others or not ours: refused in one line', async (t) => {
    fs.chmodSync(path.join(home, '.cache'), 0o777);
    const open = await selfCheck(home);
    fs.chmodSync(path.join(home, '.cache'), 0o700);
    t.equal(open.code, 71);
    t.match(open.record?.FfiError, /\.cache \(above the native module folder\) is writable by other users: refusing to load code below it$/);
    if (process.getuid?.() !== 0) return;
    fs.chownSync(dir, 65534, 65534);
    const foreign = await selfCheck(home);
    t.equal(foreign.code, 71);
    t.match(foreign.record?.FfiError, new RegExp(`native module folder ${dir} is owned by uid 65534, not us \\(0\\): refusing to load code from it$`));
    fs.chownSync(dir, 0, 0);
  });

  t.test('no usable home (a system user): XDG_RUNTIME_DIR', async (t) => {
    const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-run-'));
    t.teardown(() => fs.rmSync(runtime, { recursive: true, force: true }));
    // HOME names a folder that does not exist and cannot be created (under a regular file).
    const noHome = path.join(runtime, 'file', 'home');
    fs.writeFileSync(path.join(runtime, 'file'), '');
    const r = await selfCheck(noHome, { XDG_RUNTIME_DIR: runtime });
    t.equal(r.code, 0, r.stderr);
    t.equal(sha(fs.readFileSync(path.join(runtime, 'portqry-ts', hash.slice(0, 16), 'koffi.node'))), hash);
  });
});
