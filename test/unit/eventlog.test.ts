import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { chooseTarget, EventId, openEventLog, streamEventLog, type EventLog } from '../../src/eventlog/index';
import { eventLogText, eventLogType, fallbackLine, SYSLOG_MAX_BYTES, syslogDatagram } from '../../src/eventlog/format';
import { BUNDLE, runCli } from '../helpers/cli';
import { DgramReceiver } from '../helpers/dgram-unix';

// The one system-log writer (src/eventlog). On Linux the datagrams are received from a real
// AF_UNIX SOCK_DGRAM socket bound by the test (test-only path, and /dev/log itself inside a private
// mount namespace). The Windows calls are run under Wine in test/wine/identity.test.ts.

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-eventlog-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function memoryLog(): EventLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, ...streamEventLog({ write: (s: string) => lines.push(s) }) };
}

t.test('syslog datagram: <PRI> with facility daemon, tag[pid], [event id], one sanitized line', async (t) => {
  t.equal(syslogDatagram('info', 'recorder started', EventId.ServiceStart, 'portqry-ts', 42).toString(), '<30>portqry-ts[42]: [1000] recorder started');
  t.equal(syslogDatagram('warning', 'w', undefined, 'portqry-ts', 42).toString(), '<28>portqry-ts[42]: w');
  t.equal(syslogDatagram('error', 'e', 1200, 'portqry-ts', 42).toString(), '<27>portqry-ts[42]: [1200] e');
  t.equal(syslogDatagram('info', 'a\x1b[31mred\x1b[0m\r\nnext\tline\x07 \u202eevil', 7, 'port qry\n', 1).toString(), '<30>portqry[1]: [7] ared next line evil');
  t.equal(syslogDatagram('info', 'x', -1, '', 1).toString(), '<30>portqry-ts[1]: x', 'an invalid id and an empty source fall back');
  const long = syslogDatagram('info', 'é'.repeat(10_000), 1, 'portqry-ts', 1);
  t.ok(long.length <= SYSLOG_MAX_BYTES);
  t.notOk(long.toString('utf8').includes('\ufffd'), 'cut on a character boundary');
});

t.test('Windows event text and type', async (t) => {
  t.equal(eventLogType('info'), 4);
  t.equal(eventLogType('warning'), 2);
  t.equal(eventLogType('error'), 1);
  t.equal(eventLogText('line1\nline2\x1b[1m\x00'), 'line1\r\nline2', 'line breaks kept as CRLF, controls stripped');
  t.equal(fallbackLine('warning', 'disk\nfull', 1200, 'portqry-ts'), 'portqry-ts: warning: [1200] disk full\n');
});

t.test('where the messages go: one decision', async (t) => {
  t.equal(chooseTarget({ platform: 'win32', env: {} }), 'eventlog');
  t.equal(chooseTarget({ platform: 'linux', env: {} }), 'fallback', 'Linux outside systemd: stderr');
  t.equal(chooseTarget({ platform: 'linux', env: { INVOCATION_ID: 'abc' } }), 'syslog');
  t.equal(chooseTarget({ platform: 'linux', env: { JOURNAL_STREAM: '8:1234' } }), 'syslog');
  t.equal(chooseTarget({ platform: 'linux', env: {}, target: 'system' }), 'syslog', 'asked explicitly');
  t.equal(chooseTarget({ platform: 'linux', env: { INVOCATION_ID: 'x' }, target: 'fallback' }), 'fallback');
  t.equal(chooseTarget({ platform: 'darwin', env: {}, target: 'system' }), 'fallback');
});

t.test('Linux: exact datagrams received on a real SOCK_DGRAM socket', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = tmpdir(t);
  const sock = path.join(dir, 'log');
  const receiver = new DgramReceiver(sock);
  t.teardown(() => receiver.close());
  const fallback = memoryLog();
  const log = openEventLog({ syslogPath: sock, env: { INVOCATION_ID: '1' }, fallback });
  t.equal(log.target, 'syslog');
  t.equal(log.lastError, null);
  log.write('info', 'service started', EventId.ServiceStart);
  log.write('warning', 'write failed: \x1b]0;title\x07ENOSPC\non D:', EventId.WriteFailed);
  log.write('error', 'access denied');
  t.same(
    receiver.drain().map((b) => b.toString('utf8')),
    [`<30>portqry-ts[${process.pid}]: [1000] service started`, `<28>portqry-ts[${process.pid}]: [1200] write failed: ENOSPC on D:`, `<27>portqry-ts[${process.pid}]: access denied`],
  );
  t.equal(log.sent, 3);
  t.equal(log.failed, 0);
  t.same(fallback.lines, [], 'nothing went to the fallback');

  // The daemon restarts (its socket is re-created): the writer reconnects once and the message arrives.
  receiver.close();
  fs.rmSync(sock);
  const second = new DgramReceiver(sock);
  t.teardown(() => second.close());
  log.write('info', 'after restart', EventId.LogRotated);
  t.same(second.drain().map(String), [`<30>portqry-ts[${process.pid}]: [1100] after restart`]);

  // The daemon is gone: the message goes to the fallback, the writer does not throw.
  second.close();
  fs.rmSync(sock);
  log.write('error', 'nobody listens', EventId.WriteFailed);
  t.same(fallback.lines, ['portqry-ts: error: [1200] nobody listens\n']);
  t.equal(log.failed, 1);
  t.match(log.lastError, /errno/);
  log.close();
  log.write('info', 'after close'); // no throw; goes to the fallback
  log.close();
});

t.test('Linux: no socket at open: fallback with the reason, never throws', { skip: process.platform !== 'linux' }, async (t) => {
  const fallback = memoryLog();
  const log = openEventLog({ target: 'system', syslogPath: path.join(tmpdir(t), 'missing'), fallback });
  t.equal(log.target, 'fallback');
  t.match(log.lastError, /^syslog: connect to .*missing failed: errno 2$/);
  log.write('warning', 'hello', 1300);
  t.same(fallback.lines, ['portqry-ts: warning: [1300] hello\n']);
  const silent = openEventLog({ target: 'fallback', fallback: null });
  silent.write('error', 'dropped');
  silent.close();
  t.equal(silent.sent, 0);
});

t.test('self-check event-log sends to the socket given and says so', { skip: process.platform !== 'linux' }, async (t) => {
  const sock = path.join(tmpdir(t), 'log');
  const receiver = new DgramReceiver(sock);
  t.teardown(() => receiver.close());
  const r = await runCli(['self-check', 'event-log', '--syslog-path', sock, '--level', 'warning', '--event-id', '1300', 'access denied for 3 processes']);
  t.equal(r.stderr, '');
  t.equal(r.code, 0);
  t.equal(r.stdout, `event 1300 (warning) sent to syslog (${sock}), source portqry-ts\n`);
  const got = receiver.drain().map(String);
  t.equal(got.length, 1);
  t.match(got[0], /^<28>portqry-ts\[\d+\]: \[1300\] access denied for 3 processes$/);

  const none = await runCli(['self-check', 'event-log', '--syslog-path', path.join(path.dirname(sock), 'none'), 'x']);
  t.equal(none.code, 71);
  t.equal(none.stdout, '');
  t.match(none.stderr, /^portqry-ts: the event was not written: syslog: connect to .*none failed: errno 2\n$/);
});

// The default path, /dev/log, in a private mount namespace: a tmpfs over /dev holding the test's socket
// bind-mounted as /dev/log (and the device nodes node needs), so the host's /dev is never touched.
const unshareMissing =
  process.platform !== 'linux' ? 'Linux only' : process.getuid?.() !== 0 ? 'needs root for unshare -m' : spawnSync('sh', ['-c', 'command -v unshare']).status !== 0 ? 'unshare (util-linux) missing' : null;
t.test('under systemd (INVOCATION_ID) the recorder writer reaches /dev/log', { skip: unshareMissing ?? false }, async (t) => {
  const dir = tmpdir(t);
  const sock = path.join(dir, 'log');
  const receiver = new DgramReceiver(sock);
  t.teardown(() => receiver.close());
  const program = path.join(dir, 'write.mjs');
  fs.writeFileSync(
    program,
    `import { openEventLog, EventId } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/eventlog/index.ts'))};\n` +
      `const log = openEventLog({ fallback: null });\n` +
      `log.write('info', 'recorder started', EventId.ServiceStart);\n` +
      `log.close();\n` +
      `console.log(JSON.stringify({ target: log.target, sent: log.sent, lastError: log.lastError }));\n`,
  );
  const tsx = path.resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
  const sh = [
    'set -e',
    'mount --make-rprivate /',
    'mount -t tmpfs -o mode=0755 tmpfs /dev',
    'mknod -m 666 /dev/null c 1 3',
    'mknod -m 666 /dev/zero c 1 5',
    'mknod -m 666 /dev/random c 1 8',
    'mknod -m 666 /dev/urandom c 1 9',
    'touch /dev/log',
    `mount --bind "$1" /dev/log`,
    'shift',
    'exec "$@"',
  ].join('\n');
  const r = spawnSync('unshare', ['-m', 'sh', '-c', sh, 'sh', sock, tsx, program], {
    env: { ...process.env, INVOCATION_ID: 'test-invocation' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim()), { target: 'syslog', sent: 1, lastError: null });
  const got = receiver.drain().map(String);
  t.equal(got.length, 1);
  t.match(got[0], /^<30>portqry-ts\[\d+\]: \[1000\] recorder started$/);
});
