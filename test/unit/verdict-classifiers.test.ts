/**
 * The verdict classifiers, code by code (issue 14: mapping an ICMP unreachable to NOT LISTENING passed
 * every unit test before, only a root-only namespace test caught it). Node's error codes as the engine
 * sees them on Linux and on Windows (libuv maps WSAECONNREFUSED, WSAECONNRESET, WSAEHOSTUNREACH, … to the
 * same names).
 */
import t from 'tap';
import { UDP_PROBE_VERDICTS, UDP_STEP1_VERDICTS } from '../../src/query/query-port';
import { classifyConnectError, LocalResourceError, SourcePortInUseError } from '../../src/query/tcp-connect';
import { classifyUdpSocketError } from '../../src/query/udp-exchange';

const errno = (code: string) => Object.assign(new Error(code), { code });

t.test('classifyConnectError: every code', async (t) => {
  const table: [string, string, string][] = [
    ['ECONNREFUSED', 'NOT LISTENING', 'reset'],
    ['ECONNRESET', 'NOT LISTENING', 'reset'],
    ['ETIMEDOUT', 'FILTERED', 'timeout'],
    ['EHOSTUNREACH', 'FILTERED', 'icmp-unreachable'],
    ['ENETUNREACH', 'FILTERED', 'icmp-unreachable'],
    ['EACCES', 'FILTERED', 'icmp-unreachable'],
    ['EPERM', 'FILTERED', 'icmp-unreachable'],
    ['EHOSTDOWN', 'FILTERED', 'icmp-unreachable'],
    ['ENETDOWN', 'FILTERED', 'icmp-unreachable'],
    ['ENOPROTOOPT', 'FILTERED', 'icmp-unreachable'],
    ['EPROTO', 'FILTERED', 'icmp-unreachable'],
    ['EWHATEVER', 'FILTERED', 'ewhatever'],
  ];
  const got = table.map(([code]) => {
    const v = classifyConnectError(code, undefined);
    return [code, v.state, v.reason];
  });
  t.same(got, table);
  for (const code of ['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL', 'EADDRINUSE']) {
    t.throws(() => classifyConnectError(code, undefined), LocalResourceError, `${code}: a local shortage, not a verdict`);
  }
  t.throws(() => classifyConnectError('EADDRINUSE', 5353), SourcePortInUseError, 'EADDRINUSE with -sp: the source port is taken');
});

t.test('classifyUdpSocketError: every code', async (t) => {
  const outcomes: [string, string][] = [
    ['ECONNREFUSED', 'icmp-port-unreachable'],
    ['ECONNRESET', 'icmp-port-unreachable'],
    ['EHOSTUNREACH', 'icmp-unreachable'],
    ['ENETUNREACH', 'icmp-unreachable'],
    ['EACCES', 'icmp-unreachable'],
    ['EPERM', 'icmp-unreachable'],
    ['EHOSTDOWN', 'icmp-unreachable'],
    ['ENETDOWN', 'icmp-unreachable'],
    ['ENOPROTOOPT', 'icmp-unreachable'],
    ['EPROTO', 'icmp-unreachable'],
  ];
  t.same(outcomes.map(([code]) => [code, classifyUdpSocketError(errno(code))]), outcomes);
  for (const code of ['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL']) t.type(classifyUdpSocketError(errno(code)), LocalResourceError, `${code}: local`);
  t.type(classifyUdpSocketError(errno('EADDRINUSE'), 161), SourcePortInUseError);
  const other = classifyUdpSocketError(errno('EINVAL'));
  t.ok(other instanceof Error && !(other instanceof LocalResourceError), 'anything else is an error, never a verdict');
});

t.test('UDP outcomes to verdicts: step 1 and after the probe', async (t) => {
  t.same(UDP_STEP1_VERDICTS, {
    reply: 'LISTENING',
    'self-connect': 'NOT LISTENING',
    'icmp-port-unreachable': 'NOT LISTENING',
    'icmp-unreachable': 'FILTERED',
    'no-reply': 'LISTENING or FILTERED',
  });
  t.same(UDP_PROBE_VERDICTS, {
    reply: 'LISTENING',
    'self-connect': 'NOT LISTENING',
    'icmp-port-unreachable': 'NOT LISTENING',
    'icmp-unreachable': 'FILTERED',
    'no-reply': 'FILTERED',
  });
});
