import t from 'tap';
import { encodeHeader } from '../../src/query/probes/codec/dns';
import netbiosNs, { decodeNodeStatusResponse, encodeNodeStatusRequest } from '../../src/query/probes/netbios-ns';
import { startNmbd, unavailable } from '../helpers/udp-servers';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

const ctx = { host: 'dc01', address: '127.0.0.1', port: 137, community: 'public', timeoutMs: 1000 };

function nameEntry(name: string, suffix: number, flags: number): Buffer {
  const b = Buffer.alloc(18, 0x20);
  b.write(name, 0, 'latin1');
  b[15] = suffix;
  b.writeUInt16BE(flags, 16);
  return b;
}

/** A Windows DC's node status response built from RFC 1002 §4.2.18 (names as `nbtstat -A` shows them). */
function fixtureResponse(): Buffer {
  const names = [nameEntry('DC01', 0x00, 0x0400), nameEntry('CONTOSO', 0x00, 0x8400), nameEntry('CONTOSO', 0x1c, 0x8400), nameEntry('DC01', 0x20, 0x0400), nameEntry('CONTOSO', 0x1b, 0x0400), nameEntry('OLDNAME', 0x00, 0x1400)];
  const stats = Buffer.alloc(46);
  Buffer.from('00155d01c61e', 'hex').copy(stats);
  const rdata = Buffer.concat([Buffer.from([names.length]), ...names, stats]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(0x21, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt16BE(rdata.length, 8);
  const rrName = encodeNodeStatusRequest().subarray(12, 12 + 34);
  return Buffer.concat([encodeHeader({ id: 0x5051, flags: 0x8400, qdCount: 0, anCount: 1, nsCount: 0, arCount: 0 }), rrName, fixed, rdata]);
}

t.test('the request is the NBSTAT query for "*" (RFC 1002 §4.2.17, as nbtstat -A sends it)', async (t) => {
  const wildcard = Buffer.from('CK' + 'A'.repeat(30), 'ascii').toString('hex'); // "*" + 15 NULs, first-level encoded
  t.equal(encodeNodeStatusRequest().toString('hex'), `505100000001000000000000` + `20${wildcard}00` + '00210001');
});

t.test('decodes names with suffix, type, status, and the MAC address', async (t) => {
  const fields = decodeNodeStatusResponse(fixtureResponse());
  t.equal(fields.MachineName, 'DC01');
  t.equal(fields.Workgroup, 'CONTOSO');
  t.equal(fields.MacAddress, '00-15-5D-01-C6-1E');
  t.same((fields.Names as unknown[])[2], { Name: 'CONTOSO', Suffix: '1C', Type: 'GROUP', Status: 'Registered', Permanent: false, NodeType: 'B' });
  t.same((fields.Names as unknown[])[5], { Name: 'OLDNAME', Suffix: '00', Type: 'UNIQUE', Status: 'Deregistering', Permanent: false, NodeType: 'B' });
  t.same(schemaErrors(probeDataSchema('netbios-ns'), fields), []);
  t.same(netbiosNs.describe!(fields).slice(0, 5), [
    "Server's response: MAC address 00155d01c61e",
    '',
    '    Name               Type         Status',
    '    ---------------------------------------------',
    '    DC01           <00>  UNIQUE      Registered',
  ]);
});

t.test('errors and non-answers are ProbeDecodeError', async (t) => {
  t.throws(() => decodeNodeStatusResponse(encodeNodeStatusRequest()), /request, not a response/);
  const negative = fixtureResponse();
  negative.writeUInt16BE(0x8403, 2);
  t.throws(() => decodeNodeStatusResponse(negative), /rcode 3/);
});

t.test('truncated and mutated responses: ProbeDecodeError or fields, never a crash', async (t) => {
  t.same(decoderFailures(decodeNodeStatusResponse, fixtureResponse()), []);
  // Statistics after the MAC are optional, so prefixes that keep the names and MAC may decode.
  t.ok(acceptedPrefixes(decodeNodeStatusResponse, fixtureResponse()).every((n) => n >= fixtureResponse().length - 40));
});

t.test('real server: Samba nmbd in a network namespace answers the node status query', { skip: unavailable('nmbd', 'samba (nmbd)', true) }, async (t) => {
  const request = netbiosNs.encode(ctx);
  const server = await startNmbd(t, request, (reply) => Boolean(decodeNodeStatusResponse(reply).MachineName));
  const reply = server.firstReply;
  const fields = netbiosNs.decode(reply, ctx);
  t.equal(fields.MachineName, 'PUDPTEST');
  t.equal(fields.Workgroup, 'PUDPGROUP');
  t.match(fields.MacAddress, /^([0-9A-F]{2}-){5}[0-9A-F]{2}$/);
  t.ok((fields.Names as { Suffix: string }[]).some((n) => n.Suffix === '20'), 'the file server name <20> is registered');
  t.same(schemaErrors(probeDataSchema('netbios-ns'), fields), []);
  t.same(decoderFailures(decodeNodeStatusResponse, reply), []);
});
