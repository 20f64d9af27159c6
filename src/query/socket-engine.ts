/**
 * The one place that chooses how `query` talks to the network:
 * - `node`: Node's net/dgram (tcp-connect.ts, udp-exchange.ts). Linux and every other OS; the fast path.
 * - `winsock`: ws2_32 through koffi (winsock-engine.ts). Windows, where libuv hides a closed port's RST
 *   behind Windows' SYN retries and swallows WSAECONNRESET on UDP (issue 9).
 * `PORTQRY_ENGINE=node|winsock` forces one (diagnosis and tests); self-check reports the choice.
 */
import { PortqryError } from '../errors';
import { ExitCode } from '../exit-codes';
import { type ConnectCallback, type TcpConnectOptions, tcpConnectCb } from './tcp-connect';
import { type UdpExchangeOptions, type UdpExchangeResult, udpExchange } from './udp-exchange';
import { winsockAvailable, winsockTcpConnect, winsockUdpExchange } from './winsock-engine';

export type QueryEngineName = 'node' | 'winsock';

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
export function queryEngineName(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): QueryEngineName {
  const forced = env.PORTQRY_ENGINE;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'node' && forced !== 'winsock') throw new PortqryError(`PORTQRY_ENGINE=${forced}: the query engine is node or winsock`, ExitCode.Usage);
    if (forced === 'winsock' && platform !== 'win32') throw new PortqryError('PORTQRY_ENGINE=winsock: the Winsock engine needs Windows (ws2_32.dll)', ExitCode.Unavailable);
    return forced;
  }
  return platform === 'win32' ? 'winsock' : 'node';
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
  chosen = name === 'winsock' ? WINSOCK : NODE;
  return chosen;
}
