import * as dgram from 'node:dgram';
import { decodeHeader, decodeName, DNS_HEADER_LENGTH, encodeName, skipQuestion } from '../../src/query/probes/codec/dns';

/**
 * A DNS server on a loopback address for reverse-lookup tests: it answers PTR queries for the names
 * it is given and swallows every other query (a resolver that never answers). A fake peer, because
 * no real server can be told to stay silent for some names only; it binds 127.0.0.x only.
 */
export interface FakeDns {
  /** "127.0.0.x:port" for PORTQRY_DNS_SERVERS. */
  readonly server: string;
  /** Queries received (answered or swallowed). */
  readonly queries: number;
  close(): Promise<void>;
}

/** `names`: address → name, e.g. { '127.0.1.5': 'five.test.invalid' }. */
export async function startFakeDns(names: Record<string, string>, host = '127.0.0.77'): Promise<FakeDns> {
  const ptr = new Map(Object.entries(names).map(([addr, name]) => [`${addr.split('.').reverse().join('.')}.in-addr.arpa`, name]));
  const socket = dgram.createSocket('udp4');
  let queries = 0;
  socket.on('message', (msg, rinfo) => {
    queries++;
    try {
      const header = decodeHeader(msg);
      const { name } = decodeName(msg, DNS_HEADER_LENGTH);
      const end = skipQuestion(msg, DNS_HEADER_LENGTH);
      const target = ptr.get(name.replace(/\.$/, '').toLowerCase());
      if (target === undefined) return; // swallowed: the client waits for its timeout
      const head = Buffer.alloc(12);
      head.writeUInt16BE(header.id, 0);
      head.writeUInt16BE(0x8180, 2); // response, recursion desired and available, NOERROR
      head.writeUInt16BE(1, 4);
      head.writeUInt16BE(1, 6);
      const rdata = encodeName(target);
      const answer = Buffer.alloc(12);
      answer.writeUInt16BE(0xc00c, 0); // the question's name
      answer.writeUInt16BE(12, 2); // PTR
      answer.writeUInt16BE(1, 4); // IN
      answer.writeUInt32BE(60, 6);
      answer.writeUInt16BE(rdata.length, 10);
      socket.send(Buffer.concat([head, msg.subarray(12, end), answer, rdata]), rinfo.port, rinfo.address);
    } catch {
      // not a query we understand: swallowed too
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  return {
    server: `${host}:${socket.address().port}`,
    get queries() {
      return queries;
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
