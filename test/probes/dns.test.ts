import t from 'tap';
import { encodeHeader, encodeName } from '../../src/query/probes/codec/dns';
import dns, { decodeDnsReply, encodeDnsQuery } from '../../src/query/probes/dns';
import dnsTcp from '../../src/query/probes/dns-tcp';
import { startDnsmasq, unavailable } from '../helpers/udp-servers';
import { connectProbeStream } from '../helpers/probe-stream';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

const ctx = { host: '127.0.0.1', address: '127.0.0.1', port: 53, community: 'public', timeoutMs: 1000 };

function rr(nameOrPointer: Buffer, type: number, ttl: number, data: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([nameOrPointer, fixed, data]);
}

/** A reply built by hand (RFC 1035 §4.1): question echoed, answers with compression pointers to it. */
function fixtureReply(): Buffer {
  const question = Buffer.concat([encodeName('portqry.microsoft.com'), Buffer.from('00010001', 'hex')]);
  const toQuestion = Buffer.from('c00c', 'hex');
  const toMicrosoft = Buffer.from('c014', 'hex'); // "microsoft.com" inside the question name
  const answers = [
    rr(toQuestion, 5, 300, Buffer.concat([Buffer.from([3]), Buffer.from('www'), toMicrosoft])),
    rr(toQuestion, 1, 60, Buffer.from([192, 0, 2, 7])),
    rr(toQuestion, 28, 60, Buffer.from('20010db8000000000000000000000001', 'hex')),
    rr(toQuestion, 16, 60, Buffer.from('\x05hello\x05world', 'latin1')),
    rr(toQuestion, 15, 60, Buffer.concat([Buffer.from('000a', 'hex'), encodeName('mx.example')])),
  ];
  const soa = rr(toMicrosoft, 6, 3600, Buffer.concat([encodeName('ns1.example'), encodeName('hostmaster.example'), Buffer.from('00000001000000020000000300000004000000050', 'hex').subarray(0, 20)]));
  const header = encodeHeader({ id: 0x5051, flags: 0x8580, qdCount: 1, anCount: answers.length, nsCount: 1, arCount: 0 });
  return Buffer.concat([header, question, ...answers, soa]);
}

t.test('the query is PortQry\'s: A portqry.microsoft.com, recursion desired', async (t) => {
  const q = encodeDnsQuery();
  t.equal(q.toString('hex'), '50510100000100000000000007706f7274717279096d6963726f736f667403636f6d0000010001');
  t.equal(dns.encode(ctx).toString('hex'), q.toString('hex'));
});

t.test('decodes answers of every common type, following compression pointers', async (t) => {
  const fields = decodeDnsReply(fixtureReply());
  t.same(fields, {
    QueryName: 'portqry.microsoft.com',
    ResponseCode: 'NOERROR',
    Authoritative: true,
    Truncated: false,
    RecursionAvailable: true,
    Answers: [
      { Name: 'portqry.microsoft.com', Type: 'CNAME', Ttl: 300, Data: 'www.microsoft.com' },
      { Name: 'portqry.microsoft.com', Type: 'A', Ttl: 60, Data: '192.0.2.7' },
      { Name: 'portqry.microsoft.com', Type: 'AAAA', Ttl: 60, Data: '2001:db8::1' },
      { Name: 'portqry.microsoft.com', Type: 'TXT', Ttl: 60, Data: '"hello" "world"' },
      { Name: 'portqry.microsoft.com', Type: 'MX', Ttl: 60, Data: '10 mx.example' },
    ],
    Authority: [{ Name: 'microsoft.com', Type: 'SOA', Ttl: 3600, Data: 'ns1.example hostmaster.example 1 2 3 4 5' }],
  });
  t.same(schemaErrors(probeDataSchema('dns'), fields), []);
  t.same(dns.describe!(fields).slice(0, 2), ['DNS response: NOERROR (authoritative)', 'Answer: portqry.microsoft.com 300 CNAME www.microsoft.com']);
});

t.test('rejects what is not our answer', async (t) => {
  t.throws(() => decodeDnsReply(encodeDnsQuery()), /query, not a response/);
  const other = fixtureReply();
  other.writeUInt16BE(0x1234, 0);
  t.throws(() => decodeDnsReply(other), /does not match/);
  const loop = Buffer.concat([encodeHeader({ id: 0x5051, flags: 0x8180, qdCount: 1, anCount: 0, nsCount: 0, arCount: 0 }), Buffer.from('c00c00010001', 'hex')]);
  t.throws(() => decodeDnsReply(loop), /backwards/, 'a pointer to itself is refused, not followed forever');
});

t.test('truncated and mutated replies: ProbeDecodeError or fields, never a crash', async (t) => {
  t.same(decoderFailures(decodeDnsReply, fixtureReply()), []);
  t.same(acceptedPrefixes(decodeDnsReply, fixtureReply()), [], 'no proper prefix decodes');
});

t.test('real server: dnsmasq on loopback answers over UDP and TCP', { skip: unavailable('dnsmasq', 'dnsmasq') }, async (t) => {
  const server = await startDnsmasq(t, dns.encode(ctx));
  const reply = server.firstReply;
  const fields = dns.decode(reply, ctx);
  t.equal(fields.ResponseCode, 'NOERROR');
  t.same(fields.Answers, [{ Name: 'portqry.microsoft.com', Type: 'A', Ttl: 0, Data: '192.0.2.53' }]);
  t.same(schemaErrors(probeDataSchema('dns'), fields), []);
  t.same(decoderFailures(decodeDnsReply, reply), [], 'the real reply survives truncation and mutation');

  const stream = await connectProbeStream(server.address, server.port);
  t.teardown(() => stream.close());
  const overTcp = await dnsTcp.converse(stream, ctx);
  t.same(overTcp, fields, 'the TCP variant decodes the same answer');
  t.same(schemaErrors(probeDataSchema('dns-tcp'), overTcp), []);
});
