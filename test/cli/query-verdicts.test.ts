import t from 'tap';
import { BUNDLE, parseJsonl, runCli } from '../helpers/cli';
import { canBuildLab, createLab, peerServerScript, waitReady, type NetnsLab } from '../helpers/netns-lab';
import { schemaErrors } from '../helpers/schema';

// Every verdict for TCP and UDP, against a real peer in a network namespace this test builds: real
// listeners, the peer kernel's own RST / ICMP port unreachable for closed ports, and nftables rules
// that DROP or REJECT (tcp reset, icmp port-unreachable, admin-prohibited, host-unreachable).

const TCP = { listening: 7000, drop: 7001, reset: 7002, icmpPort: 7003, adminProhibited: 7004, closed: 7005, hostUnreachable: 7006 };
const UDP = { echo: 7100, drop: 7101, icmpPort: 7102, adminProhibited: 7103, silent: 7105, closed: 7106 };

const skip = canBuildLab();

function cliInLab(lab: NetnsLab, args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return runCli(['netns', 'exec', lab.client, process.execPath, BUNDLE, ...args], { bin: 'ip', env: { NO_COLOR: '1' }, timeoutMs: 30_000 });
}

t.test('query verdicts against a namespace peer', { skip }, async (t) => {
  const lab = createLab({
    peerRules: [
      `tcp dport ${TCP.drop} drop`,
      `tcp dport ${TCP.reset} reject with tcp reset`,
      `tcp dport ${TCP.icmpPort} reject with icmpx type port-unreachable`,
      `tcp dport ${TCP.adminProhibited} reject with icmpx type admin-prohibited`,
      `tcp dport ${TCP.hostUnreachable} reject with icmpx type host-unreachable`,
      `udp dport ${UDP.drop} drop`,
      `udp dport ${UDP.icmpPort} reject with icmpx type port-unreachable`,
      `udp dport ${UDP.adminProhibited} reject with icmpx type admin-prohibited`,
    ],
  });
  t.teardown(() => lab.destroy());
  for (const address of [lab.peerAddress, lab.peerAddress6]) {
    const peer = lab.spawn(lab.peer, [process.execPath, '-e', peerServerScript({ tcp: [TCP.listening], udpEcho: [UDP.echo], udpSilent: [UDP.silent] }, address)]);
    await waitReady(peer);
  }

  for (const address of [lab.peerAddress, lab.peerAddress6]) {
    await t.test(`TCP via ${address}`, async (t) => {
      const ports = Object.values(TCP).join(',');
      const r = await cliInLab(lab, ['query', '-n', address, '-o', ports, '-nr', '--timeout', '1000', '--retries', '2', '--json']);
      const records = parseJsonl(r.stdout);
      t.equal(records.length, 7);
      t.same(records.flatMap((rec) => schemaErrors('query-result.schema.json', rec).map((e) => `${String(rec.RemotePort)}: ${e}`)), [], 'every record valid');
      const by = (port: number) => records.find((x) => x.RemotePort === port)!;
      t.match(by(TCP.listening), { State: 'LISTENING', Reason: 'connected', Attempts: 1 });
      t.match(by(TCP.closed), { State: 'NOT LISTENING', Reason: 'reset' }, 'kernel RST');
      t.match(by(TCP.reset), { State: 'NOT LISTENING', Reason: 'reset' }, 'nft tcp reset');
      t.match(by(TCP.drop), { State: 'FILTERED', Reason: 'timeout', Attempts: 2 }, 'dropped: every attempt used');
      if (address.includes(':')) {
        // Linux does not fail a connecting TCP socket on ICMPv6 unreachable (the errors stay soft), so
        // over IPv6 these ports are seen as silent: FILTERED after the attempts.
        t.match(by(TCP.icmpPort), { State: 'FILTERED' }, 'ICMPv6 port unreachable');
        t.match(by(TCP.adminProhibited), { State: 'FILTERED' }, 'ICMPv6 admin-prohibited');
        t.match(by(TCP.hostUnreachable), { State: 'FILTERED' }, 'ICMPv6 host-unreachable');
      } else {
        t.match(by(TCP.icmpPort), { State: 'NOT LISTENING' }, 'ICMP port unreachable');
        t.match(by(TCP.adminProhibited), { State: 'FILTERED', Reason: 'icmp-unreachable', Attempts: 1 }, 'admin-prohibited');
        t.match(by(TCP.hostUnreachable), { State: 'FILTERED', Reason: 'icmp-unreachable' }, 'host-unreachable');
      }
      t.same(records.map((x) => x.RemotePort), Object.values(TCP), 'in -o order');
      t.equal(r.code, 2, 'highest code: FILTERED');
      t.equal(r.stderr, '');
    });

    await t.test(`UDP via ${address}`, async (t) => {
      const ports = Object.values(UDP).join(',');
      const r = await cliInLab(lab, ['query', '-n', address, '-p', 'udp', '-o', ports, '-nr', '--timeout', '1000', '--json']);
      const records = parseJsonl(r.stdout);
      t.equal(records.length, 6);
      const by = (port: number) => records.find((x) => x.RemotePort === port)!;
      t.match(by(UDP.echo), { State: 'LISTENING', Reason: 'reply' });
      t.match(by(UDP.closed), { State: 'NOT LISTENING', Reason: 'icmp-port-unreachable' }, 'kernel ICMP');
      t.match(by(UDP.icmpPort), { State: 'NOT LISTENING', Reason: 'icmp-port-unreachable' }, 'nft ICMP port unreachable');
      t.match(by(UDP.adminProhibited), { State: 'FILTERED', Reason: 'icmp-unreachable' }, 'admin-prohibited');
      t.match(by(UDP.drop), { State: 'LISTENING or FILTERED', Reason: 'no-reply' });
      t.match(by(UDP.silent), { State: 'LISTENING or FILTERED', Reason: 'no-reply' });
      t.equal(r.code, 2);
    });

    await t.test(`UDP step 2 via ${address}: a probe's silence makes it FILTERED`, async (t) => {
      const r = await cliInLab(lab, ['query', '-n', address, '-p', 'udp', '-o', `${UDP.drop},${UDP.echo}`, '--probe', 'dns', '-nr', '--timeout', '1000', '--json']);
      const [dropped, echo] = parseJsonl(r.stdout);
      t.match(dropped, { State: 'FILTERED', Reason: 'probe-no-reply', Probe: 'dns', ProbeData: null });
      t.match(dropped!.ProbeError, /no reply/);
      // The echo server sends the DNS query back: a reply, but not a DNS answer.
      t.match(echo, { State: 'LISTENING', Probe: 'dns', ProbeData: null });
      t.type(echo!.ProbeError, 'string');
    });
  }

  await t.test('single answers keep PortQry exit codes and text', async (t) => {
    const cases: [number, string, number, string][] = [
      [TCP.listening, 'tcp', 0, 'LISTENING'],
      [TCP.closed, 'tcp', 1, 'NOT LISTENING'],
      [TCP.adminProhibited, 'tcp', 2, 'FILTERED'],
      [UDP.silent, 'udp', 2, 'LISTENING or FILTERED'],
    ];
    for (const [port, protocol, code, state] of cases) {
      const r = await cliInLab(lab, ['query', '-n', lab.peerAddress, '-e', String(port), '-p', protocol, '-nr', '--timeout', '1000', '--format', 'text']);
      t.equal(r.code, code, `${protocol} ${port}`);
      t.match(r.stdout, new RegExp(`^${protocol.toUpperCase()} port ${port} \\(.*\\): ${state}$`, 'm'));
      const quiet = await cliInLab(lab, ['query', '-n', lab.peerAddress, '-e', String(port), '-p', protocol, '-nr', '--timeout', '1000', '-q']);
      t.equal(quiet.code, code, `-q ${protocol} ${port}`);
      t.equal(quiet.stdout, '');
    }
  });

  await t.test('a CIDR block scans every host in order', async (t) => {
    const r = await cliInLab(lab, ['query', '-n', `${lab.peerAddress.replace(/\.2$/, '.0')}/30`, '-e', String(TCP.listening), '-nr', '--timeout', '1000', '--json']);
    const records = parseJsonl(r.stdout);
    t.same(records.map((x) => x.RemoteAddress), [lab.clientAddress, lab.peerAddress]);
    t.same(records.map((x) => x.State), ['NOT LISTENING', 'LISTENING']);
  });
});
