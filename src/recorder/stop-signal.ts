/**
 * The one way the long-running loops (record, query -wport/-wpid) are stopped: SIGINT (Ctrl+C),
 * SIGTERM (kill, systemd stop), SIGHUP (the terminal went away) on POSIX; SIGINT, SIGBREAK
 * (Ctrl+Break) and SIGHUP (the console window closed: Windows ends the process about 10 s later,
 * https://nodejs.org/api/process.html#signal-events) on Windows, where SIGTERM is never raised but
 * listening for it costs nothing. The loop sees an AbortSignal, finishes what it was writing and
 * returns normally, so its files are flushed and closed and the exit code is its own.
 */

/** What the helper listens on: the process, or an EventEmitter in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/** The signals that stop a loop on this platform. */
export function stopSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGBREAK', 'SIGHUP', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
}

/**
 * Runs a loop with an AbortSignal that the stop signals abort; the listeners are removed when it
 * returns or throws, so a second Ctrl+C afterwards gets Node's default (exit at once).
 */
export async function untilStopped<T>(run: (signal: AbortSignal) => Promise<T>, source: SignalSource = process, platform: NodeJS.Platform = process.platform): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals = stopSignals(platform);
  for (const s of signals) source.on(s, stop);
  try {
    return await run(controller.signal);
  } finally {
    for (const s of signals) source.off(s, stop);
  }
}

/** Resolves after ms, or at once when the signal aborts (no listener left behind either way). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
