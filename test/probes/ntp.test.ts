import t from 'tap';
import ntp, { decodeNtpReply, encodeNtpRequest } from '../../src/query/probes/ntp';
import { startChronyd, unavailable } from '../helpers/udp-servers';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

const ctx = { host: '127.0.0.1', address: '127.0.0.1', port: 123, community: 'public', timeoutMs: 1000 };

/** NTP timestamp bytes for a Unix time in ms. */
function ts(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(ms / 1000) + 2208988800, 0);
  b.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32), 4);
  return b;
}

/** A stratum-2 server reply (RFC 5905 §7.3) whose clock runs 250 ms ahead, 20 ms each way. */
function fixtureReply(t1: number): Buffer {
  const head = Buffer.from([0x24, 2, 6, 0xe9, 0, 0, 0x02, 0x00, 0, 0, 0x01, 0x00, 192, 0, 2, 10]);
  return Buffer.concat([head, ts(t1 - 60_000), ts(t1), ts(t1 + 20 + 250), ts(t1 + 21 + 250)]);
}

t.test('the request is a 48-byte v4 client packet carrying our clock', async (t) => {
  const req = encodeNtpRequest(new Date('2026-11-25T22:39:16.500Z'));
  t.equal(req.length, 48);
  t.equal(req[0], 0x23);
  t.equal(req.subarray(40).toString('hex'), ts(Date.parse('2026-11-25T22:39:16.500Z')).toString('hex'));
});

t.test('decodes stratum, reference, times and computes offset and round trip (RFC 5905 §8)', async (t) => {
  const t1 = Date.parse('2026-11-25T22:39:16.000Z');
  const fields = decodeNtpReply(fixtureReply(t1), new Date(t1 + 41));
  t.equal(fields.Stratum, 2);
  t.equal(fields.ReferenceId, '192.0.2.10');
  t.equal(fields.Mode, 'server');
  t.equal(fields.PollIntervalSeconds, 64);
  t.equal(fields.RootDelayMs, 7.813);
  t.equal(fields.RootDispersionMs, 3.906);
  t.equal(fields.ReceiveTime, '2026-11-25T22:39:16.270Z');
  t.ok(Math.abs((fields.ClockOffsetMs as number) - 250) < 0.01, `offset ${String(fields.ClockOffsetMs)}`);
  t.ok(Math.abs((fields.RoundTripMs as number) - 40) < 0.01, `round trip ${String(fields.RoundTripMs)}`);
  t.same(ntp.describe!(fields)[0], 'NTP v4 server: stratum 2, reference 192.0.2.10');
  t.same(schemaErrors(probeDataSchema('ntp'), fields), []);
});

t.test('a kiss-o\'-death reply gives its code', async (t) => {
  const kod = fixtureReply(Date.now());
  kod[1] = 0;
  kod.write('RATE', 12, 'latin1');
  const fields = decodeNtpReply(kod);
  t.equal(fields.KissCode, 'RATE');
  t.equal(fields.ClockOffsetMs, null);
  t.same(ntp.describe!(fields), ['NTP server refused the request: kiss code RATE']);
  t.same(schemaErrors(probeDataSchema('ntp'), fields), []);
});

t.test('client packets, short and mutated replies: ProbeDecodeError or fields', async (t) => {
  t.throws(() => decodeNtpReply(encodeNtpRequest()), /not a server reply/);
  t.same(decoderFailures((b) => decodeNtpReply(b), fixtureReply(Date.now())), []);
  t.same(acceptedPrefixes((b) => decodeNtpReply(b), fixtureReply(Date.now())), []);
});

t.test('real server: chronyd on loopback (local stratum 8) answers with its time', { skip: unavailable('chronyd', 'chrony') }, async (t) => {
  const server = await startChronyd(t, ntp.encode(ctx));
  const reply = server.firstReply;
  const fields = ntp.decode(reply, ctx);
  t.equal(fields.Mode, 'server');
  t.equal(fields.Stratum, 8);
  t.equal(fields.ReferenceId, '127.127.1.1', 'chrony\'s local reference');
  t.ok(Math.abs(fields.ClockOffsetMs as number) < 1000, 'same machine: the offset is the measurement noise');
  t.ok(Math.abs(Date.parse(fields.TransmitTime as string) - Date.now()) < 5000);
  t.same(schemaErrors(probeDataSchema('ntp'), fields), []);
  t.same(decoderFailures((b) => decodeNtpReply(b), reply), []);
});
