import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, netnsHost, run, startServer, tempDir, waitForTcp, unavailable, type TestLike } from './real-server';

/*
 * Real servers for the TCP probe tests (probe unit tests and CLI end-to-end tests share them): each
 * starts in the foreground on a free loopback port (or port 135 in its own namespace) with a temp
 * configuration, and stops when the test ends. `skip*` says why a test cannot run here, or false.
 */

const DCERPCD = '/usr/libexec/samba/samba-dcerpcd';
export const skipVsftpd = unavailable('vsftpd', 'vsftpd');
export const skipExim = unavailable('exim', 'exim4-daemon-light');
export const skipDovecot = unavailable('dovecot', 'dovecot-imapd, dovecot-pop3d');
export const skipSlapd = unavailable('slapd', 'slapd');
export const skipNginx = unavailable('nginx', 'nginx-light');
export const skipOpenssl = unavailable('openssl', 'openssl');
export const skipXrdp = unavailable('xrdp', 'xrdp') || unavailable('openssl', 'openssl');
export const skipSmbd = unavailable('smbd', 'samba');
export const skipEndpointMapper = unavailable(DCERPCD, 'samba', true);

/** vsftpd with anonymous logins on; `banner` is its greeting after "220 " (default "ptcp FTP ready"). */
export async function startVsftpd(t: TestLike, banner = 'ptcp FTP ready'): Promise<number> {
  const dir = tempDir(t, 'vsftpd');
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'empty'), { mode: 0o755 });
  const conf = path.join(dir, 'vsftpd.conf');
  fs.writeFileSync(
    conf,
    [
      'listen=YES', 'listen_ipv6=NO', 'listen_address=127.0.0.1', `listen_port=${port}`, 'background=NO',
      'anonymous_enable=YES', 'local_enable=NO', `secure_chroot_dir=${path.join(dir, 'empty')}`,
      `anon_root=${path.join(dir, 'empty')}`, `ftpd_banner=${banner}`, 'vsftpd_log_file=/dev/null', '',
    ].join('\n'),
  );
  await startServer(t, 'vsftpd', [conf], { port });
  return port;
}

/** Exim with Debian's stock configuration, listening on one loopback port. */
export async function startExim(t: TestLike): Promise<number> {
  const dir = tempDir(t, 'exim');
  const port = await freePort();
  await startServer(t, 'exim', ['-bdf', '-oX', `127.0.0.1.${port}`, '-oP', path.join(dir, 'exim.pid')], { port });
  return port;
}

/** Dovecot with POP3 and IMAP (no TLS) on two loopback ports, greeting "ptcp dovecot ready.". */
export async function startDovecot(t: TestLike): Promise<{ pop3: number; imap: number }> {
  const dir = tempDir(t, 'dovecot');
  const [pop3, imap] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(
    conf,
    `protocols = pop3 imap
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/log
ssl = no
listen = 127.0.0.1
login_greeting = ptcp dovecot ready.
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home
}
service imap-login {
  inet_listener imap {
    port = ${imap}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3}
  }
  inet_listener pop3s {
    port = 0
  }
}
`,
  );
  await startServer(t, 'dovecot', ['-F', '-c', conf], { port: imap });
  await waitForTcp(pop3);
  return { pop3, imap };
}

/** slapd with one mdb database (dc=ptcp,dc=test) on 127.0.0.1 and ::1; its rootDSE is what the LDAP probe reads. */
export async function startSlapd(t: TestLike): Promise<number> {
  const dir = tempDir(t, 'slapd');
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'db'));
  const conf = path.join(dir, 'slapd.conf');
  fs.writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema', `pidfile ${dir}/slapd.pid`, 'modulepath /usr/lib/ldap', 'moduleload back_mdb',
      'database mdb', 'maxsize 10485760', 'suffix "dc=ptcp,dc=test"', 'rootdn "cn=admin,dc=ptcp,dc=test"', `directory ${dir}/db`, '',
    ].join('\n'),
  );
  await startServer(t, 'slapd', ['-d', '0', '-h', `ldap://127.0.0.1:${port}/ ldap://[::1]:${port}/`, '-f', conf], { port });
  return port;
}

/** nginx: `/` answers 200, `/moved` 301, `/wsman` 401 with `WWW-Authenticate: Basic realm="ptcp WinRM"`. */
export async function startNginx(t: TestLike): Promise<number> {
  const dir = tempDir(t, 'nginx');
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'htpasswd'), 'user:$apr1$abc$xyz\n');
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = / { return 200 "hello\\n"; }
    location = /moved { return 301 /; }
    location /wsman { auth_basic "ptcp WinRM"; auth_basic_user_file ${dir}/htpasswd; }
  }
}
`,
  );
  await startServer(t, 'nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', 'stderr'], { port });
  return port;
}

function openssl(args: string[], cwd: string): void {
  run('openssl', args, { cwd });
}

/**
 * Certificates made by openssl in a temp directory: ca.pem/ca.key (a CA), leaf.pem/leaf.key
 * (www.ptcp.test, 30 days, SANs www.ptcp.test, ptcp.test, 127.0.0.1, signed by the CA), and
 * self.pem/self.key (self-signed RSA 2048, CN self.ptcp.test, 10 days). Returns the directory.
 */
export function makeCertificates(t: TestLike): string {
  const dir = tempDir(t, 'certs');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '365', '-subj', '/O=ptcp test/CN=ptcp test CA'], dir);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/O=ptcp test/CN=www.ptcp.test'], dir);
  fs.writeFileSync(path.join(dir, 'leaf.ext'), 'subjectAltName=DNS:www.ptcp.test,DNS:ptcp.test,IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-extfile', 'leaf.ext', '-out', 'leaf.pem'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'self.key', '-out', 'self.pem', '-days', '10', '-subj', '/CN=self.ptcp.test'], dir);
  return dir;
}

/** `openssl s_server -www` with a certificate from makeCertificates() (`leaf` sends the CA too). */
export async function startTlsServer(t: TestLike, certDir: string, which: 'leaf' | 'self', extra: string[] = []): Promise<number> {
  const port = await freePort();
  const chain = which === 'leaf' ? ['-cert_chain', 'ca.pem'] : [];
  await startServer(t, 'openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', `${which}.pem`, '-key', `${which}.key`, ...chain, ...extra, '-www', '-quiet'], { port, cwd: certDir });
  return port;
}

/** xrdp (the stock xrdp.ini with our port, log and a fresh certificate) at one security_layer. */
export async function startXrdp(t: TestLike, securityLayer: 'negotiate' | 'tls' | 'rdp'): Promise<{ port: number; stop(): void }> {
  const dir = tempDir(t, 'xrdp');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=xrdp.ptcp.test'], dir);
  const port = await freePort();
  const ini = path.join(dir, 'xrdp.ini');
  fs.writeFileSync(
    ini,
    fs
      .readFileSync('/etc/xrdp/xrdp.ini', 'utf8')
      .replace(/^port=3389$/m, `port=tcp://127.0.0.1:${port}`)
      .replace(/^security_layer=.*$/m, `security_layer=${securityLayer}`)
      .replace(/^certificate=.*$/m, `certificate=${cert}`)
      .replace(/^key_file=.*$/m, `key_file=${key}`)
      .replace(/^LogFile=.*$/m, `LogFile=${dir}/xrdp.log`)
      .replace(/^EnableSyslog=.*$/m, 'EnableSyslog=false'),
  );
  const server = await startServer(t, 'xrdp', ['--nodaemon', '--config', ini], { port });
  return { port, stop: () => void server.child.kill('SIGTERM') };
}

/** smbd on a loopback high port (`smb ports`) with a temp configuration; `extra` lines go into [global]. */
export async function startSmbd(t: TestLike, extra: string[]): Promise<number> {
  const dir = tempDir(t, 'smbd');
  const port = await freePort();
  for (const sub of ['private', 'lock', 'state', 'cache', 'run', 'ncalrpc']) fs.mkdirSync(path.join(dir, sub));
  const conf = path.join(dir, 'smb.conf');
  fs.writeFileSync(conf, sambaConf(dir, [`smb ports = ${port}`, 'interfaces = lo', ...extra]));
  // --no-process-group: startServer already gives it its own group; smbd refuses to make another.
  await startServer(t, 'smbd', ['--foreground', '--no-process-group', `--configfile=${conf}`, '--debug-stdout', '-d0'], { port, readyTimeoutMs: 20_000 });
  return port;
}

function sambaConf(dir: string, lines: string[]): string {
  return [
    '[global]', ...lines, 'bind interfaces only = yes', 'server role = standalone server', 'disable netbios = yes',
    `private dir = ${dir}/private`, `lock directory = ${dir}/lock`, `state directory = ${dir}/state`, `cache directory = ${dir}/cache`,
    `pid directory = ${dir}/run`, `ncalrpc dir = ${dir}/ncalrpc`, `log file = ${dir}/log.%m`, '',
  ].join('\n');
}

/**
 * Samba's endpoint mapper (samba-dcerpcd with its rpcd_* helpers) on port 135, which it cannot move,
 * inside a network namespace reached over a veth pair; returns the namespace and its address.
 */
export async function startEndpointMapper(t: TestLike): Promise<{ netns: string; address: string }> {
  const { netns, address } = netnsHost(t, 'epm');
  const dir = tempDir(t, 'dcerpcd');
  for (const sub of ['private', 'lock', 'state', 'cache', 'run', 'ncalrpc']) fs.mkdirSync(path.join(dir, sub));
  const conf = path.join(dir, 'smb.conf');
  fs.writeFileSync(conf, sambaConf(dir, [`interfaces = ${address}/30`, 'rpc start on demand helpers = false']));
  await startServer(t, DCERPCD, ['--libexec-rpcds', '--foreground', '--no-process-group', `--configfile=${conf}`, '--debug-stdout', '-d0'], { port: 135, host: address, netns, readyTimeoutMs: 20_000 });
  return { netns, address };
}
