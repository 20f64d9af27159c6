import t from 'tap';
import smb, { decodeNegotiateResponse, encodeNegotiate, encodeSmb1Negotiate, smbMessageComplete, spnegoMechanisms } from '../../src/query/probes/smb';
import { ProbeDecodeError } from '../../src/query/probes/types';
import { schemaErrors } from '../helpers/schema';
import { runStreamProbe } from '../helpers/probe-stream';
import { skipSmbd, startSmbd } from '../helpers/tcp-servers';

// Captured from smbd 4.17 (server signing = mandatory): the answer to the SMB1 multi-protocol NEGOTIATE
// (SMB2 response, dialect 2.???), then to the SMB2 NEGOTIATE (3.1.1 with negotiate contexts).
const SAMBA_WILDCARD = Buffer.from(
  '000000cafe534d4240000000000000000000010001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000041000300ff020000766d0000000000000000000000000000070000000000800000008000000080002661bc6b307ddd01000000000000000080004a0000000000604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa32a3028a0261b246e6f745f646566696e65645f696e5f5246433431373840706c656173655f69676e6f7265',
  'hex',
);
const SAMBA_311 = Buffer.from(
  '0000011cfe534d424000000000000000000001000100000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000004100030011030300766d00000000000000000000000000000f000000000080000000800000008000dc6dbd6b307ddd01000000000000000080004a00d0000000604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa32a3028a0261b246e6f745f646566696e65645f696e5f5246433431373840706c656173655f69676e6f72650000000000000100260000000000010020000100a44bbab62bc1e76f63ad0bf236922cb380ddb0785d9bdd61983a64d3e0549592000002000400000000000100020000000000080004000000000001000200',
  'hex',
);

t.test('requests: SMB1 multi-protocol NEGOTIATE, then SMB2 NEGOTIATE with 3.1.1 contexts', async (t) => {
  const smb1 = encodeSmb1Negotiate();
  t.equal(smb1.readUInt32BE(0), smb1.length - 4, 'direct-TCP length');
  t.equal(smb1.subarray(4, 9).toString('latin1'), '\xffSMBr');
  t.match(smb1.subarray(36).toString('latin1'), /\x02NT LM 0\.12\x00\x02SMB 2\.002\x00\x02SMB 2\.\?\?\?\x00$/);
  const smb2 = encodeNegotiate(1, Buffer.alloc(16, 0x11), Buffer.alloc(32, 0x22));
  t.equal(smb2.readUInt32BE(0), smb2.length - 4);
  t.equal(smb2.subarray(4, 8).toString('hex'), 'fe534d42');
  t.equal(smb2.readBigUInt64LE(4 + 24), 1n, 'message ID 1 after the SMB1 negotiate');
  const body = smb2.subarray(4 + 64);
  t.equal(body.readUInt16LE(2), 5, 'five dialects');
  t.same([0, 1, 2, 3, 4].map((i) => body.readUInt16LE(36 + i * 2)), [0x0202, 0x0210, 0x0300, 0x0302, 0x0311]);
  const contextOffset = body.readUInt32LE(28);
  t.equal(contextOffset % 8, 0, 'negotiate contexts 8-byte aligned');
  t.equal(smb2.readUInt16LE(4 + contextOffset), 1, 'first context: preauth integrity');
});

t.test('Samba fixtures: wildcard answer, then dialect 3.1.1 with signing required', async (t) => {
  t.match(decodeNegotiateResponse(SAMBA_WILDCARD), { Dialect: '2.???', DialectRevision: 0x02ff });
  const f = decodeNegotiateResponse(SAMBA_311);
  t.same(f, {
    Smb1Only: false, Dialect: '3.1.1', DialectRevision: 0x0311, SigningEnabled: true, SigningRequired: true,
    ServerGuid: '00006d76-0000-0000-0000-000000000000', Capabilities: ['DFS', 'LEASING', 'LARGE_MTU', 'MULTI_CHANNEL'],
    MaxTransactSize: 8388608, MaxReadSize: 8388608, MaxWriteSize: 8388608, SystemTime: f.SystemTime, ServerStartTime: null,
    AuthMechanisms: ['NTLMSSP'], PreauthIntegrityHash: 'SHA-512', EncryptionCipher: 'AES-128-GCM', SigningAlgorithm: 'AES-GMAC',
  });
  t.match(f.SystemTime, /^2026-11-25T22:5\d:\d\d\.\d{3}Z$/);
  t.same(schemaErrors('probe-data-smb.schema.json', f), []);
  t.same(smb.describe!(f), [
    'SMB dialect: 3.1.1',
    'Signing: required',
    'Server GUID: 00006d76-0000-0000-0000-000000000000',
    'Capabilities: DFS, LEASING, LARGE_MTU, MULTI_CHANNEL',
    'Preauth hash: SHA-512; cipher: AES-128-GCM; signing algorithm: AES-GMAC',
    'Authentication mechanisms: NTLMSSP',
  ]);
  t.equal(spnegoMechanisms(Buffer.from('not spnego')), null);
});

t.test('every cut and random corruption: fields or ProbeDecodeError, never a crash', async (t) => {
  const failures: string[] = [];
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (const fixture of [SAMBA_WILDCARD, SAMBA_311]) {
    t.ok(smbMessageComplete(fixture));
    for (let n = 0; n < fixture.length; n++) {
      t.notOk(smbMessageComplete(fixture.subarray(0, n)));
      try {
        decodeNegotiateResponse(fixture.subarray(0, n));
        failures.push(`cut at ${n} decoded as whole`);
      } catch (e) {
        if (!(e instanceof ProbeDecodeError)) failures.push(`cut at ${n}: ${(e as Error).stack}`);
      }
    }
    for (let i = 0; i < 3000; i++) {
      const copy = Buffer.from(fixture);
      for (let f = 0; f <= random() % 3; f++) copy[4 + (random() % (copy.length - 4))] = random() & 0xff;
      try {
        decodeNegotiateResponse(copy);
      } catch (e) {
        if (!(e instanceof ProbeDecodeError)) failures.push(`${copy.toString('hex')}: ${(e as Error).stack}`);
      }
    }
  }
  t.same(failures, []);
});

t.test('smbd, signing mandatory: SMB 3.1.1, signing required', { skip: skipSmbd }, async (t) => {
  const port = await startSmbd(t, ['server signing = mandatory']);
  t.match(await runStreamProbe(smb, port), { Smb1Only: false, Dialect: '3.1.1', SigningEnabled: true, SigningRequired: true, ServerGuid: /^[0-9a-f-]{36}$/, EncryptionCipher: /^AES-/ });
});

t.test('smbd, max protocol SMB2_10: dialect 2.1, signing not required', { skip: skipSmbd }, async (t) => {
  const port = await startSmbd(t, ['server max protocol = SMB2_10', 'server signing = auto']);
  t.match(await runStreamProbe(smb, port), { Smb1Only: false, Dialect: '2.1', SigningEnabled: true, SigningRequired: false, EncryptionCipher: null });
});

t.test('smbd, SMB1 only (NT1): reported as SMB1-only with its signing mode', { skip: skipSmbd }, async (t) => {
  const port = await startSmbd(t, ['server min protocol = NT1', 'server max protocol = NT1', 'server signing = auto']);
  const f = await runStreamProbe(smb, port);
  t.match(f, { Smb1Only: true, Dialect: 'NT LM 0.12', DialectRevision: null, SigningEnabled: true, SigningRequired: false, AuthMechanisms: ['NTLMSSP'] });
  t.same(schemaErrors('probe-data-smb.schema.json', f), []);
  t.same(smb.describe!(f), ['SMB negotiation: the server answered with SMB1 only (NT LM 0.12); SMB2/3 is not enabled']);
});
