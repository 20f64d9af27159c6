import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import {
  decodeProcNetAddress,
  parseBootTime,
  parseCgroupUnits,
  parseCmdline,
  parseMapsModules,
  parsePasswd,
  parseProcNet,
  ProcNetDecoder,
  parseProcStat,
  parseStatusEffectiveUid,
  processStartTime,
  socketInode,
} from '../../../src/platform/linux-decode';
import { formatIPv6 } from '../../../src/platform/address';

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'platform', 'linux');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'latin1');

t.test('/proc/net/tcp: listener, both ends of a loopback connection, ports in hex', async (t) => {
  const rows = parseProcNet(fixture('net-tcp.txt'), 'TCP', 4, true);
  t.equal(rows.length, 4);
  t.same(rows[0], {
    protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 0xab0b,
    remoteAddress: null, remotePort: null, state: 'Listen', uid: 0, inode: 219408,
  });
  t.same(rows[3], {
    protocol: 'TCP', family: 4, localAddress: '127.0.0.1', localPort: 0xd38c,
    remoteAddress: '127.0.0.1', remotePort: 0xab0b, state: 'Established', uid: 0, inode: 219411,
  });
});

t.test('/proc/net/tcp6: each 32-bit word byte-reversed; ::1, ::, v4-mapped, port 65535', async (t) => {
  const rows = parseProcNet(fixture('net-tcp6.txt'), 'TCP', 6, true);
  t.same(rows.map((r) => [r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state]), [
    ['::', 0x8f37, null, null, 'Listen'],
    ['::1', 65535, null, null, 'Listen'],
    ['::ffff:127.0.0.1', 0x8f37, '::ffff:127.0.0.1', 0xa9bc, 'Established'],
  ]);
  t.ok(rows.every((r) => r.family === 6));
});

t.test('/proc/net/udp and udp6: no state, no remote side, link-local and connected sockets', async (t) => {
  const udp = parseProcNet(fixture('net-udp.txt'), 'UDP', 4, true);
  t.same(udp, [{ protocol: 'UDP', family: 4, localAddress: '127.0.0.1', localPort: 0xd496, remoteAddress: null, remotePort: null, state: null, uid: 0, inode: 219415 }]);
  const udp6 = parseProcNet(fixture('net-udp6.txt'), 'UDP', 6, true);
  t.same(udp6.map((r) => [r.localAddress, r.localPort, r.remoteAddress, r.state, r.inode]), [
    ['::1', 0xde3d, null, null, 219418],
    ['fe80::1', 0xc2b1, null, null, 219417],
  ]);
});

t.test('TIME_WAIT rows have inode 0; a row read twice is returned once; every Linux state maps', async (t) => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const tw = '   1: 020200C0:A7B0 507100CB:0050 06 00000000:00000000 03:000015E9 00000000     0        0 0 3 0000000005b8c17c\n';
  const rows = parseProcNet(header + tw + tw, 'TCP', 4, true);
  t.equal(rows.length, 1);
  t.same([rows[0]!.localAddress, rows[0]!.localPort, rows[0]!.remoteAddress, rows[0]!.remotePort, rows[0]!.state, rows[0]!.inode], ['192.0.2.2', 0xa7b0, '203.0.113.80', 80, 'TimeWait', 0]);
  const states = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc].map((s) => {
    const line = `   0: 0100007F:0050 0200007F:1F90 ${s.toString(16).toUpperCase().padStart(2, '0')} 0:0 0:0 0 1000 0 42 1\n`;
    return parseProcNet(header + line, 'TCP', 4, true)[0]!.state;
  });
  t.same(states, ['Established', 'SynSent', 'SynReceived', 'FinWait1', 'FinWait2', 'TimeWait', 'Closed', 'CloseWait', 'LastAck', 'Listen', 'Closing', 'SynReceived']);
  t.throws(() => parseProcNet(`${header}   0: 0100007F:0050 0200007F:1F90 0F 0:0 0:0 0 0 0 1 1\n`, 'TCP', 4, true), /unknown Linux TCP state 0xf/);
  t.same(parseProcNet(header, 'TCP', 4, true), [], 'header only');
  t.same(parseProcNet('', 'TCP', 4, true), [], 'empty file');
});

t.test('ProcNetDecoder: an unchanged socket is the same row object at the next read; a changed one is new', async (t) => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const line = (sl: number, port: string, st: string, inode: number, queue = '00000000') =>
    `${String(sl).padStart(4)}: 0100007F:${port} 0100007F:1F90 ${st} ${queue}:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
  const decoder = new ProcNetDecoder('TCP', 4, true);
  const first = decoder.decode(header + line(0, 'A000', '01', 11) + line(1, 'A001', '01', 12) + line(2, 'A002', '01', 13));
  t.same(first.map((r) => [r.localPort, r.remotePort, r.state, r.uid, r.inode]), [
    [0xa000, 0x1f90, 'Established', 1000, 11],
    [0xa001, 0x1f90, 'Established', 1000, 12],
    [0xa002, 0x1f90, 'Established', 1000, 13],
  ]);
  // Next read: row 11 gone, 12 moved up a line with other queue counters, 13 changed state, 14 new.
  const second = decoder.decode(header + line(0, 'A001', '01', 12, '0000FFFF') + line(1, 'A002', '08', 13) + line(2, 'A003', '01', 14));
  t.equal(second[0], first[1], 'same socket, same object (queue counters are not part of a row)');
  t.not(second[1], first[2], 'state changed: a new row');
  t.equal(second[1]!.state, 'CloseWait');
  t.same(second.map((r) => r.inode), [12, 13, 14]);
  t.same(second, parseProcNet(header + line(0, 'A001', '01', 12) + line(1, 'A002', '08', 13) + line(2, 'A003', '01', 14), 'TCP', 4, true), 'same rows as a fresh parse');
  // The same local/remote pair under a new inode is another socket.
  const third = decoder.decode(header + line(0, 'A001', '01', 99));
  t.not(third[0], second[0]);
  t.equal(third[0]!.inode, 99);
});

t.test('addresses on a big-endian machine are printed unreversed', async (t) => {
  t.equal(decodeProcNetAddress('7F000001', false), '127.0.0.1');
  t.equal(decodeProcNetAddress('00000000000000000000000000000001', false), '::1');
  t.equal(decodeProcNetAddress('0100007F', true), '127.0.0.1');
});

t.test('IPv6 text follows RFC 5952', async (t) => {
  const v6 = (hex: string) => formatIPv6(Buffer.from(hex, 'hex'), 0);
  t.equal(v6('20010db8000000000000000000000001'), '2001:db8::1');
  t.equal(v6('20010db8000000010000000000000001'), '2001:db8:0:1::1', 'longest zero run compressed');
  t.equal(v6('20010db8000000000001000000000001'), '2001:db8::1:0:0:1', 'first of two equal runs');
  t.equal(v6('20010db8000100010001000100010001'), '2001:db8:1:1:1:1:1:1');
  t.equal(v6('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed');
  t.equal(v6('00000000000000000000000000000000'), '::');
  t.equal(v6('fe800000000000000000000000000001'), 'fe80::1');
  t.equal(v6('00000000000000000000ffffc0000201'), '::ffff:192.0.2.1');
});

t.test('/proc/PID/stat: comm with spaces and parentheses, start ticks, wall-clock start', async (t) => {
  const stat = parseProcStat(fixture('stat-odd-comm.txt'));
  t.same(stat, { comm: 'a b) (c', ppid: 19189, startTicks: 94385 });
  t.equal(parseBootTime('cpu  1 2 3\nbtime 1795645557\nprocesses 9\n'), 1795645557);
  t.equal(processStartTime(1795645557, 94385).toISOString(), new Date((1795645557 + 943.85) * 1000).toISOString());
  t.throws(() => parseProcStat('garbage'), /malformed/);
  t.throws(() => parseBootTime('cpu 1\n'), /btime/);
});

t.test('/proc/PID/status: the effective uid', async (t) => {
  t.equal(parseStatusEffectiveUid(fixture('status.txt')), 1001);
  t.equal(parseStatusEffectiveUid('Name:\tx\n'), null);
});

t.test('/proc/PID/cmdline: NUL-separated argv into one command line', async (t) => {
  t.equal(parseCmdline(Buffer.from('/usr/sbin/sshd\0-D\0')), '/usr/sbin/sshd -D');
  t.equal(parseCmdline(Buffer.from('/tmp/plat/a b) (c\x0030\0')), '"/tmp/plat/a b) (c" 30');
  t.equal(parseCmdline(Buffer.from('echo\0\0say "hi"\0')), 'echo "" "say \\"hi\\""', 'empty and quoted arguments');
  t.equal(parseCmdline(Buffer.from('nginx: worker process\0\0\0')), 'nginx: worker process', 'argv rewritten by setproctitle');
  t.equal(parseCmdline(Buffer.alloc(0)), null, 'kernel thread or zombie');
});

t.test('/proc/PID/maps: unique shared objects only', async (t) => {
  const text = `${fixture('maps.txt')}7f0000000000-7f0000001000 r--p 00000000 fe:00 99 /opt/my app/libspace.so (deleted)\n7f0000001000-7f0000002000 r--p 00000000 fe:00 98 /usr/share/locale/locale-archive\n`;
  t.same(parseMapsModules(text), [
    '/usr/lib/x86_64-linux-gnu/libc.so.6',
    '/usr/lib/x86_64-linux-gnu/libgcc_s.so.1',
    '/usr/lib/x86_64-linux-gnu/libm.so.6',
    '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30',
    '/usr/lib/x86_64-linux-gnu/libpthread.so.0',
    '/usr/lib/x86_64-linux-gnu/libdl.so.2',
    '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    '/opt/my app/libspace.so',
  ]);
});

t.test('/proc/PID/cgroup: the systemd unit (cgroups(7) v2, hybrid and v1 layouts)', async (t) => {
  t.same(parseCgroupUnits('0::/system.slice/ssh.service\n'), ['ssh.service']);
  t.same(parseCgroupUnits('0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.service\n'), ['app-foo.service']);
  t.same(parseCgroupUnits('0::/user.slice/user-1000.slice/session-3.scope\n'), ['session-3.scope']);
  t.same(parseCgroupUnits('0::/system.slice/system-getty.slice/getty@tty1.service\n'), ['getty@tty1.service']);
  t.same(parseCgroupUnits('0::/system.slice/docker-0123abcd.scope/init.scope\n'), ['init.scope']);
  t.same(parseCgroupUnits('12:pids:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n0::/system.slice/cron.service\n'), ['cron.service'], 'hybrid');
  t.same(parseCgroupUnits('4:memory:/x\n1:name=systemd:/system.slice/nginx.service\n'), ['nginx.service'], 'legacy v1');
  t.same(parseCgroupUnits('0::/system.slice/systemd-fsck@dev-disk-by\\x2duuid-1.service\n'), ['systemd-fsck@dev-disk-by-uuid-1.service'], 'unit name escapes');
  t.same(parseCgroupUnits('9:name=systemd:/\n4:memory:/process_api/d874\n0::/\n'), [], 'a container without systemd');
  t.same(parseCgroupUnits(''), []);
});

t.test('passwd lines: uid → first name; NIS markers and junk skipped', async (t) => {
  const users = parsePasswd('root:x:0:0:root:/root:/bin/bash\n# comment\n+::::::\ntoor:x:0:0::/root:/bin/sh\nalice@corp.example:*:1234567:100:Alice:/home/alice:/bin/bash\nbad line\n');
  t.same([...users], [[0, 'root'], [1234567, 'alice@corp.example']]);
});

t.test('fd links: socket inodes only', async (t) => {
  t.equal(socketInode('socket:[219408]'), 219408);
  t.equal(socketInode('pipe:[5]'), null);
  t.equal(socketInode('/dev/null'), null);
  t.equal(socketInode('anon_inode:[eventpoll]'), null);
});
