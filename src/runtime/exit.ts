/** What exitWhenWritten needs of `process` (tests pass their own). */
export interface ExitingProcess {
  stdout: { writableLength: number };
  stderr: { writableLength: number };
  exitCode?: number | string | null | undefined;
  exit(code: number): void;
}

/**
 * Ends the process with `code` as soon as the command is over. When it is over, everything it wrote
 * has been handed to the operating system if stdout and stderr hold nothing unwritten: writes to
 * files and, on Linux, to pipes are synchronous in Node; a write still pending (a pipe on Windows,
 * which Node writes asynchronously; a pipe whose reader is slow) keeps its bytes in writableLength
 * until it completes. Then process.exit() loses nothing, and it saves what the natural end of the
 * event loop costs: Node first waits for V8's background tasks (optimizing compiles, concurrent
 * sweeping), 13–28 ms after `record --once` at 10,000 sockets (docs/benchmarks.md, snapshot).
 * Otherwise only the exit code is set, and the process ends once the pending writes are done.
 */
export function exitWhenWritten(code: number, proc: ExitingProcess = process as ExitingProcess): void {
  proc.exitCode = code;
  if (proc.stdout.writableLength === 0 && proc.stderr.writableLength === 0) proc.exit(code);
}
