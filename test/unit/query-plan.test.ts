import t from 'tap';
import { translateLegacyArgv } from '../../src/argv';
import { UsageError } from '../../src/errors';
import { combineExitCodes } from '../../src/query/engine';
import { commandLineText, ctimeDate } from '../../src/query/log-file';
import { buildPortSpecs, expandCidr, parseCommunity, parsePortList, parseRange, parseTargets } from '../../src/query/plan';
import { PRESETS } from '../../src/query/presets';
import { selectProbe } from '../../src/query/query-port';
import { buildQueryRequest, type QueryOptionsText } from '../../src/query/run';

const base: QueryOptionsText = { host: 'h', slowLink: false, noReverse: false, noProbe: false };

/** Asserts fn throws a UsageError (exit 64) whose message contains `bad`. */
function throwsUsage(t: Asserts, fn: () => unknown, bad: string, name?: string) {
  try {
    fn();
    t.fail(`${name ?? bad}: no error`);
  } catch (err) {
    t.ok(err instanceof UsageError, `${name ?? bad}: UsageError`);
    t.equal((err as UsageError).exitCode, 64);
    t.ok((err as Error).message.includes(bad), `message names '${bad}': ${(err as Error).message}`);
  }
}
interface Asserts {
  ok(v: unknown, m: string): unknown;
  equal(a: unknown, b: unknown): unknown;
  fail(m: string): unknown;
}

t.test('port lists, ranges and their errors', async (t) => {
  t.same(parsePortList('-o', '25,445,1024'), [25, 445, 1024]);
  t.same(parsePortList('-o', ' 80 , 443 '), [80, 443]);
  t.same(parsePortList('--ports', '1000-1002,53'), [1000, 1001, 1002, 53]);
  t.same(parseRange('-r', '21:25'), [21, 22, 23, 24, 25]);
  t.equal(parseRange('-r', '1:65535').length, 65535);
  throwsUsage(t, () => parseRange('-r', '445:21'), '445:21');
  throwsUsage(t, () => parseRange('-r', '0:10'), '0:10');
  throwsUsage(t, () => parseRange('-r', '1;10'), '1;10');
  throwsUsage(t, () => parsePortList('-o', '80,http'), 'http');
  throwsUsage(t, () => parsePortList('-o', '65536'), '65536');
  throwsUsage(t, () => parsePortList('-o', ','), "','");
});

t.test('port specs: -p, order, alternatives, presets', async (t) => {
  t.same(buildPortSpecs({}), [{ protocol: 'TCP', port: 80 }], 'default: TCP 80');
  t.same(buildPortSpecs({ order: '53,88', protocol: 'BOTH' }), [
    { protocol: 'TCP', port: 53 },
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 88 },
    { protocol: 'UDP', port: 88 },
  ]);
  t.same(buildPortSpecs({ order: '80,80,443' }).map((s) => s.port), [80, 443], 'duplicates once');
  throwsUsage(t, () => buildPortSpecs({ endpoint: '80', order: '443' }), '-e and -o');
  throwsUsage(t, () => buildPortSpecs({ protocol: 'sctp' }), 'sctp');
  const ad = buildPortSpecs({ preset: 'ad' });
  t.ok(ad.some((s) => s.protocol === 'UDP' && s.port === 389), 'ad has CLDAP');
  t.ok(ad.some((s) => s.protocol === 'TCP' && s.port === 3268), 'ad has GC');
  t.ok(buildPortSpecs({ preset: 'ad', protocol: 'udp' }).every((s) => s.protocol === 'UDP'), '-p narrows a preset');
  t.same(buildPortSpecs({ preset: 'web,dns' }), [
    { protocol: 'TCP', port: 80 },
    { protocol: 'TCP', port: 443 },
    { protocol: 'TCP', port: 53 },
    { protocol: 'UDP', port: 53 },
  ]);
  throwsUsage(t, () => buildPortSpecs({ preset: 'exchange' }), 'exchange');
  const names = PRESETS.map((p) => p.name);
  t.same(new Set(names).size, names.length, 'preset names unique');
  for (const want of ['ad', 'sql', 'web', 'remoting']) t.ok(names.includes(want), `preset ${want}`);
});

t.test('targets: lists, literals, CIDR, files', async (t) => {
  t.same(parseTargets('a,b.example,10.0.0.1,[2001:db8::1],::1', undefined), ['a', 'b.example', '10.0.0.1', '2001:db8::1', '::1']);
  t.same(expandCidr('192.0.2.0/30'), ['192.0.2.1', '192.0.2.2'], 'network and broadcast skipped');
  t.same(expandCidr('192.0.2.9/32'), ['192.0.2.9']);
  t.same(expandCidr('192.0.2.8/31'), ['192.0.2.8', '192.0.2.9']);
  t.equal(expandCidr('198.51.100.77/24').length, 254);
  t.equal(expandCidr('198.51.100.77/24')[0], '198.51.100.1', 'host bits cleared');
  t.same(expandCidr('2001:db8::/126'), ['2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3']);
  t.same(expandCidr('[fe80::10]/127'), ['fe80::10', 'fe80::11']);
  t.same(expandCidr('::ffff:192.0.2.1/128'), ['::ffff:c000:201']);
  t.equal(expandCidr('10.0.0.0/16').length, 65534);
  throwsUsage(t, () => expandCidr('10.0.0.0/8'), '10.0.0.0/8');
  throwsUsage(t, () => expandCidr('10.0.0.0/33'), '10.0.0.0/33');
  throwsUsage(t, () => expandCidr('host/24'), 'host/24');
  throwsUsage(t, () => parseTargets('good,bad host', undefined), 'bad host');
  throwsUsage(t, () => parseTargets('a..b', undefined), 'a..b');
  t.same(parseTargets(undefined, '\uFEFF# servers\r\ndc01  dc02 # two\r\n\r\n192.0.2.0/31,web1\n'), ['dc01', 'dc02', '192.0.2.0', '192.0.2.1', 'web1']);
});

t.test('community, legacy argv, log helpers', async (t) => {
  t.equal(parseCommunity(undefined), 'public');
  t.equal(parseCommunity('!my community name!'), 'my community name');
  t.equal(parseCommunity('private'), 'private');
  throwsUsage(t, () => parseCommunity('!!'), '!!');
  t.same(translateLegacyArgv(['query', '-n', 'h', '-cn', '!my', 'community', 'name!', '-e', '161', '-NR', '-sl', '-sp', '53']), [
    'query', '-n', 'h', '--community', '!my community name!', '-e', '161', '--no-reverse-lookup', '--slow-link', '--source-port', '53',
  ]);
  t.same(translateLegacyArgv(['query', '-cn', '!one!']), ['query', '--community', '!one!']);
  t.match(ctimeDate(new Date(2021, 8, 6, 9, 5, 3)), /^Mon Sep 06 09:05:03 2021$/);
  t.equal(commandLineText(['query', '-n', 'h', '-cn', '!a b!']), 'portqry-ts query -n h -cn "!a b!"');
});

t.test('request: defaults, -sl, -sp, retries, probes, errors', async (t) => {
  const r = buildQueryRequest(base, () => '');
  t.equal(r.engine.timeoutMs, 1000);
  t.equal(r.engine.tcpAttempts, 3, 'PortQry: TCP three times');
  t.equal(r.engine.udpAttempts, 1, 'PortQry: UDP once');
  t.ok(r.engine.concurrency >= 16 && r.engine.concurrency <= 1024);
  t.equal(buildQueryRequest({ ...base, slowLink: true, timeout: '700' }, () => '').engine.timeoutMs, 1400, '-sl doubles');
  t.equal(buildQueryRequest({ ...base, sourcePort: '53' }, () => '').engine.concurrency, 1, '-sp: one at a time');
  t.equal(buildQueryRequest({ ...base, retries: '5' }, () => '').engine.udpAttempts, 5);
  t.ok(buildQueryRequest({ ...base, range: '130:140' }, () => '').engine.skippedProbes.has('rpc-epm'), '-r skips the endpoint mapper');
  t.same(buildQueryRequest({ ...base, host: undefined, targetsFile: 'f' }, () => 'x\ny').targets, ['x', 'y']);
  throwsUsage(t, () => buildQueryRequest({ ...base, host: undefined }, () => ''), 'no target');
  throwsUsage(t, () => buildQueryRequest({ ...base, timeout: '0' }, () => ''), "'0'");
  throwsUsage(t, () => buildQueryRequest({ ...base, retries: 'many' }, () => ''), 'many');
  throwsUsage(t, () => buildQueryRequest({ ...base, concurrency: '-1' }, () => ''), '-1');
  throwsUsage(t, () => buildQueryRequest({ ...base, sourcePort: '70000' }, () => ''), '70000');
  throwsUsage(t, () => buildQueryRequest({ ...base, probe: 'gopher' }, () => ''), 'gopher');
  throwsUsage(t, () => buildQueryRequest({ ...base, probe: 'dns', noProbe: true }, () => ''), '--no-probe');
  t.equal(buildQueryRequest({ ...base, probe: 'DNS' }, () => '').engine.forcedProbe?.name, 'dns');
});

t.test('exit code of several answers is the highest', async (t) => {
  t.equal([0, 0, 0].reduce(combineExitCodes, 0), 0);
  t.equal([0, 1, 0].reduce(combineExitCodes, 0), 1);
  t.equal([1, 2, 0].reduce(combineExitCodes, 0), 2);
  t.equal([2, 68].reduce(combineExitCodes, 0), 68);
});

t.test('probe selection: registry by port, --tls ports, --probe, --no-probe, -r', async (t) => {
  const request = (o: Partial<QueryOptionsText>) => buildQueryRequest({ ...base, ...o }, () => '').engine;
  t.equal(selectProbe({ protocol: 'UDP', port: 53 }, request({}))?.name, 'dns');
  t.equal(selectProbe({ protocol: 'TCP', port: 53 }, request({}))?.name, 'dns-tcp');
  t.equal(selectProbe({ protocol: 'TCP', port: 9443 }, request({})), undefined);
  t.equal(selectProbe({ protocol: 'TCP', port: 9443 }, request({ tls: '9443,10443' }))?.name, 'tls', '--tls');
  t.equal(selectProbe({ protocol: 'TCP', port: 389 }, request({ noProbe: true })), undefined, '--no-probe');
  t.equal(selectProbe({ protocol: 'UDP', port: 5353 }, request({ probe: 'dns' }))?.name, 'dns', '--probe on any port');
  t.equal(selectProbe({ protocol: 'TCP', port: 5353 }, request({ probe: 'dns' })), undefined, 'a datagram probe is not run over TCP');
  t.equal(selectProbe({ protocol: 'TCP', port: 135 }, request({ range: '130:140' })), undefined, '-r: no endpoint mapper');
  t.equal(selectProbe({ protocol: 'UDP', port: 135 }, request({}))?.name, 'rpc-epm-udp', 'the endpoint mapper over UDP (-p udp -e 135)');
  t.equal(selectProbe({ protocol: 'UDP', port: 135 }, request({ range: '130:140' })), undefined, '-r: no endpoint mapper over UDP either');
  throwsUsage(t, () => request({ tls: '99999' }), '99999');
});

t.test('duplicates: the first of each protocol/port, in order, whatever the mix (bitmap vs string keys)', async (t) => {
  // The rule as it was written before (string keys in a Set), applied to the expanded input.
  const reference = (specs: { protocol: string; port: number }[]) => {
    const seen = new Set<string>();
    return specs.filter((s) => !seen.has(`${s.protocol}/${s.port}`) && seen.add(`${s.protocol}/${s.port}`));
  };
  const expand = (ports: number[], protocols: string[]) => ports.flatMap((port) => protocols.map((protocol) => ({ protocol, port })));
  const cases: [Parameters<typeof buildPortSpecs>[0], { protocol: string; port: number }[]][] = [
    [{ order: '80,80,443,1-10,5,65535,1,65535', protocol: 'both' }, expand(parsePortList('-o', '80,80,443,1-10,5,65535,1,65535'), ['TCP', 'UDP'])],
    [{ order: '53,53,88,1000-1100,1050-1200,53', protocol: 'udp' }, expand(parsePortList('-o', '53,53,88,1000-1100,1050-1200,53'), ['UDP'])],
    [{ range: '1:65535', protocol: 'both' }, expand(parseRange('-r', '1:65535'), ['TCP', 'UDP'])],
  ];
  for (const [options, expanded] of cases) t.same(buildPortSpecs(options), reference(expanded), JSON.stringify(options));
  const dns = PRESETS.find((p) => p.name === 'dns')!;
  t.same(buildPortSpecs({ preset: 'dns,dns' }), reference([...dns.tcp.map((port) => ({ protocol: 'TCP', port })), ...dns.udp.map((port) => ({ protocol: 'UDP', port }))]), 'a preset named twice');
});
