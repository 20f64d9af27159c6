import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { ensurePrivateDir, NativeDirError, planNativeDir } from './native-dir';

export type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

/** The arguments of native calls in flight on a worker thread (holdUntilCalled). */
const inFlight = new Set<readonly object[]>();

/**
 * The callback of a koffi `.async()` call that keeps `buffers` alive until it runs. koffi gives a
 * native function a Buffer argument as the address of the Buffer's memory and holds no reference to
 * the Buffer, for asynchronous calls too, whose native call runs later on a worker thread (koffi 3.3.4,
 * src/koffi/src/call.cc, CallData::PushPointer). A Buffer that nothing else holds can be collected,
 * and its memory reused, before or while the call reads it: select() then read a garbage timeout and
 * waited for ever (test/unit/koffi-async-args.test.ts).
 */
export function holdUntilCalled<A extends unknown[]>(buffers: readonly object[], cb: (...args: A) => void): (...args: A) => void {
  inFlight.add(buffers);
  return (...args: A) => {
    inFlight.delete(buffers);
    cb(...args);
  };
}

/**
 * koffi, loaded on first use only (query and parse never pay for it).
 *
 * In a standalone executable (Node SEA) the native koffi.node travels as the SEA asset
 * `koffi-<platform>-<arch>.node`; SEA's require loads builtins only, so the asset is written to a
 * private folder (./native-dir.ts decides which and proves it private) and loaded with process.dlopen.
 * Under plain node it is required from node_modules.
 */
export function loadKoffi(): Koffi {
  if (loaded) return loaded;
  const sea = seaModule();
  if (sea?.isSea()) {
    const key = `koffi-${process.platform}-${process.arch}.node`;
    const buf = Buffer.from(sea.getRawAsset(key) as ArrayBuffer);
    loaded = loadNativeAsset(buf) as Koffi;
    return loaded;
  }
  // koffi is external to the bundle: resolve it from node_modules next to dist/ (or the test's source).
  const require = createRequire(import.meta.url);
  loaded = require('koffi') as Koffi;
  return loaded;
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
/** Errors a rename on Windows gives while another process (Defender, an indexer, a running copy) holds the target. */
const RENAME_RETRY = new Set(['EBUSY', 'EPERM', 'EACCES']);
const RENAME_ATTEMPTS = 6;

/**
 * Writes a native module to its private folder (named by its sha256) and loads it, after checking that
 * the bytes loaded are the embedded ones (compared byte for byte: one hash per load, for the folder's
 * name; hashing the file twice more cost about 7 % of a 10,000-port scan's instructions):
 * - the file is reused only when its content is the embedded module's; otherwise (missing, truncated, swapped) it is
 *   written afresh: a temp name in the same folder, fsync, rename over the old one. Concurrent first runs
 *   each rename their own identical copy, which is harmless; on Windows a rename refused while another
 *   process holds the file is retried with back-off, and if the file there meanwhile holds the right bytes it is used;
 *   if it never frees, our verified copy is loaded under a name of its own.
 * - Linux: the file is opened, compared through that descriptor and loaded through /proc/self/fd/N, so the
 *   inode that was verified is the one loaded. Windows: after loading, the file is read again and compared
 *   (a mapped image cannot be written, so these are the bytes in memory); a mismatch is fatal.
 */
export function loadNativeAsset(buf: Buffer, env: NodeJS.ProcessEnv = process.env): unknown {
  const hash = sha256(buf);
  const plan = planNativeDir(hash, env);
  ensurePrivateDir(plan);
  removeStaleTemps(plan.dir);
  const file = installVerified(path.join(plan.dir, 'koffi.node'), buf);
  const mod = { exports: {} as unknown };
  if (process.platform === 'linux' && fs.existsSync('/proc/self/fd')) {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      if (!buf.equals(readAll(fd))) throw new NativeDirError(`native module ${file} changed while it was being loaded`);
      process.dlopen(mod, `/proc/self/fd/${fd}`);
    } finally {
      fs.closeSync(fd);
    }
  } else {
    // Windows (and a Linux without /proc): load by name, then re-read what was loaded.
    process.dlopen(mod, file);
    if (!buf.equals(fs.readFileSync(file))) throw new NativeDirError(`native module ${file} does not match the one inside this executable`);
  }
  return mod.exports;
}

function readAll(fd: number): Buffer {
  const size = fs.fstatSync(fd).size;
  const out = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, out, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return out.subarray(0, off);
}

/** A regular file (not a link) that is ours, not writable by others, with the right content. */
function verified(file: string, buf: Buffer): boolean {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile()) return false;
    if (process.platform !== 'win32' && (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0)) return false;
    return buf.equals(fs.readFileSync(file));
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The path of a verified copy of buf in the folder of `file` (see loadNativeAsset). */
export function installVerified(file: string, buf: Buffer, rename: (from: string, to: string) => void = fs.renameSync): string {
  if (verified(file, buf)) return file;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, buf, 0, buf.length);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  for (let attempt = 0; attempt < RENAME_ATTEMPTS; attempt++) {
    try {
      rename(tmp, file);
      return file;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!RENAME_RETRY.has(code)) {
        fs.rmSync(tmp, { force: true });
        throw err;
      }
      if (verified(file, buf)) {
        fs.rmSync(tmp, { force: true }); // another first run put the same bytes there
        return file;
      }
      sleepSync(25 * 2 ** attempt); // 25 ms … 800 ms, about 1.6 s in all
    }
  }
  // Still held, and not by our content: load our own verified copy under a name of its own.
  const own = path.join(dir, `${path.basename(file, '.node')}-${process.pid}.node`);
  fs.rmSync(own, { force: true });
  fs.renameSync(tmp, own);
  return own;
}

/** Temp files of runs that died between write and rename, and per-process copies, after 10 minutes. */
function removeStaleTemps(dir: string): void {
  try {
    const old = Date.now() - 10 * 60_000;
    for (const name of fs.readdirSync(dir)) {
      if (!/\.tmp$|^koffi-\d+\.node$/.test(name)) continue;
      const p = path.join(dir, name);
      try {
        if (fs.lstatSync(p).mtimeMs < old) fs.rmSync(p, { force: true });
      } catch {
        // in use (Windows) or gone: next time
      }
    }
  } catch {
    // best effort
  }
}

export function seaModule(): typeof import('node:sea') | null {
  try {
    const require = createRequire(import.meta.url);
    return require('node:sea') as typeof import('node:sea');
  } catch {
    return null; // Node < 20.12 has no node:sea
  }
}
