import { type Koffi, loadKoffi } from './koffi';

type Library = ReturnType<Koffi['load']>;

let lib: Library | undefined;

/**
 * The C library, for the few calls Node has no API for (netlink sockets, a datagram to /dev/log):
 * glibc's libc.so.6, else musl's (Alpine). Loaded once per process; koffi is loaded with it.
 */
export function libcLibrary(): { koffi: Koffi; lib: Library } {
  const koffi = loadKoffi();
  if (lib) return { koffi, lib };
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  let firstError: unknown;
  for (const name of ['libc.so.6', `libc.musl-${arch}.so.1`]) {
    try {
      lib = koffi.load(name);
      return { koffi, lib };
    } catch (err) {
      firstError ??= err;
    }
  }
  throw firstError;
}
