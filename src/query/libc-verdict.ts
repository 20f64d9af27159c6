/**
 * The libc engine's TCP verdicts, a pure function of what the kernel said (errno values and the
 * deadline), so they can be tested with any errno injected. The rule is the Node engine's, by
 * construction: an errno is named as Node names it (util.getSystemErrorName, as tcp-connect.ts does
 * with libuv's status) and classified by tcp-connect.ts's classifyConnectError. The only
 * libc-specific part is where the kernel reports it:
 * - socket()/bind()/connect() failing at once (EMFILE, EADDRINUSE, ENETUNREACH, EPERM from an
 *   nftables output rule, ...): the verdict or the local error now; EINPROGRESS means wait.
 *   (libuv reports an immediate ECONNREFUSED one tick later; same name, same verdict.)
 * - SO_ERROR after poll() says the socket is ready: 0 is connected, anything else is the connect's
 *   error (ECONNREFUSED from a RST or ICMP port unreachable, EHOSTUNREACH, EACCES, ...).
 * - the deadline with the socket still not ready: FILTERED, timeout.
 */
import * as util from 'node:util';
import { type PortState, classifyConnectError, LocalResourceError, SourcePortInUseError } from './tcp-connect';
import { EINPROGRESS, EINTR } from './libc-api';

export type LibcTcpEvent =
  /** socket(), bind() or connect() returned -1 with this errno (0 for connect: connected at once). */
  | { kind: 'call'; call: 'socket' | 'bind' | 'connect'; errno: number }
  /** poll() reported the socket; SO_ERROR read this errno (0: connected). */
  | { kind: 'ready'; soError: number }
  /** The attempt's time is up and the socket was still not ready at a poll made after it. */
  | { kind: 'deadline' };

export type LibcTcpStep =
  | { kind: 'wait' }
  /** Connected: LISTENING unless the socket connected to itself (the engine checks getsockname). */
  | { kind: 'connected' }
  | { kind: 'verdict'; state: PortState; reason: string }
  | { kind: 'error'; error: LocalResourceError | SourcePortInUseError | Error };

const NAMES: (string | undefined)[] = new Array<string | undefined>(256);

/** errno → Node's code name ('ECONNREFUSED'); the name Node's own sockets would report. */
export function errnoName(errno: number): string {
  const e = Math.abs(errno);
  if (e < NAMES.length) return (NAMES[e] ??= util.getSystemErrorName(-e));
  return util.getSystemErrorName(-e);
}

function classify(errno: number, sourcePort: number | undefined): LibcTcpStep {
  try {
    const v = classifyConnectError(errnoName(errno), sourcePort);
    return { kind: 'verdict', state: v.state, reason: v.reason };
  } catch (err) {
    return { kind: 'error', error: err as Error };
  }
}

/** What one event of a TCP connect attempt means. */
export function libcTcpStep(event: LibcTcpEvent, sourcePort: number | undefined): LibcTcpStep {
  switch (event.kind) {
    case 'call':
      if (event.call === 'connect' && event.errno === 0) return { kind: 'wait' };
      // A signal during a non-blocking connect: the connect goes on in the kernel; poll() reports it.
      if (event.call === 'connect' && (event.errno === EINPROGRESS || event.errno === EINTR)) return { kind: 'wait' };
      return classify(event.errno, sourcePort);
    case 'ready':
      return event.soError === 0 ? { kind: 'connected' } : classify(event.soError, sourcePort);
    case 'deadline':
      return { kind: 'verdict', state: 'FILTERED', reason: 'timeout' };
  }
}

/** After a connect: LISTENING, or NOT LISTENING when Linux connected the socket to itself (loopback, source port = target port). */
export function connectedVerdict(local: { address: string; port: number } | null, address: string, port: number): { state: PortState; reason: string } {
  if (local && local.port === port && local.address === address) return { state: 'NOT LISTENING', reason: 'self-connect' };
  return { state: 'LISTENING', reason: 'connected' };
}
