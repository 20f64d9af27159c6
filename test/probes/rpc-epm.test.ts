import { spawnSync } from 'node:child_process';
import t from 'tap';
import { decodeBindAck, decodeResponse, encodeBind, encodeRequest, pduSequenceComplete } from '../../src/query/probes/codec/dcerpc';
import { guidBytes } from '../../src/query/probes/codec/guid';
import rpcEpmUdp from '../../src/query/probes/rpc-epm-udp';
import rpcEpm, { decodeLookupStub, decodeTower, dumpEndpoints, EPM_INTERFACE, encodeLookupStub } from '../../src/query/probes/rpc-epm';
import { ProbeDecodeError } from '../../src/query/probes/types';
import { schemaErrors } from '../helpers/schema';
import { connectProbeStream, runStreamProbe } from '../helpers/probe-stream';
import { skipEndpointMapper, startEndpointMapper } from '../helpers/tcp-servers';

// Captured from Samba 4.17's samba-dcerpcd: the bind_ack, and the answer to ept_lookup(max_ents 4).
const SAMBA_BIND_ACK = Buffer.from('05000c03100000003c00000001000000d016d016c538000004003133350000000100000000000000045d888aeb1cc9119fe808002b10486002000000', 'hex');
const SAMBA_LOOKUP_4 = Buffer.from(
    '05000203100000005c020000020000004402000000000000000000001a55f01a6d84b84180095b9fa351378e04000000040000000000000004000000' +
    '000000000000000000000000000000000100000000000000090000006576656e746c6f67000000000000000000000000000000000000000002000000' +
    '00000000070000006e74737663730000000000000000000000000000000000000300000000000000070000006e747376637300000000000000000000' +
    '000000000000000004000000000000001300000046696c655365727665725673734167656e7400005500000055000000050013000ddc3f27822ae3c3' +
    '183f78827929dc23ea00000200000013000d045d888aeb1cc9119fe808002b10486002000200000001000b0200000001000f0f005c706970655c6576' +
    '656e746c6f67000100110100000000005300000053000000050013000d404e9f8d3da0ce118f6908003e30051b01000200000013000d045d888aeb1c' +
    'c9119fe808002b10486002000200000001000b0200000001000f0d005c706970655c6e74737663730001001101000000550000005500000005001300' +
    '0d404e9f8d3da0ce118f6908003e30051b01000200000013000d045d888aeb1cc9119fe808002b10486002000200000001000b0200000001000f0f00' +
    '5c706970655c706c7567706c6179000100110100000000005800000058000000050013000d3c65e0a844278943a61d7373df8b229201000200000013' +
    '000d045d888aeb1cc9119fe808002b10486002000200000001000b0200000001000f12005c706970655c4673736167656e7452706300010011010000' +
    '00000000',
  'hex',
);

/** A tower (C706 Appendix L) from floors given as [lhs, rhs] byte arrays. */
function tower(floors: [Buffer, Buffer][]): Buffer {
  const count = Buffer.alloc(2);
  count.writeUInt16LE(floors.length);
  const parts = floors.flatMap(([lhs, rhs]) => {
    const l = Buffer.alloc(2);
    l.writeUInt16LE(lhs.length);
    const r = Buffer.alloc(2);
    r.writeUInt16LE(rhs.length);
    return [l, lhs, r, rhs];
  });
  return Buffer.concat([count, ...parts]);
}
const u16le = (n: number) => Buffer.from([n & 0xff, n >> 8]);
const u16be = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const ifaceFloor = (uuid: string, major: number): [Buffer, Buffer] => [Buffer.concat([Buffer.from([0x0d]), guidBytes(uuid), u16le(major)]), u16le(0)];
const ndrFloor = ifaceFloor('8a885d04-1ceb-11c9-9fe8-08002b104860', 2);

t.test('bind: the endpoint mapper interface v3.0 over NDR; Samba accepts it', async (t) => {
  const bind = encodeBind(EPM_INTERFACE, 1);
  t.equal(bind.length, 72);
  t.equal(bind.subarray(0, 4).toString('hex'), '05000b03', 'version 5.0, bind, first+last fragment');
  t.equal(bind.subarray(32, 52).toString('hex'), '0883afe11f5dc91191a408002b14a0fa03000000', 'e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0');
  t.same(decodeBindAck(SAMBA_BIND_ACK, 1), { secondaryAddress: '135' });
  const nak = Buffer.from('05000d03100000001200000001000000' + '0400', 'hex');
  t.throws(() => decodeBindAck(nak, 1), /protocol version not supported/);
});

t.test('ept_lookup request stub: all elements, no filters, all versions, the entry handle', async (t) => {
  const stub = encodeLookupStub(Buffer.alloc(20, 0xab), 4);
  t.equal(stub.toString('hex'), '00000000' + '00000000' + '00000000' + '01000000' + 'ab'.repeat(20) + '04000000');
  const request = encodeRequest(2, stub, 7);
  t.equal(request.readUInt16LE(22), 2, 'opnum 2 = ept_lookup');
  t.equal(request.readUInt32LE(12), 7, 'call id');
});

t.test('Samba answer: entries, towers, annotations, the continuation handle', async (t) => {
  t.ok(pduSequenceComplete(SAMBA_LOOKUP_4));
  const answer = decodeLookupStub(decodeResponse(SAMBA_LOOKUP_4, 2));
  t.equal(answer.status, 0);
  t.notOk(answer.entryHandle.every((b) => b === 0), 'more entries to come');
  t.same(answer.entries[0], {
    Uuid: '82273fdc-e32a-18c3-3f78-827929dc23ea', InterfaceVersion: '0.0', ProtocolSequence: 'ncacn_np', NetworkAddress: '',
    Endpoint: '\\pipe\\eventlog', Binding: 'ncacn_np:[\\pipe\\eventlog]', ObjectUuid: null, Annotation: 'eventlog',
  });
  t.same(answer.entries.map((e) => e.Annotation), ['eventlog', 'ntsvcs', 'ntsvcs', 'FileServerVssAgent']);
  const fields = { EntryCount: answer.entries.length, Entries: answer.entries };
  t.same(schemaErrors('probe-data-rpc-epm.schema.json', fields), []);
  t.same(Object.keys(answer.entries[0]!), ['Uuid', 'InterfaceVersion', 'ObjectUuid', 'Annotation', 'ProtocolSequence', 'NetworkAddress', 'Endpoint', 'Binding'], 'keys in schema order');
});

t.test('Windows-style towers (built from C706 Appendix L) give PortQry binding strings', async (t) => {
  const ip = Buffer.from([169, 254, 12, 191]);
  t.match(decodeTower(tower([ifaceFloor('50abc2a4-574d-40b3-9d66-ee4fd5fba076', 5), ndrFloor, [Buffer.from([0x0b]), u16le(0)], [Buffer.from([0x07]), u16be(4144)], [Buffer.from([0x09]), ip]])), {
    Uuid: '50abc2a4-574d-40b3-9d66-ee4fd5fba076', InterfaceVersion: '5.0', Binding: 'ncacn_ip_tcp:169.254.12.191[4144]',
  });
  t.match(decodeTower(tower([ifaceFloor('ecec0d70-a603-11d0-96b1-00a0c91ece30', 1), ndrFloor, [Buffer.from([0x0b]), u16le(0)], [Buffer.from([0x0f]), Buffer.from('\\PIPE\\lsass\0')], [Buffer.from([0x11]), Buffer.from('\\\\MYSERVER\0')]])), {
    Binding: 'ncacn_np:\\\\MYSERVER[\\PIPE\\lsass]',
  });
  t.match(decodeTower(tower([ifaceFloor('e3514235-4b06-11d1-ab04-00c04fc2dcd2', 4), ndrFloor, [Buffer.from([0x0a]), u16le(0)], [Buffer.from([0x08]), u16be(1032)], [Buffer.from([0x09]), ip]])), {
    Binding: 'ncadg_ip_udp:169.254.12.191[1032]',
  });
  t.match(decodeTower(tower([ifaceFloor('12345778-1234-abcd-ef00-0123456789ac', 1), ndrFloor, [Buffer.from([0x0c]), u16le(0)], [Buffer.from([0x10]), Buffer.from('LRPC-0123\0')]])), {
    Binding: 'ncalrpc:[LRPC-0123]',
  });
  const fields = {
    EntryCount: 2,
    Entries: [
      { Uuid: '50abc2a4-574d-40b3-9d66-ee4fd5fba076', Annotation: '', Binding: 'ncacn_ip_tcp:169.254.12.191[4144]' },
      { Uuid: 'ecec0d70-a603-11d0-96b1-00a0c91ece30', Annotation: 'NTDS Backup Interface', Binding: 'ncacn_np:\\\\MYSERVER[\\PIPE\\lsass]' },
    ],
  };
  // PortQry's layout (reference §4.2).
  t.same(rpcEpm.describe!(fields), [
    "Server's response:",
    '',
    'UUID: 50abc2a4-574d-40b3-9d66-ee4fd5fba076',
    'ncacn_ip_tcp:169.254.12.191[4144]',
    '',
    'UUID: ecec0d70-a603-11d0-96b1-00a0c91ece30 NTDS Backup Interface',
    'ncacn_np:\\\\MYSERVER[\\PIPE\\lsass]',
    '',
    'Total endpoints found: 2',
    '',
    '==== End of RPC Endpoint Mapper query response ====',
  ]);
});

t.test('every cut and random corruption of the answers: fields or ProbeDecodeError, never a crash', async (t) => {
  const failures: string[] = [];
  const decodeAll = (b: Buffer) => decodeLookupStub(decodeResponse(b, 2));
  let seed = 5;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (const [fixture, decode] of [[SAMBA_LOOKUP_4, decodeAll], [SAMBA_BIND_ACK, (b: Buffer) => decodeBindAck(b, 1)]] as const) {
    for (let n = 0; n < fixture.length; n++) {
      pduSequenceComplete(fixture.subarray(0, n));
      try {
        decode(fixture.subarray(0, n));
        failures.push(`cut at ${n} decoded as whole`);
      } catch (e) {
        if (!(e instanceof ProbeDecodeError)) failures.push(`cut at ${n}: ${(e as Error).stack}`);
      }
    }
    for (let i = 0; i < 3000; i++) {
      const copy = Buffer.from(fixture);
      for (let f = 0; f <= random() % 3; f++) copy[random() % copy.length] = random() & 0xff;
      try {
        pduSequenceComplete(copy);
        decode(copy);
      } catch (e) {
        if (!(e instanceof ProbeDecodeError)) failures.push(`${copy.toString('hex')}: ${(e as Error).stack}`);
      }
    }
  }
  // The stub decoder alone, on the stub of the real answer (no PDU framing to hide behind).
  const stub = decodeResponse(SAMBA_LOOKUP_4, 2);
  for (let n = 0; n < stub.length; n++) {
    try {
      decodeLookupStub(stub.subarray(0, n));
      failures.push(`stub cut at ${n} decoded as whole`);
    } catch (e) {
      if (!(e instanceof ProbeDecodeError)) failures.push(`stub cut at ${n}: ${(e as Error).stack}`);
    }
  }
  t.same(failures, []);
});

t.test('Samba endpoint mapper on port 135 in a network namespace', { skip: skipEndpointMapper }, async (t) => {
  const { netns, address } = await startEndpointMapper(t);
  const fields = await runStreamProbe(rpcEpm, 135, { address, host: address });
  const entries = fields.Entries as { Binding: string; Annotation: string; Uuid: string }[];
  t.equal(fields.EntryCount, entries.length);
  t.ok(entries.length >= 10, `${entries.length} endpoints`);
  t.ok(entries.some((e) => e.Binding === `ncacn_ip_tcp:${address}[135]`), 'the endpoint mapper itself on TCP 135');
  t.ok(entries.some((e) => e.Uuid === EPM_INTERFACE.uuid), 'the endpoint mapper interface is registered');
  t.ok(entries.some((e) => e.Binding.startsWith('ncacn_np:') && e.Annotation === 'winreg'), 'winreg over a named pipe');
  // Every ncacn_ip_tcp port the endpoint mapper names is one samba-dcerpcd listens on (ss inside the namespace).
  const ss = spawnSync('ip', ['netns', 'exec', netns, 'ss', '-Htln'], { encoding: 'utf8' }).stdout;
  for (const e of entries.filter((x) => x.Binding.startsWith('ncacn_ip_tcp:'))) {
    const port = /\[(\d+)\]$/.exec(e.Binding)![1];
    t.match(ss, new RegExp(`${address.replace(/\./g, '\\.')}:${port}\\b`), `${e.Binding} is listening`);
  }
  // Small batches: the entry_handle loop returns the same dump.
  const stream = await connectProbeStream(address, 135);
  t.teardown(() => stream.close());
  const batched = await dumpEndpoints(stream, 3000, 4);
  t.same(batched, entries, 'ept_lookup in batches of 4 gives the same entries');
  const text = rpcEpm.describe!(fields);
  t.equal(text[text.length - 1], '==== End of RPC Endpoint Mapper query response ====');
  t.ok(text.includes(`Total endpoints found: ${entries.length}`));
});

// The endpoint mapper over UDP (ncadg_ip_udp, C706 12.5): no real connectionless endpoint mapper runs
// here (Samba serves ncacn only), so the answer is Samba's ept_lookup stub above in a connectionless
// response header built by hand from C706 12.5.3.1.
t.test('rpc-epm-udp: connectionless ept_lookup request and response', async (t) => {
  const ctx = { host: 'dc01', address: '198.18.0.2', port: 135, community: 'public', timeoutMs: 1000 };
  const request = rpcEpmUdp.encode(ctx);
  t.equal(request.length, 80 + 40);
  t.equal(request.subarray(0, 8).toString('hex'), '04002000' + '10000000', 'version 4, request, idempotent, little-endian');
  t.equal(request.subarray(8, 24).toString('hex'), '00'.repeat(16), 'nil object');
  t.equal(request.subarray(24, 40).toString('hex'), '0883afe11f5dc91191a408002b14a0fa', 'endpoint mapper interface');
  t.equal(request.subarray(56, 80).toString('hex'), '00000000' + '03000000' + '00000000' + '0200' + 'ffff' + 'ffff' + '2800' + '0000' + '00' + '00', 'boot, v3.0, seq 0, opnum 2, hints, length 40, fragment 0');
  t.equal(request.subarray(80).toString('hex'), '00000000' + '00000000' + '00000000' + '01000000' + '00'.repeat(20) + '05000000', 'the TCP probe\'s stub, 5 entries');

  const stub = SAMBA_LOOKUP_4.subarray(24);
  const response = (type: number, flags: number, body: Buffer, activity = request.subarray(40, 56), fragnum = 0) => {
    const h = Buffer.from(request.subarray(0, 80));
    h.writeUInt8(type, 1);
    h.writeUInt8(flags, 2);
    activity.copy(h, 40);
    h.writeUInt16LE(body.length, 74);
    h.writeUInt16LE(fragnum, 76);
    return Buffer.concat([h, body]);
  };
  const fields = rpcEpmUdp.decode(response(2, 0x00, stub), ctx);
  const expected = decodeLookupStub(stub);
  t.same(fields, { EntryCount: 4, Entries: expected.entries, More: true });
  t.equal((fields.Entries as { Binding: string }[])[0]!.Binding, expected.entries[0]!.Binding);
  t.match(rpcEpmUdp.describe!(fields).join('\n'), /Total endpoints found: 4/);

  const fault = Buffer.alloc(4);
  fault.writeUInt32LE(0x1c010003);
  t.throws(() => rpcEpmUdp.decode(response(3, 0, fault), ctx), { name: 'ProbeDecodeError', message: 'DCE/RPC fault nca_s_unknown_if' });
  t.throws(() => rpcEpmUdp.decode(response(6, 0, fault), ctx), { message: 'DCE/RPC reject nca_s_unknown_if' });
  t.throws(() => rpcEpmUdp.decode(response(2, 0x04, stub), ctx), /several fragments/);
  t.throws(() => rpcEpmUdp.decode(response(2, 0x04, stub, undefined, 1), ctx), /fragment 1 without the first/);
  t.throws(() => rpcEpmUdp.decode(response(2, 0, stub, Buffer.alloc(16, 1)), ctx), /not ours/);
  t.throws(() => rpcEpmUdp.decode(response(2, 0, stub).subarray(0, 100), ctx), /cut/);
  t.ok(rpcEpmUdp.decode(response(2, 0x06, stub), ctx), 'a single last fragment is whole');
});
