/**
 * Every exit code the tool can return, in one place (README "Exit codes" mirrors this table).
 *
 * 0–2 are PortQry's own ERRORLEVELs and keep their meaning for `query`; the rest follow
 * BSD sysexits.h so they never collide with a port verdict in a batch file's `if errorlevel`.
 */
export const ExitCode = {
  /** Success; for `query`: every port LISTENING. */
  Ok: 0,
  /** `query`: a port is NOT LISTENING (PortQry 1). */
  NotListening: 1,
  /** `query`: a port is FILTERED or LISTENING or FILTERED (PortQry 2). */
  Filtered: 2,
  /** `parse --fail-on-flag` / `stats --fail-on-flag`: at least one record matched the criteria. */
  Flagged: 3,
  /** Bad command line: unknown option, bad value (EX_USAGE). */
  Usage: 64,
  /** Input that is not what it claims: not a Port Reporter log, malformed line under --strict (EX_DATAERR). */
  DataError: 65,
  /** An input file or directory does not exist or cannot be read (EX_NOINPUT). */
  NoInput: 66,
  /** A host name did not resolve (EX_NOHOST). */
  NoHost: 68,
  /** The feature is not available on this platform or not built yet (EX_UNAVAILABLE). */
  Unavailable: 69,
  /** A bug: an unexpected exception (EX_SOFTWARE). */
  Software: 70,
  /** An OS call failed (EX_OSERR). */
  OsError: 71,
  /** The output file cannot be created (EX_CANTCREAT). */
  CantCreate: 73,
  /** Reading or writing failed mid-way (EX_IOERR). */
  IoError: 74,
  /** Permission denied, e.g. the log directory (EX_NOPERM). */
  NoPermission: 77,
  /** An unsafe location: a directory (or a parent) that another user can write, refused as sshd's StrictModes does. */
  UnsafeLocation: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
