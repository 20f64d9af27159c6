/**
 * The one place that chooses how `query` talks to the network:
 * - `libc`: Linux (x64, arm64). TCP connects without a probe through glibc's socket/connect/poll via
 *   koffi (libc-engine.ts): the system calls nmap -sT makes and no libuv handle per port, so a wide
 *   scan costs about what nmap costs. Probe connections and UDP go through Node's sockets. If koffi
 *   cannot be loaded here (e.g. no private folder for its native module) the run uses `node` instead.
 * - `node`: Node's net/dgram (tcp-connect.ts, udp-exchange.ts). Every other OS except Windows.
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

/** The engine this process would use: PORTQRY_ENGINE if set, else winsock on Windows and node elsewhere. Throws on a bad value. */
export function queryEngineName(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, arch: string = process.arch): QueryEngineName {
  const forced = env.PORTQRY_ENGINE;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'node' && forced !== 'winsock' && forced !== 'libc') throw new PortqryError(`PORTQRY_ENGINE=${forced}: the query engine is libc, node or winsock`, ExitCode.Usage);
    if (forced === 'winsock' && platform !== 'win32') throw new PortqryError('PORTQRY_ENGINE=winsock: the Winsock engine needs Windows (ws2_32.dll)', ExitCode.Unavailable);
    if (forced === 'libc' && !libcEngineSupported(platform, arch)) throw new PortqryError(`PORTQRY_ENGINE=libc: the libc engine needs Linux on x64 or arm64, not ${platform} ${arch}`, ExitCode.Unavailable);
    return forced;
  }
  if (platform === 'win32') return 'winsock';
  return libcEngineSupported(platform, arch) ? 'libc' : 'node';
}

/** True when the engine was not forced with PORTQRY_ENGINE (a default libc engine that cannot start falls back to node). */
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
