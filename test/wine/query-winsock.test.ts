import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl, ROOT } from '../helpers/cli';
import { canBuildLab, createLab, peerServerScript, waitReady, type NetnsLab } from '../helpers/netns-lab';
import { spawnServer, tempDir, unavailable, which } from '../helpers/real-server';
import { schemaErrors } from '../helpers/schema';
import { EXE, ensureWinePrefix, runExe, stopWine, wineMissing, winePrefix } from '../helpers/wine';

// The Winsock engine through real ws2_32 (Wine) against a peer in a network namespace this test
// builds: the peer kernel's RST and ICMP port unreachable, nftables DROP / tcp reset / admin-prohibited,
// dnsmasq and slapd for a UDP and a stream probe. Every verdict is compared with the Linux executable's
// (the Node engine) on the same targets in the same test.
//
// Wine creates sockets in the wineserver, so the wineserver must start inside the client namespace:
// this test has its own prefix (a copy of the checkout's would take a minute), stops its server first
// and last, and runs every .exe with keepServer in between.
// What Wine cannot show (Windows' SYN retries after a RST, WSAECONNRESET on a UDP receive) is tested
// with Windows semantics injected in test/unit/winsock-verdict.test.ts.

const LINUX_EXE = path.join(ROOT, 'dist', 'portqry-ts');
const TCP = { listening: 7000, drop: 7001, reset: 7002, adminProhibited: 7004, closed: 7005, ldap: 7389 };
const UDP = { echo: 7100, drop: 7101, adminProhibited: 7103, silent: 7105, closed: 7106, dns: 7153 };

const skip = wineMissing() ?? canBuildLab() ?? (fs.existsSync(EXE) && fs.existsSync(LINUX_EXE) ? false : 'run npm run build first (dist/portqry-ts.exe and dist/portqry-ts)');
const prefix = `${winePrefix()}-netns`;

type Rec = Record<string, any>;

function linuxInLab(lab: NetnsLab, args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', lab.client, LINUX_EXE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

t.test('the Winsock engine under Wine, in a network namespace', { skip, timeout: 900_000 }, async (t) => {
  ensureWinePrefix(prefix);
  stopWine(prefix); // a server started outside the namespace (prefix creation) would own the sockets
  const lab = createLab({
    peerRules: [
      `tcp dport ${TCP.drop} drop`,
      `tcp dport ${TCP.reset} reject with tcp reset`,
      `tcp dport ${TCP.adminProhibited} reject with icmpx type admin-prohibited`,
      `udp dport ${UDP.drop} drop`,
      `udp dport ${UDP.adminProhibited} reject with icmpx type admin-prohibited`,
    ],
  });
  t.teardown(() => {
    stopWine(prefix);
    lab.destroy();
  });
  // The peer's kernel must answer every closed UDP port of a fast scan: no global ICMP budget (1000/s, burst 50).
  lab.exec(lab.peer, ['sysctl', '-q', '-w', 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv4.icmp_msgs_burst=100000']);
  for (const address of [lab.peerAddress, lab.peerAddress6]) {
    const udpSilent = address === lab.peerAddress ? [UDP.silent, 500] : [UDP.silent];
    const peer = lab.spawn(lab.peer, [process.execPath, '-e', peerServerScript({ tcp: [TCP.listening], udpEcho: [UDP.echo], udpSilent }, address)]);
    await waitReady(peer);
  }
  const exe = (args: string[], env: Record<string, string> = { PORTQRY_ENGINE: 'winsock' }, timeoutMs = 180_000) =>
    runExe(args, { prefix, netns: lab.client, keepServer: true, env: { NO_COLOR: '1', ...env }, timeoutMs });
  const by = (records: Rec[], port: number) => records.find((x) => x.RemotePort === port)!;

  await t.test('self-check names the engine; winsock is the default on Windows', async (t) => {
    const r = await exe(['self-check', '--json'], {});
    t.equal(r.code, 0, r.stderr);
    const [check] = parseJsonl(r.stdout);
    t.same(schemaErrors('self-check.schema.json', check), []);
    t.match(check, { Platform: 'win32', QueryEngine: 'winsock', QueryEngineError: null });
    const forced = await exe(['self-check', '--json'], { PORTQRY_ENGINE: 'node' });
    t.match(parseJsonl(forced.stdout)[0], { QueryEngine: 'node', QueryEngineError: null });
    const bad = await exe(['self-check', '--json'], { PORTQRY_ENGINE: 'libuv' });
    t.equal(bad.code, 71);
    t.match(parseJsonl(bad.stdout)[0], { QueryEngine: null, QueryEngineError: /PORTQRY_ENGINE=libuv/ });
  });

  for (const address of [lab.peerAddress, lab.peerAddress6]) {
    await t.test(`TCP via ${address}`, async (t) => {
      const ports = [TCP.listening, TCP.drop, TCP.reset, TCP.adminProhibited, TCP.closed].join(',');
      // The default engine (no PORTQRY_ENGINE) must be Winsock: the Reasons carry Winsock's codes.
      const r = await exe(['query', '-n', address, '-o', ports, '-nr', '--timeout', '1000', '--retries', '2', '--json'], {});
      t.equal(r.stderr, '');
      t.equal(r.code, 2, 'highest code: FILTERED');
      const records = parseJsonl(r.stdout);
      t.equal(records.length, 5);
      for (const rec of records) t.same(schemaErrors('query-result.schema.json', rec), [], `schema ${String(rec.RemotePort)}`);
      t.match(by(records, TCP.listening), { State: 'LISTENING', Reason: 'connected', Attempts: 1 });
      const closed = by(records, TCP.closed);
      t.match(closed, { State: 'NOT LISTENING', Reason: /^reset \(WSAECONNREFUSED/ }, 'kernel RST');
      t.ok(closed.ResponseTimeMs < 500, `closed port answered in about one round trip (${closed.ResponseTimeMs} ms)`);
      t.match(by(records, TCP.reset), { State: 'NOT LISTENING', Reason: /^reset \(WSAECONNREFUSED/ }, 'nft tcp reset');
      t.match(by(records, TCP.drop), { State: 'FILTERED', Reason: /^timeout/, Attempts: 2 }, 'dropped: every attempt used');
      if (address.includes(':')) t.match(by(records, TCP.adminProhibited), { State: 'FILTERED' }, 'ICMPv6 admin-prohibited (Linux keeps it soft: timeout)');
      else t.match(by(records, TCP.adminProhibited), { State: 'FILTERED', Reason: /^icmp-unreachable \(WSAEHOSTUNREACH/, Attempts: 1 }, 'admin-prohibited');
      // Wine refuses SIO_TCP_INITIAL_RTO; the Reason says the fallback decided.
      t.match(closed.Reason, /fallback wait up to 3000 ms for Windows' SYN retries because SIO_TCP_INITIAL_RTO refused \(WSAE\w+\)/, 'the fallback path is named');
    });

    await t.test(`UDP via ${address}`, async (t) => {
      const ports = [UDP.echo, UDP.drop, UDP.adminProhibited, UDP.silent, UDP.closed].join(',');
      const r = await exe(['query', '-n', address, '-p', 'udp', '-o', ports, '-nr', '--timeout', '1000', '--json']);
      t.equal(r.stderr, '');
      t.equal(r.code, 2);
      const records = parseJsonl(r.stdout);
      t.equal(records.length, 5);
      t.match(by(records, UDP.echo), { State: 'LISTENING', Reason: 'reply' });
      t.match(by(records, UDP.closed), { State: 'NOT LISTENING', Reason: /^icmp-port-unreachable \(WSAECONN(REFUSED|RESET)/ }, 'kernel ICMP port unreachable');
      t.match(by(records, UDP.adminProhibited), { State: 'FILTERED', Reason: /^icmp-unreachable \(WSAE(HOSTUNREACH|ACCES)/ }, 'admin-prohibited (Linux reports ICMPv6 admin-prohibited as EACCES)');
      t.match(by(records, UDP.drop), { State: 'LISTENING or FILTERED', Reason: 'no-reply' });
      t.match(by(records, UDP.silent), { State: 'LISTENING or FILTERED', Reason: 'no-reply' });
    });

    await t.test(`-sp via ${address}: SO_EXCLUSIVEADDRUSE source port`, async (t) => {
      const tcp = await exe(['query', '-n', address, '-e', String(TCP.listening), '-sp', '40123', '-nr', '--json']);
      t.match(parseJsonl(tcp.stdout)[0], { State: 'LISTENING', LocalPort: 40123 });
      const udp = await exe(['query', '-n', address, '-p', 'udp', '-e', String(UDP.echo), '-sp', '40124', '-nr', '--json']);
      t.match(parseJsonl(udp.stdout)[0], { State: 'LISTENING', LocalPort: 40124 });
    });
  }

  await t.test('IKE from UDP source port 500 when free, else an ephemeral port with a note; -sp in use is exit 64', async (t) => {
    // The peer's UDP 500 is silent: step 1 no reply, then the IKE query (step 2), whose source port is recorded.
    const free = await exe(['query', '-n', lab.peerAddress, '-p', 'udp', '-e', '500', '-nr', '--json']);
    t.match(parseJsonl(free.stdout)[0], { State: 'FILTERED', Reason: 'probe-no-reply', Probe: 'ike', LocalPort: 500 });
    const holder = lab.spawn(lab.client, [process.execPath, '-e', "const s = require('dgram').createSocket('udp4'); s.bind(500, () => console.log('ready')); setTimeout(() => {}, 120000);"]);
    await waitReady(holder);
    const taken = await exe(['query', '-n', lab.peerAddress, '-p', 'udp', '-e', '500', '-nr', '--json']);
    const rec = parseJsonl(taken.stdout)[0]!;
    t.match(rec, { State: 'FILTERED', Probe: 'ike', Reason: /^probe-no-reply \(ISAKMP query sent from an ephemeral port: UDP 500 is in use here \(WSAE(ADDRINUSE|ACCES)\)\)$/ });
    t.not(rec.LocalPort, 500);
    const sp = await exe(['query', '-n', lab.peerAddress, '-p', 'udp', '-e', String(UDP.echo), '-sp', '500', '-nr', '--json']);
    t.equal(sp.code, 64, '-sp on a taken port');
    t.equal(sp.stdout, '');
    t.match(sp.stderr, /Cannot use specified source port 500\. Port is already in use/);
    holder.kill('SIGKILL');
  });

  await t.test('a UDP probe decodes the reply: DNS from dnsmasq', { skip: unavailable('dnsmasq', 'dnsmasq') }, async (t) => {
    spawnServer(t, which('dnsmasq')!, ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--user=root', '--pid-file=', '--bind-interfaces', `--listen-address=${lab.peerAddress}`, `--port=${UDP.dns}`, '--host-record=portqry.microsoft.com,192.0.2.53'], { netns: lab.peer });
    let record: Rec | undefined;
    for (let i = 0; i < 20 && !record?.ProbeData; i++) {
      if (i) await new Promise((r) => setTimeout(r, 300));
      const r = await exe(['query', '-n', lab.peerAddress, '-p', 'udp', '-e', String(UDP.dns), '--probe', 'dns', '-nr', '--json']);
      record = parseJsonl(r.stdout)[0];
    }
    t.match(record, { State: 'LISTENING', Probe: 'dns', ProbeError: null });
    t.same(record?.ProbeData?.Answers, [{ Name: 'portqry.microsoft.com', Type: 'A', Ttl: 0, Data: '192.0.2.53' }]);
  });

  await t.test('a stream probe after a Winsock LISTENING: slapd rootDSE', { skip: unavailable('slapd', 'slapd') }, async (t) => {
    const dir = tempDir(t, 'wslapd');
    fs.mkdirSync(path.join(dir, 'db'));
    const conf = path.join(dir, 'slapd.conf');
    fs.writeFileSync(conf, ['include /etc/ldap/schema/core.schema', `pidfile ${dir}/slapd.pid`, 'modulepath /usr/lib/ldap', 'moduleload back_mdb', 'database mdb', 'maxsize 10485760', 'suffix "dc=wsock,dc=test"', 'rootdn "cn=admin,dc=wsock,dc=test"', `directory ${dir}/db`, ''].join('\n'));
    spawnServer(t, which('slapd')!, ['-d', '0', '-h', `ldap://${lab.peerAddress}:${TCP.ldap}/`, '-f', conf], { netns: lab.peer });
    let record: Rec | undefined;
    for (let i = 0; i < 20 && !record?.ProbeData; i++) {
      if (i) await new Promise((r) => setTimeout(r, 300));
      const r = await exe(['query', '-n', lab.peerAddress, '-e', String(TCP.ldap), '--probe', 'ldap', '-nr', '--json']);
      record = parseJsonl(r.stdout)[0];
    }
    t.match(record, { State: 'LISTENING', Reason: 'connected', Probe: 'ldap', ProbeError: null });
    t.match(record?.ProbeData, { ResultCode: 0, Attributes: { namingContexts: ['dc=wsock,dc=test'] } });
  });

  await t.test('2,000 TCP and 200 UDP ports: every verdict equals the Linux executable\'s', async (t) => {
    for (const [protocol, range] of [['tcp', '6000:7999'], ['udp', '7000:7199']] as const) {
      const args = ['query', '-n', lab.peerAddress, '-p', protocol, '-r', range, '-nr', '--timeout', '500', '--no-probe', '--json'];
      const win = await exe(args);
      const linux = await linuxInLab(lab, args);
      t.equal(win.stderr, '', `${protocol}: nothing on stderr (.exe)`);
      t.equal(linux.stderr, '', `${protocol}: nothing on stderr (Linux)`);
      const w = parseJsonl(win.stdout);
      const l = parseJsonl(linux.stdout);
      t.equal(w.length, protocol === 'tcp' ? 2000 : 200, `${protocol}: every port answered`);
      const differ = w.filter((x, i) => x.RemotePort !== l[i]?.RemotePort || x.State !== l[i]?.State).map((x) => `${x.RemotePort} ${x.State} (${x.Reason})`);
      t.same(differ, [], `${protocol}: verdicts equal, port by port`);
      t.equal(win.code, linux.code, `${protocol}: same exit code`);
    }
  });

  await t.test('10,000 ports with the default concurrency: no local shortage, every port answered', async (t) => {
    const r = await exe(['query', '-n', lab.peerAddress, '-r', '1:10000', '-nr', '--timeout', '500', '--retries', '1', '--json'], { PORTQRY_ENGINE: 'winsock' }, 600_000);
    t.equal(r.stderr, '', 'no EMFILE / WSAENOBUFS message');
    t.notOk(r.timedOut);
    const records = parseJsonl(r.stdout);
    t.equal(records.length, 10_000);
    t.same(records.map((x) => x.RemotePort), Array.from({ length: 10_000 }, (_, i) => i + 1), 'every port, in order');
    const counts: Record<string, number> = {};
    for (const x of records) counts[String(x.State)] = (counts[String(x.State)] ?? 0) + 1;
    t.same(counts, { 'NOT LISTENING': 9997, LISTENING: 1, FILTERED: 2 }, 'closed everywhere but the listener, the DROP and the admin-prohibited port');
  });
});
