import t from 'tap';
import { datagramProbeFor, PROBES, streamProbeFor } from '../../src/query/probes/registry';

// The per-port probe lookup is a table built once; it must give, for every port, the first probe of
// the kind in PROBES' order that lists the port (the rule the linear search implemented).
t.test('stream and datagram probe per port, every port', async (t) => {
  let differences = 0;
  let found = 0;
  for (let port = 0; port <= 65535; port++) {
    const stream = PROBES.find((p) => p.kind === 'stream' && p.ports.includes(port));
    const datagram = PROBES.find((p) => p.kind === 'datagram' && p.ports.includes(port));
    if (streamProbeFor(port) !== stream || datagramProbeFor(port) !== datagram) differences++;
    if (stream || datagram) found++;
  }
  t.equal(differences, 0);
  t.ok(found > 20, `${found} ports with a probe`);
  t.equal(streamProbeFor(389)?.name, 'ldap');
  t.equal(datagramProbeFor(53)?.name, 'dns');
  t.equal(streamProbeFor(53)?.name, 'dns-tcp');
});
