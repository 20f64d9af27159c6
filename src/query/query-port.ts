import type * as net from 'node:net';
import { SocketProbeStream, DEFAULT_STREAM_LIMITS } from './probe-stream';
import { datagramProbeFor, probeByName, streamProbeFor } from './probes/registry';
import { type DatagramProbe, type Probe, type ProbeContext, type ProbeFields, type StreamProbe } from './probes/types';
import type { PortSpec } from './plan';
import type { QueryResult } from './query-result';
import type { ResolvedTarget } from './resolve';
import { serviceName } from './services';
import { type SocketEngine, socketEngine } from './socket-engine';
import type { PortState, TcpAttemptResult, TcpConnectOptions } from './tcp-connect';
import type { UdpExchangeResult } from './udp-exchange';

/** How each port is queried; built once per run from the options. */
export interface QuerySettings {
  /** Wait per attempt in ms (already doubled by -sl). */
  timeoutMs: number;
  /** TCP connects before FILTERED (PortQry: 3). */
  tcpAttempts: number;
  /** Unformatted UDP datagrams before LISTENING or FILTERED (PortQry: 1). */
  udpAttempts: number;
  sourcePort?: number;
  community: string;
  /** false: status only (--no-probe). */
  probes: boolean;
  /** --probe NAME: this probe on every port of its protocol instead of the registry's choice. */
  forcedProbe?: Probe;
  /** --tls: ports where the `tls` probe runs. */
  tlsPorts: ReadonlySet<number>;
  /** Probes not run by default in this run (PortQry skips the endpoint mapper with -r). */
  skippedProbes: ReadonlySet<string>;
}

// PortQry sends these protocol queries from an ephemeral port even with -sp (S1/S2: RPC, LDAP over
// UDP, NetBIOS adapter status).
const EPHEMERAL_SOURCE_PROBES = new Set(['rpc-epm', 'rpc-epm-udp', 'cldap', 'netbios-ns']);

/** The probe that runs after a positive connect (TCP) or in step 2 (UDP), or undefined. */
/** PortQry's UDP step 1 (an empty datagram): what each outcome means. */
export const UDP_STEP1_VERDICTS: Readonly<Record<UdpExchangeResult['outcome'], PortState>> = {
  reply: 'LISTENING',
  'self-connect': 'NOT LISTENING',
  'icmp-port-unreachable': 'NOT LISTENING',
  'icmp-unreachable': 'FILTERED',
  'no-reply': 'LISTENING or FILTERED',
};

/** Step 2, the probe's real query after silence: silence now means FILTERED (PortQry). */
export const UDP_PROBE_VERDICTS: Readonly<Record<UdpExchangeResult['outcome'], PortState>> = { ...UDP_STEP1_VERDICTS, 'no-reply': 'FILTERED' };

export function selectProbe(spec: PortSpec, settings: QuerySettings): Probe | undefined {
  if (!settings.probes) return undefined;
  const kind = spec.protocol === 'TCP' ? 'stream' : 'datagram';
  if (settings.forcedProbe) return settings.forcedProbe.kind === kind ? settings.forcedProbe : undefined;
  if (spec.protocol === 'TCP' && settings.tlsPorts.has(spec.port)) {
    const tls = probeByName('tls');
    if (tls?.kind === 'stream') return tls;
  }
  const probe = spec.protocol === 'TCP' ? streamProbeFor(spec.port) : datagramProbeFor(spec.port);
  return probe && !settings.skippedProbes.has(probe.name) ? probe : undefined;
}

/** Total time a stream probe may take, however it reads. */
export function probeDeadlineMs(timeoutMs: number): number {
  return Math.max(3000, timeoutMs * 5);
}

interface Verdict {
  state: PortState;
  reason: string;
  elapsedMs: number;
  attempts: number;
  localAddress: string | null;
  localPort: number | null;
}

let lastMs = -1;
let lastIso = '';
/** new Date().toISOString(), made once per millisecond: a loopback scan finishes dozens of ports in one. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** A record in schema key order, built as one literal (a full-range scan builds 65535 of them). */
function makeRecord(target: ResolvedTarget, spec: PortSpec, v: Verdict): QueryResult {
  return {
    ComputerName: target.target,
    RemoteAddress: target.address,
    HostName: target.hostName,
    Protocol: spec.protocol,
    RemotePort: spec.port,
    Service: serviceName(spec.protocol, spec.port),
    State: v.state,
    Reason: v.reason,
    ResponseTimeMs: v.elapsedMs,
    Attempts: v.attempts,
    LocalAddress: v.localAddress,
    LocalPort: v.localPort,
    Probe: null,
    ProbeData: null,
    ProbeError: null,
    TimeUtc: '',
  };
}

function probeContext(target: ResolvedTarget, spec: PortSpec, settings: QuerySettings): ProbeContext {
  return { host: target.target, address: target.address, port: spec.port, community: settings.community, timeoutMs: settings.timeoutMs };
}

/** Errors of a probe as one line for ProbeError; a probe never ends the run. */
export function probeErrorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 500) || 'probe failed';
}

/** One target × protocol × port: PortQry's verdict, and the probe's fields when one ran. */
export function queryPort(target: ResolvedTarget, spec: PortSpec, settings: QuerySettings): Promise<QueryResult> {
  return new Promise((resolve, reject) => queryPortCb(target, spec, settings, (err, record) => (err ? reject(err) : resolve(record!))));
}

const connectOptionsCache = new WeakMap<QuerySettings, TcpConnectOptions & { attempts: number }>();
function connectOptions(settings: QuerySettings): TcpConnectOptions & { attempts: number } {
  let options = connectOptionsCache.get(settings);
  if (!options) {
    options = { timeoutMs: settings.timeoutMs, attempts: settings.tcpAttempts, sourcePort: settings.sourcePort };
    connectOptionsCache.set(settings, options);
  }
  return options;
}

/**
 * queryPort in callback form. A TCP port without a probe, the whole of a wide scan, goes through
 * callbacks only: promise frames there cost as much CPU as the connects themselves.
 */
export function queryPortCb(target: ResolvedTarget, spec: PortSpec, settings: QuerySettings, cb: (err: Error | null, record?: QueryResult) => void): void {
  let engine: SocketEngine;
  try {
    engine = socketEngine();
  } catch (err) {
    return cb(err as Error);
  }
  if (spec.protocol === 'UDP') {
    queryUdp(engine, target, spec, settings).then((r) => cb(null, r), cb);
    return;
  }
  const probe = selectProbe(spec, settings) as StreamProbe | undefined;
  engine.tcpConnect(target.address, spec.port, probe ? { ...connectOptions(settings), keepOpen: true } : connectOptions(settings), (err, r) => {
    if (err) return cb(err);
    if (probe && r!.socket) {
      probeTcp(target, spec, settings, probe, r!).then((record) => cb(null, record), cb);
      return;
    }
    const record = makeRecord(target, spec, r!);
    if (probe && r!.probeError) {
      record.Probe = probe.name;
      record.ProbeError = r!.probeError;
    }
    record.TimeUtc = isoNow();
    cb(null, record);
  });
}

async function probeTcp(target: ResolvedTarget, spec: PortSpec, settings: QuerySettings, probe: StreamProbe, r: TcpAttemptResult): Promise<QueryResult> {
  const record = makeRecord(target, spec, r);
  if (r.socket) {
    record.Probe = probe.name;
    const outcome = await converse(probe, r.socket, probeContext(target, spec, settings));
    record.ProbeData = outcome.fields;
    record.ProbeError = outcome.error;
  }
  record.TimeUtc = new Date().toISOString();
  return record;
}

/** Runs a stream probe on an open connection, bounded in time and bytes, and always closes it. */
export async function converse(probe: StreamProbe, socket: net.Socket, ctx: ProbeContext): Promise<{ fields: ProbeFields | null; error: string | null }> {
  // The probe may never read; an RST must not become an unhandled 'error' event.
  socket.on('error', () => {});
  const stream = new SocketProbeStream(socket, { ...DEFAULT_STREAM_LIMITS, readTimeoutMs: ctx.timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no complete answer within ${probeDeadlineMs(ctx.timeoutMs)} ms`)), probeDeadlineMs(ctx.timeoutMs));
  });
  try {
    const fields = await Promise.race([probe.converse(stream, ctx), deadline]);
    return { fields: fields ?? null, error: null };
  } catch (err) {
    return { fields: null, error: probeErrorText(err) };
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/**
 * PortQry's two UDP steps. Step 1, an empty datagram: a reply is LISTENING, ICMP port unreachable is
 * NOT LISTENING, another ICMP unreachable is FILTERED, silence is LISTENING or FILTERED. Step 2, when
 * a probe knows the port: its real query; after silence in step 1 a reply makes the port LISTENING and
 * silence makes it FILTERED (Reason probe-reply / probe-no-reply). After a step-1 reply the probe only
 * adds its fields.
 */
async function queryUdp(engine: SocketEngine, target: ResolvedTarget, spec: PortSpec, settings: QuerySettings): Promise<QueryResult> {
  let step1: UdpExchangeResult | undefined;
  let attempts = 0;
  while (attempts < Math.max(1, settings.udpAttempts)) {
    attempts++;
    step1 = await engine.udpExchange(target.address, spec.port, Buffer.alloc(0), { timeoutMs: settings.timeoutMs, sourcePort: settings.sourcePort });
    if (step1.outcome !== 'no-reply') break;
  }
  const first = step1!;
  const record = makeRecord(target, spec, { ...first, state: UDP_STEP1_VERDICTS[first.outcome], reason: first.reason ?? first.outcome, attempts });
  const probe = selectProbe(spec, settings) as DatagramProbe | undefined;
  if (probe && (first.outcome === 'reply' || first.outcome === 'no-reply')) {
    record.Probe = probe.name;
    const ctx = probeContext(target, spec, settings);
    let request: Buffer | undefined;
    try {
      request = probe.encode(ctx);
    } catch (err) {
      record.ProbeError = probeErrorText(err);
    }
    if (request) {
      const sourcePort = EPHEMERAL_SOURCE_PROBES.has(probe.name) ? undefined : settings.sourcePort;
      // PortQry sends IKE from UDP 500 (some IKE servers answer only there); the Winsock engine does when it is free.
      const preferredSourcePort = probe.name === 'ike' && !sourcePort ? 500 : undefined;
      const step2 = await engine.udpExchange(target.address, spec.port, request, { timeoutMs: settings.timeoutMs, sourcePort, anySourcePort: probe.replyFromAnyPort, preferredSourcePort });
      record.Attempts = attempts + 1;
      if (first.outcome === 'no-reply') {
        record.State = UDP_PROBE_VERDICTS[step2.outcome];
        record.Reason = `probe-${step2.reason ?? step2.outcome}`;
        record.ResponseTimeMs = step2.elapsedMs;
        record.LocalAddress = step2.localAddress;
        record.LocalPort = step2.localPort;
      }
      if (step2.note) record.Reason = `${record.Reason ?? ''} (${probe.label} query ${step2.note})`;
      if (step2.outcome === 'reply' && step2.reply) {
        try {
          record.ProbeData = probe.decode(step2.reply, ctx);
        } catch (err) {
          record.ProbeError = probeErrorText(err);
        }
      } else {
        record.ProbeError = step2.outcome === 'no-reply' ? `no reply to the ${probe.label} query` : `${probe.label} query: ${step2.outcome}`;
      }
    }
  }
  record.TimeUtc = new Date().toISOString();
  return record;
}
