import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, netnsHost, run, spawnServer, tempDir, udpExchange, waitForReply, which, type ServerProcess, type TestLike } from './real-server';

export { unavailable } from './real-server';

/**
 * The real servers of the UDP probe tests, each started the same way by the probe tests and the CLI
 * tests: its own config in a temp dir, a free loopback port (or a network namespace),
 * ready when it answers `ready`'s request, stopped and cleaned in teardown.
 */

export interface RunningServer {
  address: string;
  port: number;
  daemon: ServerProcess;
  /** The server's answer to the readiness request (the probe's own request, in the probe tests). */
  firstReply: Buffer;
}

async function ready(daemon: ServerProcess, address: string, port: number, request: Buffer, timeoutMs = 10_000): Promise<RunningServer> {
  const firstReply = await waitForReply(daemon, () => udpExchange(address, port, request, 500), timeoutMs);
  return { address, port, daemon, firstReply };
}

/** dnsmasq answering A portqry.microsoft.com = 192.0.2.53, on UDP and TCP. */
export async function startDnsmasq(t: TestLike, readyRequest: Buffer): Promise<RunningServer> {
  const port = await freePort();
  const daemon = spawnServer(t, which('dnsmasq')!, [
    '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--user=root', '--pid-file=',
    '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, '--host-record=portqry.microsoft.com,192.0.2.53',
  ]);
  return ready(daemon, '127.0.0.1', port, readyRequest);
}

/** net-snmp's agent with one read-only community and a known sysName/sysDescr. */
export async function startSnmpd(t: TestLike, community: string, readyRequest: Buffer): Promise<RunningServer> {
  const dir = tempDir(t, 'snmpd');
  const conf = path.join(dir, 'snmpd.conf');
  fs.writeFileSync(conf, `rocommunity ${community} 127.0.0.1\nsysName pudp-agent\nsysDescr portqry-ts probe test agent\n`);
  const port = await freePort('udp');
  // -C: only our config; no MIB files needed to answer numeric OIDs.
  const daemon = spawnServer(t, which('snmpd')!, ['-f', '-Lo', '-C', '-c', conf, `udp:127.0.0.1:${port}`], { env: { SNMP_PERSISTENT_DIR: dir, MIBS: '', MIBDIRS: dir } });
  return ready(daemon, '127.0.0.1', port, readyRequest);
}

/** tftpd-hpa serving an empty directory. */
export async function startTftpd(t: TestLike, readyRequest: Buffer): Promise<RunningServer> {
  const dir = tempDir(t, 'tftp');
  const port = await freePort('udp');
  // -L: foreground; -s: chroot to the empty directory; -u root: no tftp user needed.
  const daemon = spawnServer(t, which('in.tftpd')!, ['-L', '-a', `127.0.0.1:${port}`, '-s', '-u', 'root', dir]);
  return ready(daemon, '127.0.0.1', port, readyRequest);
}

/** chronyd serving its own clock (local stratum 8) without touching the system clock. */
export async function startChronyd(t: TestLike, readyRequest: Buffer): Promise<RunningServer> {
  const dir = tempDir(t, 'chrony');
  const port = await freePort('udp');
  const conf = path.join(dir, 'chrony.conf');
  fs.writeFileSync(conf, [`port ${port}`, 'bindaddress 127.0.0.1', 'allow all', 'local stratum 8', 'cmdport 0', `pidfile ${dir}/chronyd.pid`, ''].join('\n'));
  const daemon = spawnServer(t, which('chronyd')!, ['-d', '-x', '-u', 'root', '-f', conf]);
  return ready(daemon, '127.0.0.1', port, readyRequest);
}

/** MIT krb5kdc for realm PUDP.TEST with a fresh database, on UDP and TCP. */
export async function startKdc(t: TestLike, readyRequest: Buffer): Promise<RunningServer> {
  const dir = tempDir(t, 'krb5');
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'krb5.conf'), `[libdefaults]\n default_realm = PUDP.TEST\n`);
  fs.writeFileSync(path.join(dir, 'kdc.conf'), [
    '[kdcdefaults]', ` kdc_listen = 127.0.0.1:${port}`, ` kdc_tcp_listen = 127.0.0.1:${port}`,
    '[realms]', ' PUDP.TEST = {', `  database_name = ${dir}/principal`, `  key_stash_file = ${dir}/stash`, ' }',
    '[logging]', ' kdc = STDERR', '',
  ].join('\n'));
  const env = { KRB5_CONFIG: path.join(dir, 'krb5.conf'), KRB5_KDC_PROFILE: path.join(dir, 'kdc.conf') };
  run(which('kdb5_util')!, ['create', '-s', '-r', 'PUDP.TEST', '-P', 'pudp-master-password', '-W'], { env });
  const daemon = spawnServer(t, which('krb5kdc')!, ['-n', '-r', 'PUDP.TEST', '-P', path.join(dir, 'kdc.pid')], { env });
  return ready(daemon, '127.0.0.1', port, readyRequest);
}

/** xl2tpd as an LNS that accepts tunnels from anyone (the default refuses silently). */
export async function startXl2tpd(t: TestLike, readyRequest: Buffer): Promise<RunningServer> {
  const dir = tempDir(t, 'xl2tpd');
  const port = await freePort('udp');
  const conf = path.join(dir, 'xl2tpd.conf');
  fs.writeFileSync(conf, ['[global]', `port = ${port}`, 'listen-addr = 127.0.0.1', 'access control = no', '[lns default]', 'ip range = 10.213.200.2-10.213.200.10', 'local ip = 10.213.200.1', 'hostname = pudp-lns', ''].join('\n'));
  const daemon = spawnServer(t, which('xl2tpd')!, ['-D', '-c', conf, '-p', path.join(dir, 'xl2tpd.pid'), '-C', path.join(dir, 'control')]);
  return ready(daemon, '127.0.0.1', port, readyRequest);
}

/** Samba's nmbd on UDP 137 in a namespace: it serves only non-loopback interfaces. */
export async function startNmbd(t: TestLike, readyRequest: Buffer, decodesNames: (reply: Buffer) => boolean): Promise<RunningServer> {
  const ns = netnsHost(t, 'nb');
  const dir = tempDir(t, 'nmbd');
  const conf = path.join(dir, 'smb.conf');
  const dirs = ['lock directory', 'state directory', 'cache directory', 'private dir', 'pid directory', 'ncalrpc dir'].map((k) => `${k} = ${dir}`);
  fs.writeFileSync(conf, ['[global]', 'netbios name = PUDPTEST', 'workgroup = PUDPGROUP', `interfaces = ${ns.device}`, 'bind interfaces only = yes', ...dirs, `log file = ${dir}/log.%m`, ''].join('\n'));
  // --no-process-group: spawnServer already gives it its own group; nmbd's setsid() would fail.
  const daemon = spawnServer(t, which('nmbd')!, ['--foreground', '--no-process-group', '--debug-stdout', '--debuglevel=1', `--configfile=${conf}`], { netns: ns.netns });
  // nmbd registers its names during its first seconds; ready once the table has them.
  const firstReply = await waitForReply(daemon, async () => {
    const reply = await udpExchange(ns.address, 137, readyRequest, 500);
    return reply && decodesNames(reply) ? reply : undefined;
  }, 20_000);
  return { address: ns.address, port: 137, daemon, firstReply };
}

/** strongSwan's charon on UDP 500 in a namespace (it treats other ports as NAT-T/ESP), no peers configured. */
export async function startCharon(t: TestLike, readyRequest: Buffer): Promise<RunningServer> {
  const ns = netnsHost(t, 'ike');
  const dir = tempDir(t, 'charon');
  const conf = path.join(dir, 'strongswan.conf');
  fs.writeFileSync(conf, 'charon {\n load_modular = no\n load = random nonce aes sha1 sha2 hmac gmp kernel-netlink socket-default\n install_routes = no\n install_virtual_ip = no\n filelog {\n  stderr {\n   default = 1\n  }\n }\n}\n');
  const daemon = spawnServer(t, which('charon')!, [], { env: { STRONGSWAN_CONF: conf }, netns: ns.netns });
  return ready(daemon, ns.address, 500, readyRequest, 15_000);
}
