import { exchangeFramed } from './codec/framing';
import { decodeKdcReply, describeKerberos, encodeAsRequest, guessRealm } from './kerberos';
import type { StreamProbe } from './types';

/** Kerberos over TCP 88: the UDP probe's AS-REQ behind the 4-byte length prefix of RFC 4120 §7.2.2. */
const kerberosTcp: StreamProbe = {
  kind: 'stream',
  name: 'kerberos-tcp',
  label: 'Kerberos',
  ports: [88],
  converse: async (stream, ctx) => {
    const realm = guessRealm(ctx.host);
    return decodeKdcReply(await exchangeFramed(stream, encodeAsRequest(realm), 4), realm);
  },
  describe: describeKerberos,
};

export default kerberosTcp;
