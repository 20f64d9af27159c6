import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { LocalResourceError, SourcePortInUseError } from './tcp-connect';

/** What came back for one datagram on a connected UDP socket. */
export type UdpOutcome = 'reply' | 'icmp-port-unreachable' | 'icmp-unreachable' | 'no-reply' | 'self-connect';

export interface UdpExchangeResult {
  outcome: UdpOutcome;
  reply: Buffer | null;
  elapsedMs: number;
  localAddress: string | null;
  localPort: number | null;
  /** The Reason when it says more than the outcome (Winsock engine: "icmp-port-unreachable (WSAECONNRESET)"). */
  reason?: string;
  /** Something the user should know about how the datagram went (IKE sent from an ephemeral port). */
  note?: string;
}

export interface UdpExchangeOptions {
  timeoutMs: number;
  sourcePort?: number;
  /** A source port to use when it is free, else an ephemeral one with a note (IKE: 500, as PortQry). Winsock engine only. */
  preferredSourcePort?: number;
  /**
   * Accept the reply from any source port of the target address (a TFTP server answers from a new
   * port). The socket is then not connected, so ICMP errors stay invisible and silence is all we see.
   */
  anySourcePort?: boolean;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM', 'EHOSTDOWN', 'ENETDOWN', 'ENOPROTOOPT', 'EPROTO']);
const LOCAL_SHORTAGE = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL']);

/**
 * Sends one datagram from a connected UDP socket and waits for the first answer. A connected socket is
 * what makes ICMP visible: the kernel reports "port unreachable" to it as ECONNREFUSED, and the
 * "hard" unreachable codes (protocol, administratively prohibited, filtered) as EHOSTUNREACH and
 * friends. Linux does not report host/net-unreachable (codes 0, 1) to a UDP socket, so those end as
 * silence (no-reply).
 */
export function udpExchange(address: string, port: number, payload: Buffer, options: UdpExchangeOptions): Promise<UdpExchangeResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3;
  return new Promise((resolve, reject) => {
    let socket: dgram.Socket;
    try {
      socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4', reuseAddr: false });
    } catch (err) {
      reject(asLocalError(err));
      return;
    }
    let settled = false;
    let local: net.AddressInfo | undefined;
    const finish = (outcome: UdpOutcome, reply: Buffer | null = null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve({ outcome, reply, elapsedMs: elapsed(), localAddress: local?.address ?? null, localPort: local?.port ?? null });
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        socket.close();
      } catch {
        // already closed
      }
      reject(err);
    };
    const timer = setTimeout(() => finish('no-reply'), options.timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const classified = classifyUdpSocketError(err, options.sourcePort);
      if (typeof classified === 'string') finish(classified);
      else fail(classified);
    });
    socket.on('message', (msg, rinfo) => {
      if (options.anySourcePort && rinfo.address.replace(/^::ffff:/, '') !== address.replace(/^::ffff:/, '')) return;
      // Our own datagram came back: the socket was given the target port as its source port on
      // loopback, so nothing else owns that port.
      if (local && local.port === port && local.address === address) finish('self-connect');
      else finish('reply', msg);
    });
    const send = () => {
      try {
        local = socket.address();
      } catch {
        local = undefined;
      }
      const sent = (err: Error | null) => {
        if (err) socket.emit('error', err);
      };
      if (options.anySourcePort) socket.send(payload, port, address, sent);
      else socket.send(payload, sent);
    };
    const connect = () =>
      options.anySourcePort ? send() : socket.connect(port, address, (err?: Error) => (err ? socket.emit('error', err) : send()));
    if (options.sourcePort) socket.bind({ port: options.sourcePort, exclusive: false }, connect);
    else if (options.anySourcePort) socket.bind(0, connect);
    else connect();
  });
}

/**
 * What an error on a connected UDP socket says: ICMP port unreachable (ECONNREFUSED; Windows reports it
 * as WSAECONNRESET on the next receive) or another ICMP unreachable, as an outcome; anything else is not
 * about the port and comes back as an Error (a taken -sp port, a local shortage, a bug).
 */
export function classifyUdpSocketError(err: NodeJS.ErrnoException, sourcePort?: number): UdpOutcome | Error {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return 'icmp-port-unreachable';
  if (UNREACHABLE.has(code)) return 'icmp-unreachable';
  if (code === 'EADDRINUSE' && sourcePort) return new SourcePortInUseError(sourcePort);
  return asLocalError(err);
}

function asLocalError(err: unknown): Error {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  if (LOCAL_SHORTAGE.has(code)) return new LocalResourceError(code);
  return err instanceof Error ? err : new Error(String(err));
}
