/**
 * The one place that chooses how `query` talks to the network:
 * - `libc`: Linux (x64, arm64), for a run of at least LIBC_MIN_TCP_QUERIES TCP queries (a scan). TCP
 *   connects without a probe through glibc's socket/connect/poll via
 *   koffi (libc-engine.ts): the system calls nmap -sT makes and no libuv handle per port, so a wide
 *   scan costs about what nmap costs. Probe connections and UDP go through Node's sockets. If koffi
 *   cannot be loaded here (e.g. no private folder for its native module) the run uses `node` instead.
 * - `node`: Node's net/dgram (tcp-connect.ts, udp-exchange.ts). Other OSes, and small runs on Linux.
 * - `winsock`: ws2_32 through koffi (winsock-engine.ts). Windows, where libuv hides a closed port's RST
 *   behind Windows' SYN retries and swallows WSAECONNRESET on UDP (issue 9).
 * `PORTQRY_ENGINE=libc|node|winsock` forces one (diagnosis and tests; a forced engine that cannot start
 * is an error); self-check reports the engine in use.
 */
import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';
import { type ConnectCallback, type TcpConnectOptions, tcpConnectCb } from './tcp-connect';
import { type UdpExchangeOptions, type UdpExchangeResult, udpExchange } from './udp-exchange';
import { libcEngineSupported } from './libc-api';
import { libcEngine } from './libc-engine';
import { winsockAvailable, winsockTcpConnect, winsockUdpExchange } from './winsock-engine';

export type QueryEngineName = 'node' | 'winsock' | 'libc';

export interface SocketEngine {
  name: QueryEngineName;
  tcpConnect(address: string, port: number, options: TcpConnectOptions & { attempts: number }, cb: ConnectCallback): void;
  udpExchange(address: string, port: number, payload: Buffer, options: UdpExchangeOptions): Promise<UdpExchangeResult>;
}

const NODE: SocketEngine = {
  name: 'node',
  tcpConnect: tcpConnectCb,
  // The Node engine has no "preferred" source port: binding UDP 500 needs root on Linux.
  udpExchange: (address, port, payload, { preferredSourcePort: _unused, ...options }) => udpExchange(address, port, payload, options),
};

const WINSOCK: SocketEngine = { name: 'winsock', tcpConnect: winsockTcpConnect, udpExchange: winsockUdpExchange };

/**
 * Below this many TCP queries in a run the default Linux engine is node: loading koffi (about 10 ms,
 * and writing its native module on a first run) costs more than the libc engine saves (about 10 µs of
 * CPU a port on loopback). A 1–65535 scan, or 1,000 ports of one host, is far above it.
 */
export const LIBC_MIN_TCP_QUERIES = 1000;
let plannedTcpQueries: number | undefined;

/** The run's size, told before its first query (engine.ts); undefined (self-check) means a scan. */
export function planQueryEngine(tcpQueries: number | undefined): void {
  plannedTcpQueries = tcpQueries;
}

/** The engine this process would use: PORTQRY_ENGINE if set, else winsock on Windows, libc on Linux x64/arm64 for a run of at least LIBC_MIN_TCP_QUERIES TCP queries, node otherwise. Throws on a bad value. */
export function queryEngineName(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, arch: string = process.arch, tcpQueries: number | undefined = plannedTcpQueries): QueryEngineName {
  const forced = env.PORTQRY_ENGINE;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'node' && forced !== 'winsock' && forced !== 'libc') throw new PortqryError(`PORTQRY_ENGINE=${forced}: the query engine is libc, node or winsock`, ExitCode.Usage);
    if (forced === 'winsock' && platform !== 'win32') throw new PortqryError('PORTQRY_ENGINE=winsock: the Winsock engine needs Windows (ws2_32.dll)', ExitCode.Unavailable);
    if (forced === 'libc' && !libcEngineSupported(platform, arch)) throw new PortqryError(`PORTQRY_ENGINE=libc: the libc engine needs Linux on x64 or arm64, not ${platform} ${arch}`, ExitCode.Unavailable);
    return forced;
  }
  if (platform === 'win32') return 'winsock';
  return libcEngineSupported(platform, arch) && (tcpQueries === undefined || tcpQueries >= LIBC_MIN_TCP_QUERIES) ? 'libc' : 'node';
}

/** True when PORTQRY_ENGINE names the engine: then one that cannot start is an error (a default libc engine falls back to node). */
function engineForced(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PORTQRY_ENGINE !== undefined && env.PORTQRY_ENGINE !== '';
}

let chosen: SocketEngine | undefined;

/** The engine for this run, chosen once. Winsock that cannot start (ws2_32 missing) is an error, not a silent fallback. */
export function socketEngine(): SocketEngine {
  if (chosen) return chosen;
  const name = queryEngineName();
  if (name === 'winsock') {
    try {
      winsockAvailable();
    } catch (err) {
      throw new PortqryError(`${err instanceof Error ? err.message : String(err)}; PORTQRY_ENGINE=node uses Node's sockets instead`, ExitCode.OsError);
    }
  }
  if (name === 'libc') {
    try {
      const libc = libcEngine();
      chosen = { name: 'libc', tcpConnect: libc.tcpConnect, udpExchange: NODE.udpExchange };
      return chosen;
    } catch (err) {
      if (engineForced()) throw new PortqryError(`${err instanceof Error ? err.message : String(err)}; PORTQRY_ENGINE=node uses Node's sockets instead`, ExitCode.OsError);
      chosen = NODE;
      return chosen;
    }
  }
  chosen = name === 'winsock' ? WINSOCK : NODE;
  return chosen;
}
