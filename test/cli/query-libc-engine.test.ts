import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT, runCli } from '../helpers/cli';
import { canBuildLab, createLab, peerServerScript, waitReady, type NetnsLab } from '../helpers/netns-lab';
import { schemaErrors } from '../helpers/schema';

// The Linux libc engine (glibc socket/connect/poll through koffi) against the Node engine, record for
// record, on real sockets: a loopback range with listeners scattered in it (IPv4 and IPv6), and a
// namespace peer whose nftables rules DROP, REJECT with tcp reset / ICMP port-unreachable /
// admin-prohibited / host-unreachable, plus the client's own output rules and an
// unreachable route, over IPv4 and IPv6. Only the timing fields and the ephemeral LocalPort may differ.

type Rec = Record<string, unknown>;

/** A record without what differs between two runs of the same engine (times, the ephemeral source port). */
function stable(records: Rec[]): Rec[] {
  return records.map(({ ResponseTimeMs: _a, TimeUtc: _b, LocalPort, ...rest }) => ({ ...rest, LocalPort: LocalPort === null ? null : 'set' }));
}

function run(argv: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return runCli(argv.slice(1), { bin: argv[0]!, env: { NO_COLOR: '1', ...env } });
}

t.test('self-check names the libc engine; PORTQRY_ENGINE=node forces Node\'s sockets', async (t) => {
  const def = await runCli(['self-check', '--json']);
  t.match(parseJsonl(def.stdout)[0], { QueryEngine: 'libc', QueryEngineError: null });
  const forced = await runCli(['self-check', '--json'], { env: { PORTQRY_ENGINE: 'node' } });
  t.match(parseJsonl(forced.stdout)[0], { QueryEngine: 'node', QueryEngineError: null });
  t.same(schemaErrors('self-check.schema.json', parseJsonl(def.stdout)[0]!), []);
});

t.test('dist/portqry-ts where koffi may not load: a default scan uses node, a forced libc is a one-line error', { skip: process.platform !== 'linux' ? 'Linux executable' : false }, async (t) => {
  const bin = path.join(ROOT, 'dist', 'portqry-ts');
  if (!fs.existsSync(bin)) {
    t.fail(`${bin} missing: run npm run build`);
    return;
  }
  // A native-module folder under a directory others can write: koffi.ts refuses to load code there.
  const open = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-open-'));
  fs.chmodSync(open, 0o777);
  t.teardown(() => fs.rmSync(open, { recursive: true, force: true }));
  const env = { PORTQRY_NATIVE_DIR: open };
  const args = ['query', '-n', '127.0.0.1', '-r', '20000:21499', '-nr', '--json'];
  const fallback = await runCli(args, { bin, env });
  t.equal(parseJsonl(fallback.stdout).length, 1500, 'every port answered through Node\'s sockets');
  t.equal(fallback.stderr, '');
  const check = await runCli(['self-check', '--json'], { bin, env });
  t.match(parseJsonl(check.stdout)[0], { QueryEngine: 'node', QueryEngineError: null });
  const forced = await runCli(args, { bin, env: { ...env, PORTQRY_ENGINE: 'libc' } });
  t.equal(forced.code, 71);
  t.equal(forced.stdout, '');
  t.match(forced.stderr, /^portqry-ts: libc \(libc\.so\.6 through koffi\) is not usable: .*writable by other users.*; PORTQRY_ENGINE=node uses Node's sockets instead\n$/);
});

t.test('loopback: a range with scattered listeners, both engines, IPv4 and IPv6', async (t) => {
  const base = 20000 + Math.floor(Math.random() * 8000);
  const span = 3000;
  for (const host of ['127.0.0.1', '::1']) {
    const servers: net.Server[] = [];
    // About 1 port in 60 listening, at irregular distances.
    for (let p = base + 7; p < base + span; p += 13 + ((p * 7919) % 97)) {
      const s = net.createServer((c) => c.destroy());
      const ok = await new Promise<boolean>((r) => {
        s.once('error', () => r(false));
        s.listen(p, host, () => r(true));
      });
      if (ok) servers.push(s);
    }
    t.teardown(() => servers.forEach((s) => s.close()));
    const args = ['query', '-n', host, '-r', `${base}:${base + span - 1}`, '-nr', '--json'];
    const libc = await runCli(args, { env: { PORTQRY_ENGINE: 'libc' } });
    const node = await runCli(args, { env: { PORTQRY_ENGINE: 'node' } });
    const a = parseJsonl(libc.stdout);
    const b = parseJsonl(node.stdout);
    t.equal(a.length, span);
    t.ok(a.filter((r) => r.State === 'LISTENING').length >= servers.length, `${servers.length} listeners seen`);
    t.same(stable(a), stable(b), `${host}: record for record`);
    t.equal(libc.code, node.code);
    t.equal(libc.stderr, '');
    t.ok(a.filter((r) => r.State === 'LISTENING').every((r) => r.LocalAddress === host), 'LocalAddress as Node prints it');
    for (const s of servers) s.close();
  }
});

const TCP = { listening: 7000, drop: 7001, reset: 7002, icmpPort: 7003, adminProhibited: 7004, closed: 7005, hostUnreachable: 7006, outReject: 7007, outDrop: 7008, listening2: 7009 };

t.test('namespace peer: DROP, REJECT variants, client output rules, an unreachable route; both engines agree', { skip: canBuildLab() }, async (t) => {
  const lab: NetnsLab = createLab({
    peerRules: [
      `tcp dport ${TCP.drop} drop`,
      `tcp dport ${TCP.reset} reject with tcp reset`,
      `tcp dport ${TCP.icmpPort} reject with icmpx type port-unreachable`,
      `tcp dport ${TCP.adminProhibited} reject with icmpx type admin-prohibited`,
      `tcp dport ${TCP.hostUnreachable} reject with icmpx type host-unreachable`,
    ],
  });
  t.teardown(() => lab.destroy());
  // The client's own firewall: a local reject and a local drop.
  lab.exec(lab.client, ['nft', '-f', '-'], `table inet qclient {\n chain output {\n  type filter hook output priority 0; policy accept;\n  tcp dport ${TCP.outReject} reject with icmpx type admin-prohibited\n  tcp dport ${TCP.outDrop} drop\n }\n}\n`);
  // Unreachable routes inside the client namespace: nothing leaves it.
  const n = Number(lab.peerAddress.split('.')[2]);
  const unreachable4 = `198.19.${n}.9`;
  const unreachable6 = `fd00:198:19:${n.toString(16)}::9`;
  lab.exec(lab.client, ['ip', 'route', 'add', 'unreachable', `198.19.${n}.0/24`]);
  lab.exec(lab.client, ['ip', '-6', 'route', 'add', 'unreachable', `fd00:198:19:${n.toString(16)}::/64`]);
  for (const address of [lab.peerAddress, lab.peerAddress6]) {
    const peer = lab.spawn(lab.peer, [process.execPath, '-e', peerServerScript({ tcp: [TCP.listening, TCP.listening2] }, address)]);
    await waitReady(peer);
  }
  const inLab = (args: string[], engine: string) => run(['ip', 'netns', 'exec', lab.client, process.execPath, BUNDLE, ...args], { PORTQRY_ENGINE: engine });

  for (const address of [lab.peerAddress, lab.peerAddress6, unreachable4, unreachable6]) {
    await t.test(`TCP to ${address}`, async (t) => {
      const args = ['query', '-n', address, '-o', `${Object.values(TCP).join(',')},7010-7030`, '-nr', '--timeout', '400', '--retries', '2', '--json'];
      const [libc, node] = await Promise.all([inLab(args, 'libc'), inLab(args, 'node')]);
      const a = parseJsonl(libc.stdout);
      const b = parseJsonl(node.stdout);
      t.equal(a.length, Object.keys(TCP).length + 21);
      t.same(a.flatMap((rec) => schemaErrors('query-result.schema.json', rec)), [], 'every record valid');
      t.same(stable(a), stable(b), 'record for record');
      t.equal(libc.code, node.code, 'same exit code');
      t.equal(libc.stderr, '');
      const by = (port: number) => a.find((x) => x.RemotePort === port)!;
      if (address === lab.peerAddress || address === lab.peerAddress6) {
        t.match(by(TCP.listening), { State: 'LISTENING', Reason: 'connected', LocalAddress: address.includes(':') ? /^fd00:198:18:/ : lab.clientAddress });
        t.match(by(TCP.closed), { State: 'NOT LISTENING', Reason: 'reset' });
        t.match(by(TCP.reset), { State: 'NOT LISTENING', Reason: 'reset' });
        t.match(by(TCP.drop), { State: 'FILTERED', Reason: 'timeout', Attempts: 2 });
        // Linux swallows the EPERM of a SYN its own output hook drops (connect() says EINPROGRESS): silence.
        t.match(by(TCP.outDrop), { State: 'FILTERED', Reason: 'timeout', Attempts: 2 }, 'the client\'s output drop');
        if (!address.includes(':')) t.match(by(TCP.adminProhibited), { State: 'FILTERED', Reason: 'icmp-unreachable', Attempts: 1 });
      } else {
        t.ok(a.every((r) => r.State === 'FILTERED' && r.Reason === 'icmp-unreachable'), 'no route: FILTERED at once');
      }
    });
  }
});
