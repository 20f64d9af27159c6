import t from 'tap';
import tftp, { decodeTftpReply, encodeReadRequest, PROBE_FILE } from '../../src/query/probes/tftp';
import { startTftpd, unavailable } from '../helpers/udp-servers';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { decoderFailures } from '../helpers/truncation';

const ctx = { host: '127.0.0.1', address: '127.0.0.1', port: 69, community: 'public', timeoutMs: 1000 };

t.test('the request is an octet-mode RRQ for a file no server has', async (t) => {
  t.equal(encodeReadRequest().toString('latin1'), `\0\x01${PROBE_FILE}\0octet\0`);
  t.ok(tftp.replyFromAnyPort, 'TFTP answers from a new port, so the engine must accept it');
});

t.test('ERROR and DATA replies decode; anything else is ProbeDecodeError', async (t) => {
  t.same(decodeTftpReply(Buffer.from('\0\x05\0\x01File not found\0', 'latin1')), { Opcode: 'ERROR', ErrorCode: 1, ErrorMessage: 'File not found', Block: null, DataLength: null });
  t.same(decodeTftpReply(Buffer.from('\0\x05\0\x02', 'latin1')), { Opcode: 'ERROR', ErrorCode: 2, ErrorMessage: 'Access violation', Block: null, DataLength: null }, 'empty message: the RFC\'s meaning');
  t.same(decodeTftpReply(Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.alloc(512)])), { Opcode: 'DATA', ErrorCode: null, ErrorMessage: null, Block: 1, DataLength: 512 });
  t.throws(() => decodeTftpReply(encodeReadRequest()), /not an answer/);
  t.throws(() => decodeTftpReply(Buffer.from([0, 5, 0])), /shorter/);
  t.same(tftp.describe!(decodeTftpReply(Buffer.from('\0\x05\0\x01File not found\0', 'latin1'))), ['TFTP error 1: File not found']);
  t.same(decoderFailures(decodeTftpReply, Buffer.from('\0\x05\0\x01File not found\0', 'latin1')), []);
  for (const reply of ['\0\x05\0\x01File not found\0', '\0\x05\0\x02', '\0\x03\0\x01data', '\0\x06blksize\x00512\x00']) {
    t.same(schemaErrors(probeDataSchema('tftp'), decodeTftpReply(Buffer.from(reply, 'latin1'))), [], JSON.stringify(reply));
  }
});

t.test('real server: tftpd-hpa on loopback answers with an ERROR from its own transfer port', { skip: unavailable('in.tftpd', 'tftpd-hpa') }, async (t) => {
  const server = await startTftpd(t, tftp.encode(ctx));
  const reply = server.firstReply;
  const fields = tftp.decode(reply, ctx);
  t.equal(fields.Opcode, 'ERROR');
  t.equal(fields.ErrorCode, 1);
  t.equal(fields.ErrorMessage, 'File not found');
  t.same(schemaErrors(probeDataSchema('tftp'), fields), []);
});
