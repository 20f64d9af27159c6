import t from 'tap';
import {
  anySockaddr,
  decodeFdSet,
  decodeIcmpErrorInfo,
  decodeSockaddr,
  encodeFdSet,
  encodeInitialRto,
  encodeSockaddr,
  encodeTimeval,
  ipv6Bytes,
} from '../../src/query/winsock-sockaddr';

// Byte layouts from ws2def.h / ws2ipdef.h / mstcpip.h, written out by hand.

t.test('SOCKADDR_IN', async (t) => {
  t.equal(encodeSockaddr('198.18.7.2', 443).toString('hex'), '0200' + '01bb' + 'c6120702' + '0000000000000000');
  t.equal(encodeSockaddr('127.0.0.1', 65535).toString('hex'), '0200ffff7f0000010000000000000000');
  t.equal(anySockaddr('10.1.2.3', 500).toString('hex'), '020001f4000000000000000000000000');
  t.same(decodeSockaddr(Buffer.from('0200c35a7f0000010000000000000000', 'hex')), { address: '127.0.0.1', port: 50010 });
});

t.test('SOCKADDR_IN6 (AF_INET6 is 23 on Windows)', async (t) => {
  const buf = encodeSockaddr('fd00:198:18:7::2', 53);
  t.equal(buf.length, 28);
  t.equal(buf.toString('hex'), '1700' + '0035' + '00000000' + 'fd000198001800070000000000000002' + '00000000');
  t.equal(encodeSockaddr('::1', 1).toString('hex'), '1700000100000000' + '00000000000000000000000000000001' + '00000000');
  t.equal(encodeSockaddr('fe80::1%12', 80).subarray(24).toString('hex'), '0c000000', 'numeric zone → sin6_scope_id');
  t.equal(anySockaddr('::1', 0).toString('hex'), '1700000000000000' + '0'.repeat(32) + '00000000');
  t.equal(ipv6Bytes('::ffff:198.18.0.1').bytes.toString('hex'), '00000000000000000000ffffc6120001', 'embedded IPv4');
  t.equal(ipv6Bytes('2001:db8::').bytes.toString('hex'), '20010db8000000000000000000000000');
  t.equal(ipv6Bytes('1:2:3:4:5:6:7:8').bytes.toString('hex'), '00010002000300040005000600070008');
  t.same(decodeSockaddr(buf), { address: 'fd00:198:18:7::2', port: 53 });
  t.equal(decodeSockaddr(Buffer.from('0a00' + '0'.repeat(52), 'hex')), null, 'another family');
  t.throws(() => encodeSockaddr('host.example', 1), /not an IPv6 address/);
});

t.test('fd_set, TIMEVAL, TCP_INITIAL_RTO_PARAMETERS, ICMP_ERROR_INFO', async (t) => {
  const set = encodeFdSet([0x1a4n, 0xffff_0000_0000_0010n]);
  t.equal(set.toString('hex'), '02000000' + '00000000' + 'a401000000000000' + '100000000000ffff');
  t.same(decodeFdSet(set), [0x1a4n, 0xffff_0000_0000_0010n]);
  const reused = encodeFdSet([7n], Buffer.alloc(64, 0xee));
  t.equal(reused.readUInt32LE(0), 1);
  t.same(decodeFdSet(reused), [7n]);
  t.equal(encodeTimeval(2750).toString('hex'), '02000000' + 'b0710b00', '2 s + 750000 µs');
  t.equal(encodeTimeval(-5).toString('hex'), '0000000000000000');
  t.equal(encodeInitialRto(0xffff, 0xfe).toString('hex'), 'fffffe00', 'Rtt unspecified, NO_SYN_RETRANSMISSIONS');
  const info = Buffer.alloc(36);
  encodeSockaddr('198.18.7.2', 0).copy(info, 0);
  info.writeInt32LE(6, 28);
  info.writeUInt8(3, 32);
  info.writeUInt8(13, 33);
  t.same(decodeIcmpErrorInfo(info), { source: '198.18.7.2', v6: false, type: 3, code: 13 });
  const info6 = Buffer.alloc(36);
  encodeSockaddr('fd00::1', 0).copy(info6, 0);
  info6.writeUInt8(1, 32);
  info6.writeUInt8(4, 33);
  t.same(decodeIcmpErrorInfo(info6), { source: 'fd00::1', v6: true, type: 1, code: 4 });
  t.equal(decodeIcmpErrorInfo(Buffer.alloc(36)), null, 'nothing recorded');
});
