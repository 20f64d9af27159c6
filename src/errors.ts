import { ExitCode } from './exit-codes';

/**
 * An error the user can act on. Its message is printed as one line on stderr (never a stack
 * trace) and its exit code is returned. Anything that is not a PortqryError is a bug and
 * exits with ExitCode.Software.
 */
export class PortqryError extends Error {
  constructor(message: string, readonly exitCode: ExitCode) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad option or option value; the message names the bad value. */
export class UsageError extends PortqryError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
  }
}

/** Input data is malformed or of the wrong kind. */
export class DataError extends PortqryError {
  constructor(message: string) {
    super(message, ExitCode.DataError);
  }
}

/** A feature whose issue has not landed yet: a clear refusal, never a fake result. */
export class NotBuiltError extends PortqryError {
  constructor(what: string) {
    super(`${what} is not built yet in this version of portqry-ts`, ExitCode.Unavailable);
  }
}

/** Maps Node's file-system errors to a one-line message and a sysexits code. */
export function fileError(err: unknown, path: string, writing = false): PortqryError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new PortqryError(`no such file or directory: ${path}`, writing ? ExitCode.CantCreate : ExitCode.NoInput);
  if (code === 'EACCES' || code === 'EPERM') return new PortqryError(`permission denied: ${path}`, ExitCode.NoPermission);
  if (code === 'EISDIR') return new PortqryError(`is a directory: ${path}`, writing ? ExitCode.CantCreate : ExitCode.NoInput);
  if (code === 'ENOSPC') return new PortqryError(`no space left on device: ${path}`, ExitCode.IoError);
  const msg = err instanceof Error ? err.message : String(err);
  return new PortqryError(`${writing ? 'cannot write' : 'cannot read'} ${path}: ${msg}`, writing ? ExitCode.CantCreate : ExitCode.IoError);
}

/** Words for the errors a write can meet mid-way (a full disk, a dead device), errno code last when unknown. */
function writeReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return 'no space left on device';
  if (code === 'EDQUOT') return 'disk quota exceeded';
  if (code === 'EFBIG') return 'file too large';
  if (code === 'EIO') return 'input/output error (EIO)';
  const msg = err instanceof Error ? err.message : String(err);
  return code && !msg.includes(code) ? `${msg} (${code})` : msg;
}

/**
 * A write that failed after the destination was opened: ExitCode.IoError (74) on every command, so that
 * `query` never lets a lost output look like a verdict. `what` is a path or "to standard output".
 */
export function writeError(err: unknown, what: string): PortqryError {
  return new PortqryError(`cannot write ${what}: ${writeReason(err)}`, ExitCode.IoError);
}
