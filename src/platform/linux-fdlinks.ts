/**
 * Reading the links of a /proc/PID/fd directory to find its sockets: one readlink per descriptor,
 * the one cost a snapshot shares with `ss -p` (linux-owners.ts). Two ways to read them, the same
 * answers (test/unit/platform/linux-fdlinks.test.ts):
 *
 * - fsFdLinks: `fs.readlinkSync` of each full path, a JS string per link. No native code.
 * - libcFdLinks: readlinkat(2) through koffi, relative to the directory opened once, into one
 *   reused buffer, decoded from its bytes. The kernel looks up one name per link instead of the whole
 *   /proc/PID/fd/N path, and no string is made for the links that are not sockets: at 10,000
 *   descriptors about 20 ms less than fsFdLinks (docs/benchmarks.md, snapshot). Used where koffi is
 *   loaded anyway (the sock_diag dumps); if libc cannot be loaded it reads with fsFdLinks.
 */
import * as fs from 'node:fs';
import { libcLibrary } from './libc';
import { socketInode, socketInodeBytes } from './linux-decode';

export interface FdLinks {
  /** Calls `visit` with the inode of each socket among the descriptors `fds` of `fdDir` (/proc/PID/fd/); one closed meanwhile is passed over. */
  socketInodes(fdDir: string, fds: readonly string[], visit: (inode: number) => void): void;
}

export const fsFdLinks: FdLinks = {
  socketInodes(fdDir, fds, visit) {
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(fdDir + fd);
      } catch {
        continue; // closed meanwhile
      }
      const inode = socketInode(link);
      if (inode !== null) visit(inode);
    }
  },
};

// O_RDONLY | O_CLOEXEC (the same value on every Linux architecture); no O_DIRECTORY, whose value
// differs between x86-64 and arm64: a /proc/PID/fd that is not a directory fails readlinkat anyway.
const O_RDONLY_CLOEXEC = 0o2000000;

interface LinkCalls {
  open(path: string, flags: number): number;
  readlinkat(dirfd: number, path: string, buf: Buffer, size: number): number | bigint;
  close(fd: number): number;
}

/** readlinkat through koffi, reading `socket:[N]` from the bytes; fsFdLinks wherever libc cannot be loaded. */
export function libcFdLinks(load: () => LinkCalls = loadLinkCalls): FdLinks {
  let calls: LinkCalls | null | undefined;
  // "socket:[" + 20 digits + "]" fits; a longer link (a path) is cut short and is no socket anyway.
  const buf = Buffer.alloc(64);
  return {
    socketInodes(fdDir, fds, visit) {
      if (calls === undefined) {
        try {
          calls = load();
        } catch {
          calls = null;
        }
      }
      if (calls === null) return fsFdLinks.socketInodes(fdDir, fds, visit);
      if (fds.length === 0) return;
      const dirfd = calls.open(fdDir, O_RDONLY_CLOEXEC);
      if (dirfd < 0) return; // exited, or another user's process: nothing we can see
      try {
        for (const fd of fds) {
          const n = Number(calls.readlinkat(dirfd, fd, buf, buf.length));
          if (n <= 0) continue; // closed meanwhile
          const inode = socketInodeBytes(buf, n);
          if (inode !== null) visit(inode);
        }
      } finally {
        calls.close(dirfd);
      }
    },
  };
}

function loadLinkCalls(): LinkCalls {
  const { lib } = libcLibrary();
  // open(2) is variadic in C (`int open(const char *, int, ...)`); its third argument, the mode, is
  // read only with O_CREAT or O_TMPFILE (open(2)), so calling it with two fixed arguments is sound on
  // the ABIs this engine runs on (x86-64 and arm64 Linux pass the named arguments alike either way).
  return {
    open: lib.func('int open(const char *path, int flags)') as LinkCalls['open'],
    readlinkat: lib.func('intptr_t readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)') as LinkCalls['readlinkat'],
    close: lib.func('int close(int fd)') as LinkCalls['close'],
  };
}
