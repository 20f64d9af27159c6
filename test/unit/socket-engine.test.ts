import t from 'tap';
import { PortqryError } from '../../src/errors';
import { LIBC_MIN_TCP_QUERIES, queryEngineName } from '../../src/query/socket-engine';

// The one place the query engine is chosen: by platform, or forced with PORTQRY_ENGINE.

t.test('by platform', async (t) => {
  t.equal(queryEngineName({}, 'win32'), 'winsock');
  t.equal(queryEngineName({}, 'linux', 'x64'), 'libc', 'Linux: glibc through koffi for TCP connects');
  t.equal(queryEngineName({}, 'linux', 'arm64'), 'libc');
  t.equal(queryEngineName({}, 'linux', 'ia32'), 'node', 'the libc engine is built for x64 and arm64 only');
  t.equal(queryEngineName({}, 'linux', 'x64', LIBC_MIN_TCP_QUERIES), 'libc', 'a scan');
  t.equal(queryEngineName({}, 'linux', 'x64', LIBC_MIN_TCP_QUERIES - 1), 'node', 'a few ports: koffi is not worth loading');
  t.equal(queryEngineName({ PORTQRY_ENGINE: 'libc' }, 'linux', 'x64', 1), 'libc', 'forced, whatever the size');
  t.equal(queryEngineName({}, 'darwin'), 'node');
  t.equal(queryEngineName({ PORTQRY_ENGINE: '' }, 'win32'), 'winsock', 'empty is unset');
});

t.test('PORTQRY_ENGINE forces one', async (t) => {
  t.equal(queryEngineName({ PORTQRY_ENGINE: 'node' }, 'win32'), 'node');
  t.equal(queryEngineName({ PORTQRY_ENGINE: 'winsock' }, 'win32'), 'winsock');
  t.equal(queryEngineName({ PORTQRY_ENGINE: 'node' }, 'linux'), 'node');
  t.equal(queryEngineName({ PORTQRY_ENGINE: 'libc' }, 'linux', 'x64'), 'libc');
  t.throws(() => queryEngineName({ PORTQRY_ENGINE: 'libc' }, 'win32', 'x64'), { exitCode: 69, message: /libc engine needs Linux on x64 or arm64, not win32 x64/ });
  const off = (() => {
    try {
      return queryEngineName({ PORTQRY_ENGINE: 'winsock' }, 'linux');
    } catch (err) {
      return err;
    }
  })();
  t.ok(off instanceof PortqryError);
  t.match(off, { exitCode: 69, message: /needs Windows/ });
  t.throws(() => queryEngineName({ PORTQRY_ENGINE: 'Winsock2' }, 'win32'), { exitCode: 64, message: 'PORTQRY_ENGINE=Winsock2: the query engine is libc, node or winsock' });
});
