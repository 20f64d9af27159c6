import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

export type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

/**
 * koffi, loaded on first use only (query and parse never pay for it).
 *
 * In a standalone executable (Node SEA) the native koffi.node travels as the SEA asset
 * `koffi-<platform>-<arch>.node`; SEA's require loads builtins only, so the asset is written once to a
 * per-user cache folder (checked by SHA-256 before reuse, written atomically) and loaded with
 * process.dlopen. Under plain node it is required from node_modules.
 */
export function loadKoffi(): Koffi {
  if (loaded) return loaded;
  const sea = seaModule();
  if (sea?.isSea()) {
    const key = `koffi-${process.platform}-${process.arch}.node`;
    const buf = Buffer.from(sea.getRawAsset(key) as ArrayBuffer);
    const hash = crypto.createHash('sha256').update(buf).digest('hex');
    const base =
      process.env.PORTQRY_NATIVE_DIR ??
      (process.platform === 'win32'
        ? path.join(process.env.LOCALAPPDATA ?? os.tmpdir(), 'portqry-ts')
        : path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'portqry-ts'));
    const dir = path.join(base, hash.slice(0, 16));
    const file = path.join(dir, 'koffi.node');
    let ok = false;
    try {
      ok = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') === hash;
    } catch {
      // not written yet
    }
    if (!ok) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, buf, { mode: 0o600 });
      fs.renameSync(tmp, file);
    }
    const mod = { exports: {} as Koffi };
    process.dlopen(mod, file);
    loaded = mod.exports;
    return loaded;
  }
  // koffi is external to the bundle: resolve it from node_modules next to dist/ (or the test's source).
  const require = createRequire(import.meta.url);
  loaded = require('koffi') as Koffi;
  return loaded;
}

export function seaModule(): typeof import('node:sea') | null {
  try {
    const require = createRequire(import.meta.url);
    return require('node:sea') as typeof import('node:sea');
  } catch {
    return null; // Node < 20.12 has no node:sea
  }
}
