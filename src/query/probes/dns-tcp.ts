import { exchangeFramed } from './codec/framing';
import { decodeDnsReply, describeDns, encodeDnsQuery } from './dns';
import type { StreamProbe } from './types';

/** DNS over TCP 53: the same query as the UDP probe, behind the 2-byte length prefix of RFC 1035 §4.2.2. */
const dnsTcp: StreamProbe = {
  kind: 'stream',
  name: 'dns-tcp',
  label: 'DNS',
  ports: [53],
  converse: async (stream) => decodeDnsReply(await exchangeFramed(stream, encodeDnsQuery(), 2)),
  describe: describeDns,
};

export default dnsTcp;
