/**
 * PortQry's verdicts from what Winsock reports: a pure state machine, fed Windows error codes and
 * elapsed times, with no sockets in it. The ws2_32 driver (winsock-engine.ts) feeds it real events; the
 * unit tests feed it Windows' documented behaviour, which Wine (on the Linux network stack) cannot show.
 *
 * Why a state machine at all: on Windows the meaning of an error depends on which per-socket options
 * were accepted before the connect.
 * - A RST to the SYN is retried by Windows while SYN retransmissions remain; WSAECONNREFUSED then comes
 *   only after ~2 s (nmap#2113). With SIO_TCP_INITIAL_RTO { MaxSynRetransmissions = NO_SYN_RETRANSMISSIONS }
 *   accepted, the first RST is final, so a closed port is NOT LISTENING in one round trip. When the
 *   ioctl is refused (before Windows 8 / Server 2012, some builds, Wine) the attempt must wait out the
 *   retries, or every closed port would come out FILTERED: see fallbackDeadlineMs.
 * - An ICMP unreachable ends a connect only with TCP_FAIL_CONNECT_ON_ICMP_ERROR (Windows 10 2004+);
 *   TCP_ICMP_ERROR_INFO then gives its type and code. Without the option Windows ignores it and the
 *   attempt times out (FILTERED either way; the Reason says which path decided).
 * - UDP: with SIO_UDP_CONNRESET on (the default; Microsoft KB 263823) an ICMP port unreachable is
 *   WSAECONNRESET on the next receive of a connected socket, a TTL expiry WSAENETRESET (SIO_UDP_NETRESET).
 * - WSAEMFILE / WSAENOBUFS (and an exhausted ephemeral range) are local shortages: the engine backs off
 *   and retries the port; they are never a verdict.
 */
import type { PortState } from './tcp-connect';
import type { UdpOutcome } from './udp-exchange';

/** Winsock error codes (winerror.h) the verdicts depend on. */
export const WSA = {
  EINTR: 10004,
  EACCES: 10013,
  EFAULT: 10014,
  EINVAL: 10022,
  EMFILE: 10024,
  EWOULDBLOCK: 10035,
  EINPROGRESS: 10036,
  EALREADY: 10037,
  ENOTSOCK: 10038,
  EMSGSIZE: 10040,
  ENOPROTOOPT: 10042,
  EPROTONOSUPPORT: 10043,
  EOPNOTSUPP: 10045,
  EAFNOSUPPORT: 10047,
  EADDRINUSE: 10048,
  EADDRNOTAVAIL: 10049,
  ENETDOWN: 10050,
  ENETUNREACH: 10051,
  ENETRESET: 10052,
  ECONNABORTED: 10053,
  ECONNRESET: 10054,
  ENOBUFS: 10055,
  EISCONN: 10056,
  ETIMEDOUT: 10060,
  ECONNREFUSED: 10061,
  EHOSTDOWN: 10064,
  EHOSTUNREACH: 10065,
  NOTINITIALISED: 10093,
} as const;

const NAMES = new Map<number, string>(Object.entries(WSA).map(([k, v]) => [v, `WSA${k}`]));

/** WSAECONNREFUSED for 10061; "Winsock error N" for a code not in the table. */
export function wsaName(code: number): string {
  return NAMES.get(code) ?? `Winsock error ${code}`;
}

/**
 * How long Windows keeps retrying a SYN that was answered by a RST, with its default settings: a
 * closed loopback port is refused after 2002 ms at best, 2011 ms median, measured on Windows CI runners.
 * nmap#2113 explains the mechanism (the SYN retransmission count and the initial RTT estimate decide).
 */
export const WINDOWS_SYN_RETRY_SPAN_MS = 2000;

/**
 * The wait of one attempt when SIO_TCP_INITIAL_RTO was refused: the SYN retries plus the user's
 * timeout for the answer to the last SYN (3000 ms with the default --timeout 1000), long enough that the
 * RST of a closed port is reported as WSAECONNREFUSED instead of being cut off as FILTERED.
 */
export function fallbackDeadlineMs(timeoutMs: number): number {
  return WINDOWS_SYN_RETRY_SPAN_MS + timeoutMs;
}

/** What each per-socket option call returned before connect: 0 = accepted, else its Winsock error. */
export interface TcpOptionResults {
  /** WSAIoctl(SIO_TCP_INITIAL_RTO, { Rtt unspecified, MaxSynRetransmissions = none }). */
  initialRto: number;
  /** setsockopt(TCP_MAXRTMS), or TCP_MAXRT when TCP_MAXRTMS was refused. */
  maxRt: number;
  /** setsockopt(TCP_FAIL_CONNECT_ON_ICMP_ERROR, 1). */
  failOnIcmp: number;
}

export interface TcpPlan {
  /** When our own timer ends the attempt (ms after connect). */
  deadlineMs: number;
  /** A RST is final at once (no SYN retransmissions). */
  rstFinal: boolean;
  /** An ICMP error fails the connect and TCP_ICMP_ERROR_INFO can be read. */
  icmpReported: boolean;
  /** Windows itself ends the attempt with WSAETIMEDOUT at the deadline. */
  osDeadline: boolean;
  /** The options that were refused, for the Reason: "SIO_TCP_INITIAL_RTO refused (WSAEINVAL)". */
  refused: string[];
}

/** The attempt's rules, from which options Windows accepted. */
export function planTcpAttempt(timeoutMs: number, options: TcpOptionResults): TcpPlan {
  const refused: string[] = [];
  if (options.initialRto !== 0) refused.push(`SIO_TCP_INITIAL_RTO refused (${wsaName(options.initialRto)})`);
  if (options.maxRt !== 0) refused.push(`TCP_MAXRTMS refused (${wsaName(options.maxRt)})`);
  if (options.failOnIcmp !== 0) refused.push(`TCP_FAIL_CONNECT_ON_ICMP_ERROR refused (${wsaName(options.failOnIcmp)})`);
  const rstFinal = options.initialRto === 0;
  return {
    deadlineMs: rstFinal ? timeoutMs : fallbackDeadlineMs(timeoutMs),
    rstFinal,
    icmpReported: options.failOnIcmp === 0,
    osDeadline: options.maxRt === 0,
    refused,
  };
}

/** ICMP_ERROR_INFO's type and code (TCP_ICMP_ERROR_INFO), with the address family it came over. */
export interface IcmpInfo {
  type: number;
  code: number;
  v6: boolean;
}

export type TcpEvent =
  /** socket()/WSASocketW failed. */
  | { type: 'socket-error'; code: number }
  /** bind() failed (-sp, or a source address). */
  | { type: 'bind-error'; code: number }
  /** connect() returned at once: 0 (connected), WSAEWOULDBLOCK (pending) or an error. */
  | { type: 'connect-call'; code: number; atMs: number }
  /** The socket became writable: connected. */
  | { type: 'connected'; atMs: number }
  /** The connect failed (select's except set, then SO_ERROR); icmp when TCP_ICMP_ERROR_INFO told. */
  | { type: 'failed'; code: number; atMs: number; icmp?: IcmpInfo | null }
  /** Our timer ran out first. */
  | { type: 'deadline'; atMs: number };

export type Step =
  | { kind: 'wait' }
  | { kind: 'verdict'; state: PortState; reason: string }
  /** Out of sockets, buffers or ports here: back off and try this port again. Never a verdict. */
  | { kind: 'local-shortage'; code: string }
  /** -sp: the source port is owned by someone else. */
  | { kind: 'source-port-in-use' }
  /** A local failure that is neither a shortage nor about the port (no IPv6 stack): the run stops. */
  | { kind: 'local-error'; code: string };

const SHORTAGE = new Set<number>([WSA.EMFILE, WSA.ENOBUFS]);

function shortage(code: number): Step {
  return { kind: 'local-shortage', code: wsaName(code) };
}

function verdict(state: PortState, reason: string): Step {
  return { kind: 'verdict', state, reason };
}

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}

/** ICMP destination unreachable (v4 type 3, v6 type 1): port unreachable is a closed port, the rest a filter. */
export function icmpVerdict(info: IcmpInfo): { state: PortState; reason: string } {
  const what = `ICMP${info.v6 ? 'v6' : ''} type ${info.type} code ${info.code}`;
  const portUnreachable = info.v6 ? info.type === 1 && info.code === 4 : info.type === 3 && info.code === 3;
  if (portUnreachable) return { state: 'NOT LISTENING', reason: `icmp-port-unreachable (${what})` };
  const names: Record<number, string> = info.v6
    ? { 0: 'no route', 1: 'administratively prohibited', 3: 'address unreachable', 5: 'source address failed policy', 6: 'reject route' }
    : { 0: 'net unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 9: 'net administratively prohibited', 10: 'host administratively prohibited', 13: 'communication administratively prohibited' };
  const known = (info.v6 ? info.type === 1 : info.type === 3) ? names[info.code] : undefined;
  return { state: 'FILTERED', reason: `icmp-unreachable (${what}${known ? `: ${known}` : ''})` };
}

/** Codes a failed connect reports when a router or firewall answered for the host. */
const TCP_UNREACHABLE = new Set<number>([WSA.EHOSTUNREACH, WSA.ENETUNREACH, WSA.EHOSTDOWN, WSA.ENETDOWN, WSA.EACCES, WSA.ENETRESET]);

/**
 * One TCP connect attempt: the next step after an event. `sourcePort` is -sp (its WSAEADDRINUSE ends
 * the run with PortQry's message; without -sp WSAEADDRINUSE means no free ephemeral port).
 */
export function tcpStep(plan: TcpPlan, event: TcpEvent, sourcePort?: number): Step {
  switch (event.type) {
    case 'socket-error':
      return SHORTAGE.has(event.code) ? shortage(event.code) : { kind: 'local-error', code: wsaName(event.code) };
    case 'bind-error':
      if ((event.code === WSA.EADDRINUSE || event.code === WSA.EACCES) && sourcePort) return { kind: 'source-port-in-use' };
      return SHORTAGE.has(event.code) || event.code === WSA.EADDRINUSE ? shortage(event.code) : { kind: 'local-error', code: wsaName(event.code) };
    case 'connect-call':
      if (event.code === 0) return verdict('LISTENING', 'connected');
      if (event.code === WSA.EWOULDBLOCK || event.code === WSA.EINPROGRESS) return { kind: 'wait' };
      return tcpStep(plan, { type: 'failed', code: event.code, atMs: event.atMs }, sourcePort);
    case 'connected':
      return verdict('LISTENING', 'connected');
    case 'deadline':
      return verdict('FILTERED', `timeout (no answer in ${ms(event.atMs)}${plan.rstFinal ? '' : `; fallback wait ${ms(plan.deadlineMs)} because ${plan.refused[0]}`})`);
    case 'failed':
      return failedStep(plan, event, sourcePort);
  }
}

function failedStep(plan: TcpPlan, event: { code: number; atMs: number; icmp?: IcmpInfo | null }, sourcePort?: number): Step {
  const { code, atMs } = event;
  if (SHORTAGE.has(code)) return shortage(code);
  if (code === WSA.EADDRINUSE || code === WSA.EADDRNOTAVAIL) return sourcePort && code === WSA.EADDRINUSE ? { kind: 'source-port-in-use' } : shortage(code);
  // TCP_ICMP_ERROR_INFO names the ICMP message whatever code the connect failed with.
  if (event.icmp && plan.icmpReported) {
    const v = icmpVerdict(event.icmp);
    return verdict(v.state, v.reason);
  }
  if (code === WSA.ECONNREFUSED || code === WSA.ECONNRESET || code === WSA.ECONNABORTED) {
    if (plan.rstFinal) return verdict('NOT LISTENING', `reset (${wsaName(code)} in ${ms(atMs)}: RST, no SYN retransmissions)`);
    return verdict('NOT LISTENING', `reset (${wsaName(code)} after ${ms(atMs)}; fallback wait up to ${ms(plan.deadlineMs)} for Windows' SYN retries because ${plan.refused[0]})`);
  }
  if (code === WSA.ETIMEDOUT) {
    return verdict('FILTERED', `timeout (${wsaName(code)} after ${ms(atMs)}${plan.rstFinal ? '' : `; fallback wait ${ms(plan.deadlineMs)} because ${plan.refused[0]}`})`);
  }
  if (TCP_UNREACHABLE.has(code)) return verdict('FILTERED', `icmp-unreachable (${wsaName(code)})`);
  return verdict('FILTERED', `${wsaName(code).toLowerCase()} (connect failed)`);
}

export type UdpEvent =
  | { type: 'socket-error'; code: number }
  | { type: 'bind-error'; code: number }
  | { type: 'connect-error'; code: number }
  | { type: 'send-error'; code: number }
  /** A datagram arrived; `own` when it is our datagram back (source port = target port on loopback). */
  | { type: 'reply'; own?: boolean }
  | { type: 'recv-error'; code: number }
  /** The socket's pending error read with SO_ERROR between selects (how Wine reports an ICMP error). */
  | { type: 'pending-error'; code: number }
  | { type: 'deadline'; atMs: number };

export type UdpStep =
  | { kind: 'wait' }
  | { kind: 'verdict'; outcome: UdpOutcome; reason: string }
  | { kind: 'local-shortage'; code: string }
  | { kind: 'source-port-in-use' }
  | { kind: 'local-error'; code: string };

/** The state PortQry prints for each UDP outcome (step 1). */
export const UDP_STATE: Record<UdpOutcome, PortState> = {
  reply: 'LISTENING',
  'self-connect': 'NOT LISTENING',
  'icmp-port-unreachable': 'NOT LISTENING',
  'icmp-unreachable': 'FILTERED',
  'no-reply': 'LISTENING or FILTERED',
};

const UDP_UNREACHABLE = new Set<number>([WSA.EHOSTUNREACH, WSA.ENETUNREACH, WSA.EHOSTDOWN, WSA.ENETDOWN, WSA.EACCES]);

/** One datagram exchange on a connected UDP socket (SIO_UDP_CONNRESET on). */
export function udpStep(event: UdpEvent, sourcePort?: number): UdpStep {
  switch (event.type) {
    case 'socket-error':
      return SHORTAGE.has(event.code) ? { kind: 'local-shortage', code: wsaName(event.code) } : { kind: 'local-error', code: wsaName(event.code) };
    case 'bind-error':
      if ((event.code === WSA.EADDRINUSE || event.code === WSA.EACCES) && sourcePort) return { kind: 'source-port-in-use' };
      return SHORTAGE.has(event.code) || event.code === WSA.EADDRINUSE ? { kind: 'local-shortage', code: wsaName(event.code) } : { kind: 'local-error', code: wsaName(event.code) };
    case 'reply':
      return event.own ? { kind: 'verdict', outcome: 'self-connect', reason: 'self-connect' } : { kind: 'verdict', outcome: 'reply', reason: 'reply' };
    case 'deadline':
      return { kind: 'verdict', outcome: 'no-reply', reason: 'no-reply' };
    case 'pending-error': {
      const step = udpStep({ type: 'recv-error', code: event.code }, sourcePort);
      return step.kind === 'verdict' ? { ...step, reason: step.reason.replace(/\)$/, ' via SO_ERROR)') } : step;
    }
    case 'connect-error':
    case 'send-error':
    case 'recv-error': {
      const code = event.code;
      if (SHORTAGE.has(code) || code === WSA.EADDRNOTAVAIL || code === WSA.EADDRINUSE) return { kind: 'local-shortage', code: wsaName(code) };
      // KB 263823: ICMP port unreachable → WSAECONNRESET on the next receive (Wine reports WSAECONNREFUSED).
      if (code === WSA.ECONNRESET || code === WSA.ECONNREFUSED) return { kind: 'verdict', outcome: 'icmp-port-unreachable', reason: `icmp-port-unreachable (${wsaName(code)})` };
      // SIO_UDP_NETRESET: ICMP time exceeded → WSAENETRESET; the rest are unreachables from a router or firewall.
      if (code === WSA.ENETRESET) return { kind: 'verdict', outcome: 'icmp-unreachable', reason: 'icmp-unreachable (WSAENETRESET: ICMP time exceeded)' };
      if (UDP_UNREACHABLE.has(code)) return { kind: 'verdict', outcome: 'icmp-unreachable', reason: `icmp-unreachable (${wsaName(code)})` };
      return { kind: 'verdict', outcome: 'icmp-unreachable', reason: `icmp-unreachable (${wsaName(code)} on ${event.type.replace('-error', '')})` };
    }
  }
}
