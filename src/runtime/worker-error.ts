/**
 * What a worker thread sends back when it fails (parse's and stats' workers): the error's message on
 * one line, never its stack. The main thread reports it as an internal error (exit 70) in the one
 * line every failure gets (README, output contract: no stack trace).
 */
export function workerFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim() || 'unknown error';
}
