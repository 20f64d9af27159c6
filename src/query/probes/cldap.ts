import { decodeRootDseAnswer, encodeRootDseSearch } from './codec/ldap';
import { describeRootDse } from './ldap';
import type { DatagramProbe } from './types';

/**
 * CLDAP (UDP 389): the rootDSE search PortQry sends over UDP. Active Directory answers connectionless
 * LDAP with the same LDAPMessages as over TCP (MS-ADTS §3.1.1.3.1.11 "LDAP Search Over UDP": SearchResultEntry
 * messages then a SearchResultDone, not the RFC 1798 encoding), all
 * in one datagram, so the TCP probe's codec and layout serve both.
 */
const MESSAGE_ID = 1;

const cldap: DatagramProbe = {
  kind: 'datagram',
  name: 'cldap',
  label: 'LDAP',
  ports: [389],
  encode: () => encodeRootDseSearch(MESSAGE_ID),
  decode: (reply) => ({ ...decodeRootDseAnswer(reply, MESSAGE_ID) }),
  describe: describeRootDse,
};

export default cldap;
