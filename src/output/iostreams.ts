import * as fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/**
 * The one place that knows what stdout and stderr are (TTY or not), whether colour is wanted, and
 * what to do when the reader goes away. Commands never look at process.stdout or process.env for
 * this; tests build an IOStreams over memory streams.
 */
export interface IOStreams {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Colour for what goes to stdout (help, text, table). */
  readonly colorStdout: boolean;
  /** Colour for error lines and progress on stderr. */
  readonly colorStderr: boolean;
  /** Terminal width for tables, 0 when not a terminal. */
  readonly columns: number;
  /** True once the stdout reader has gone away (EPIPE) or a write to it failed: producers should stop. */
  readonly stdoutClosed: boolean;
  /**
   * The first write error on stdout that is not a closed pipe (a full disk, an I/O error): the command
   * then ends with ExitCode.IoError, whatever its result would have been (a verdict must not stand in
   * for an output that was lost).
   */
  readonly stdoutError: NodeJS.ErrnoException | undefined;
  /**
   * The file stdout writes to when it is a regular file (`> out.jsonl` in cmd.exe or sh), else
   * undefined (a terminal, a pipe: PowerShell's `>` pipes a native command's output and writes the
   * file itself). Readers of files pass it over: a command must not read its own output back.
   */
  readonly stdoutFile: FileIdentity | undefined;
  /** One transient progress line on stderr; a no-op unless stderr is a terminal. */
  progress(line: string): void;
  /** Clears the progress line, if one is shown. */
  clearProgress(): void;
}

/**
 * NO_COLOR (any non-empty value, no-color.org) wins, then FORCE_COLOR ("0"/"false" off, else on),
 * then the TTY test. chalk's own detection ignores NO_COLOR and clipanion's ignores the TTY, so
 * neither is asked.
 */
export function wantsColor(isTTY: boolean, env: NodeJS.ProcessEnv, override?: boolean): boolean {
  if (override !== undefined) return override;
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !(force === '0' || force.toLowerCase() === 'false');
  return isTTY && env.TERM !== 'dumb';
}

/** A file's identity: its device (volume serial number on Windows) and inode (file index on Windows). */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
}

interface StreamOptions {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  env?: NodeJS.ProcessEnv;
  columns?: number;
  /** Called once when stdout's reader is gone; the process default ends quietly. */
  onBrokenPipe?: () => void;
  /** IOStreams.stdoutFile, asked for when first needed. */
  stdoutFile?: () => FileIdentity | undefined;
}

// A reader that went away: EPIPE on POSIX; libuv maps Windows' ERROR_NO_DATA (232) to EPIPE too, and
// EOF/ERR_STREAM_DESTROYED show up when the stream was already torn down.
const BROKEN_PIPE = new Set(['EPIPE', 'EOF', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

export function createIOStreams(options: StreamOptions): IOStreams {
  const env = options.env ?? {};
  const stdoutIsTTY = options.stdoutIsTTY ?? false;
  const stderrIsTTY = options.stderrIsTTY ?? false;
  let closed = false;
  let failed: NodeJS.ErrnoException | undefined;
  let progressShown = false;
  let stdoutFile: FileIdentity | undefined | null = null;
  const onError = (err: NodeJS.ErrnoException) => {
    // After a failed write the stream is destroyed and later writes report ERR_STREAM_DESTROYED: the
    // first error is the one that counts.
    if (closed || failed) return;
    if (err && BROKEN_PIPE.has(err.code ?? '')) {
      closed = true;
      options.onBrokenPipe?.();
      return;
    }
    failed = err ?? new Error('write failed');
  };
  options.stdout.on('error', onError);
  // A failed error message has nowhere to go; it must not crash the process either.
  options.stderr.on('error', () => {});
  const io: IOStreams = {
    stdin: options.stdin,
    stdout: options.stdout,
    stderr: options.stderr,
    stdoutIsTTY,
    stderrIsTTY,
    env,
    colorStdout: wantsColor(stdoutIsTTY, env),
    colorStderr: wantsColor(stderrIsTTY, env),
    columns: options.columns ?? 0,
    get stdoutClosed() {
      return closed || failed !== undefined;
    },
    get stdoutError() {
      return failed;
    },
    get stdoutFile() {
      if (stdoutFile === null) stdoutFile = options.stdoutFile?.();
      return stdoutFile;
    },
    progress(line: string) {
      if (!stderrIsTTY) return;
      progressShown = true;
      options.stderr.write(`\r\x1b[2K${line}`);
    },
    clearProgress() {
      if (!progressShown) return;
      progressShown = false;
      options.stderr.write('\r\x1b[2K');
    },
  };
  return io;
}

/** The real process streams. A broken stdout pipe ends the process quietly with the exit code so far. */
export function systemIOStreams(): IOStreams {
  const stdout = process.stdout as NodeJS.WriteStream;
  const stderr = process.stderr as NodeJS.WriteStream;
  return createIOStreams({
    stdin: process.stdin,
    stdout,
    stderr,
    stdoutIsTTY: Boolean(stdout.isTTY),
    stderrIsTTY: Boolean(stderr.isTTY),
    env: process.env,
    columns: stdout.isTTY ? stdout.columns ?? 80 : 0,
    // Nothing more can reach the reader, so there is nothing left to flush: leaving now is what
    // `| Select-Object -First 1` and `| head -1` expect, and it stops a scan that nobody reads.
    onBrokenPipe: () => process.exit(process.exitCode ?? 0),
    stdoutFile: () => (stdout.isTTY ? undefined : regularFileOf(1)),
  });
}

/** The identity of the regular file open as descriptor fd, else undefined (a pipe, a device, a closed descriptor). */
function regularFileOf(fd: number): FileIdentity | undefined {
  try {
    // BigInt: Windows' 64-bit file index does not fit a double (libuv fills st_ino from it).
    const st = fs.fstatSync(fd, { bigint: true });
    return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}
