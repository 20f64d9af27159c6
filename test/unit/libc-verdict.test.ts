import * as os from 'node:os';
import t from 'tap';
import { EINPROGRESS, EINTR } from '../../src/query/libc-api';
import { linuxSockaddr } from '../../src/query/libc-engine';
import { connectedVerdict, errnoName, libcTcpStep } from '../../src/query/libc-verdict';
import { classifyConnectError, LocalResourceError, SourcePortInUseError } from '../../src/query/tcp-connect';

// The libc engine's verdicts are the Node engine's by construction: every errno Linux can give a
// connect is named as Node names it and classified by tcp-connect.ts's rule. Checked here for every
// errno (1..133), from each place the kernel can report it, with and without -sp.

const E = os.constants.errno;

function nodeEngine(code: string, sourcePort: number | undefined): unknown {
  try {
    return { kind: 'verdict', ...classifyConnectError(code, sourcePort) };
  } catch (err) {
    return { kind: 'error', error: err };
  }
}

t.test('errno names are Node\'s', async (t) => {
  t.equal(errnoName(E.ECONNREFUSED), 'ECONNREFUSED');
  t.equal(errnoName(E.EHOSTUNREACH), 'EHOSTUNREACH');
  t.equal(errnoName(E.EMFILE), 'EMFILE');
  t.equal(errnoName(E.EACCES), 'EACCES');
});

t.test('every errno gives the Node engine\'s verdict or error, from SO_ERROR and from the calls', async (t) => {
  for (let errno = 1; errno <= 133; errno++) {
    for (const sourcePort of [undefined, 5555]) {
      const expected = nodeEngine(errnoName(errno), sourcePort);
      t.same(libcTcpStep({ kind: 'ready', soError: errno }, sourcePort), expected, `SO_ERROR ${errnoName(errno)} sp=${sourcePort}`);
      t.same(libcTcpStep({ kind: 'call', call: 'socket', errno }, sourcePort), expected, `socket() ${errnoName(errno)}`);
      t.same(libcTcpStep({ kind: 'call', call: 'bind', errno }, sourcePort), expected, `bind() ${errnoName(errno)}`);
      if (errno !== EINPROGRESS && errno !== EINTR) t.same(libcTcpStep({ kind: 'call', call: 'connect', errno }, sourcePort), expected, `connect() ${errnoName(errno)}`);
    }
  }
});

t.test('the verdicts that matter, spelled out', async (t) => {
  t.same(libcTcpStep({ kind: 'ready', soError: E.ECONNREFUSED }, undefined), { kind: 'verdict', state: 'NOT LISTENING', reason: 'reset' }, 'RST / ICMP port unreachable');
  for (const code of ['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM'] as const) {
    t.same(libcTcpStep({ kind: 'ready', soError: E[code] }, undefined), { kind: 'verdict', state: 'FILTERED', reason: 'icmp-unreachable' }, code);
    t.same(libcTcpStep({ kind: 'call', call: 'connect', errno: E[code] }, undefined), { kind: 'verdict', state: 'FILTERED', reason: 'icmp-unreachable' }, `${code} at connect() (nftables output rule, no route)`);
  }
  t.same(libcTcpStep({ kind: 'ready', soError: E.ETIMEDOUT }, undefined), { kind: 'verdict', state: 'FILTERED', reason: 'timeout' });
  t.same(libcTcpStep({ kind: 'deadline' }, undefined), { kind: 'verdict', state: 'FILTERED', reason: 'timeout' });
  t.same(libcTcpStep({ kind: 'ready', soError: 0 }, undefined), { kind: 'connected' });
  for (const errno of [0, EINPROGRESS, EINTR]) t.same(libcTcpStep({ kind: 'call', call: 'connect', errno }, undefined), { kind: 'wait' }, `connect() ${errno}: wait for poll()`);
  const emfile = libcTcpStep({ kind: 'call', call: 'socket', errno: E.EMFILE }, undefined);
  t.ok(emfile.kind === 'error' && emfile.error instanceof LocalResourceError && emfile.error.code === 'EMFILE', 'EMFILE: a local shortage, no verdict');
  const nobufs = libcTcpStep({ kind: 'call', call: 'connect', errno: E.ENOBUFS }, undefined);
  t.ok(nobufs.kind === 'error' && nobufs.error instanceof LocalResourceError, 'ENOBUFS: a local shortage');
  const inUse = libcTcpStep({ kind: 'call', call: 'bind', errno: E.EADDRINUSE }, 5555);
  t.ok(inUse.kind === 'error' && inUse.error instanceof SourcePortInUseError && inUse.error.port === 5555, '-sp taken');
});

t.test('self-connect on loopback is NOT LISTENING', async (t) => {
  t.same(connectedVerdict({ address: '127.0.0.1', port: 40000 }, '127.0.0.1', 40000), { state: 'NOT LISTENING', reason: 'self-connect' });
  t.same(connectedVerdict({ address: '127.0.0.1', port: 40001 }, '127.0.0.1', 40000), { state: 'LISTENING', reason: 'connected' });
  t.same(connectedVerdict(null, '127.0.0.1', 40000), { state: 'LISTENING', reason: 'connected' });
});

t.test('sockaddr_in and sockaddr_in6 as Linux lays them out', async (t) => {
  t.equal(linuxSockaddr('127.0.0.1', 0x1f90).toString('hex'), '02001f907f0000010000000000000000');
  t.equal(linuxSockaddr('::1', 443).toString('hex'), '0a0001bb' + '00000000' + '00000000000000000000000000000001' + '00000000');
  t.equal(linuxSockaddr('fd00:198:18:5::2', 7000).toString('hex'), '0a001b58' + '00000000' + 'fd000198001800050000000000000002' + '00000000');
});
