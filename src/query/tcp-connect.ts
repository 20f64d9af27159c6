import * as net from 'node:net';

export type PortState = 'LISTENING' | 'NOT LISTENING' | 'FILTERED' | 'LISTENING or FILTERED';

export interface TcpAttemptResult {
  state: PortState;
  /** connected, reset, timeout, unreachable, self-connect */
  reason: string;
  elapsedMs: number;
  localAddress: string | null;
  localPort: number | null;
}

export interface TcpConnectOptions {
  timeoutMs: number;
  sourcePort?: number;
  sourceAddress?: string;
}

// Errors that mean a router or firewall answered for the host (ICMP unreachable other than
// port-unreachable, which TCP never sees): PortQry reports those as FILTERED.
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM', 'EHOSTDOWN', 'ENETDOWN']);

/**
 * One TCP connect attempt. SYN-ACK → LISTENING; RST → NOT LISTENING; silence until the timeout or an
 * ICMP unreachable → FILTERED. On loopback Linux may pick the target port as our source port and
 * connect the socket to itself; that is not a listener, so it counts as NOT LISTENING.
 */
export function tcpConnectOnce(address: string, port: number, options: TcpConnectOptions): Promise<TcpAttemptResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve) => {
    const socket = new net.Socket();
    let settled = false;
    const finish = (state: PortState, reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const localAddress = socket.localAddress ?? null;
      const localPort = socket.localPort ?? null;
      // resetAndDestroy sends RST: no FIN/TIME_WAIT pile-up on either side during wide scans.
      if (typeof socket.resetAndDestroy === 'function' && state === 'LISTENING') socket.resetAndDestroy();
      else socket.destroy();
      resolve({ state, reason, elapsedMs: Math.round(elapsed() * 1000) / 1000, localAddress, localPort });
    };
    const timer = setTimeout(() => finish('FILTERED', 'timeout'), options.timeoutMs);
    socket.once('connect', () => {
      if (socket.localPort === port && socket.remotePort === port && socket.localAddress === socket.remoteAddress) {
        finish('NOT LISTENING', 'self-connect');
      } else {
        finish('LISTENING', 'connected');
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') finish('NOT LISTENING', 'reset');
      else if (UNREACHABLE.has(err.code ?? '')) finish('FILTERED', 'unreachable');
      else if (err.code === 'ETIMEDOUT') finish('FILTERED', 'timeout');
      else finish('FILTERED', (err.code ?? 'error').toLowerCase());
    });
    socket.connect({ host: address, port, localPort: options.sourcePort, localAddress: options.sourceAddress });
  });
}

/**
 * PortQry's rule: a TCP port is tried up to `attempts` times before it is called FILTERED; a definite
 * answer (connected or reset) ends the attempts at once.
 */
export async function tcpConnect(address: string, port: number, options: TcpConnectOptions & { attempts: number }): Promise<TcpAttemptResult & { attempts: number }> {
  let last: TcpAttemptResult | undefined;
  let n = 0;
  while (n < Math.max(1, options.attempts)) {
    n++;
    last = await tcpConnectOnce(address, port, options);
    if (last.state !== 'FILTERED' || last.reason === 'unreachable') break;
  }
  return { ...last!, attempts: n };
}
