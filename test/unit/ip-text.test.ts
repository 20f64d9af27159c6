import { isIP } from 'node:net';
import t from 'tap';
import { ipVersion } from '../../src/portreporter/ip-text';

// ipVersion must answer exactly what net.isIP answers (parse's worker threads cannot load node:net
// inside the executable: src/portreporter/ip-text.ts). Edge cases, then random texts made of the
// pieces addresses are made of.
const EDGE = [
  '', '0', '1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4\n',
  '::', ':', ':::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::3:4:5:6:7:8',
  '1:2:3:4:5:6::7:8', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%eth0%1', 'fe80::1%a:b.c-d', 'fe80::1%eth 0', 'FFFF::abcd', 'fffff::1', 'g::1', '1:::2', '1::2::3',
  '::ffff:1.2.3.4', '::1.2.3.4', '1.2.3.4::', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4', '::2:3:4:5:6:1.2.3.4',
  '::2:3:4:5:6:7:1.2.3.4', '1::1.2.3.4', '1::01.2.3.4', '1:2:3:4:5:6:7:', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8%z', '::%1', '1.2.3.4%eth0', '::1.2.3', '::1.2.3.4:5',
  '0000:0000:0000:0000:0000:0000:0000:0001', '00000::1', '2001:db8::', '2001:db8::1:0:0:1', 'a:b:c:d:e:f:a:b', 'A:B:C:D:E:F:A:B', '::1%-', '::1%.', '::1%:',
];

t.test('edge cases', async (t) => {
  for (const s of EDGE) t.equal(ipVersion(s), isIP(s), JSON.stringify(s));
});

t.test('random texts from address pieces', async (t) => {
  const pieces = ['0', '1', '9', '00', '01', '10', '99', '255', '256', '300', 'a', 'F', 'ff', 'abc', 'dead', 'BEEF', '12345', 'g', ':', ':', '::', '.', '.', '1.2.3.4', '%', 'eth0', '-', ' '];
  let seed = 42;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return (seed >>> 8) % n;
  };
  let mismatches = 0;
  let v4 = 0;
  let v6 = 0;
  for (let i = 0; i < 300_000; i++) {
    let s = '';
    const n = 1 + rand(16);
    for (let k = 0; k < n; k++) s += pieces[rand(pieces.length)];
    const want = isIP(s);
    if (want === 4) v4++;
    if (want === 6) v6++;
    if (ipVersion(s) !== want && mismatches++ < 10) t.fail(`${JSON.stringify(s)}: net.isIP ${want}, ipVersion ${ipVersion(s)}`);
  }
  // Dotted texts: every part count, leading zeros, values around 255.
  const octets = ['0', '1', '9', '00', '01', '10', '99', '100', '199', '249', '250', '255', '256', '299', '300', '1000', '', 'a'];
  for (let i = 0; i < 100_000; i++) {
    const n = 2 + rand(5);
    let s = Array.from({ length: n }, () => octets[rand(octets.length)]).join('.');
    if (rand(4) === 0) s = `::ffff:${s}`;
    const want = isIP(s);
    if (want === 4) v4++;
    if (ipVersion(s) !== want && mismatches++ < 10) t.fail(`${JSON.stringify(s)}: net.isIP ${want}, ipVersion ${ipVersion(s)}`);
  }
  // Real addresses too: every group count and gap position.
  for (let i = 0; i < 100_000; i++) {
    const groups = Array.from({ length: 8 }, () => rand(0x10000).toString(16));
    let s = groups.join(':');
    if (rand(2)) {
      const a = rand(8);
      const b = a + rand(8 - a) + 1;
      s = `${groups.slice(0, a).join(':')}::${groups.slice(b).join(':')}`;
    }
    if (rand(4) === 0) s += `%eth${rand(3)}`;
    const want = isIP(s);
    if (want === 6) v6++;
    if (ipVersion(s) !== want && mismatches++ < 10) t.fail(`${JSON.stringify(s)}: net.isIP ${want}, ipVersion ${ipVersion(s)}`);
  }
  t.equal(mismatches, 0, 'no text where the answers differ');
  t.ok(v4 > 100 && v6 > 50_000, `both kinds among the texts (${v4} IPv4, ${v6} IPv6)`);
});
