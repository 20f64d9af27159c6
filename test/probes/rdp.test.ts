import t from 'tap';
import rdp, { decodeConnectionConfirm, encodeConnectionRequest, tpktComplete } from '../../src/query/probes/rdp';
import { ProbeDecodeError } from '../../src/query/probes/types';
import { schemaErrors } from '../helpers/schema';
import { runStreamProbe } from '../helpers/probe-stream';
import { skipXrdp, startXrdp } from '../helpers/tcp-servers';

// Connection Confirms built from [MS-RDPBCGR] 2.2.1.2 (a Windows Server with NLA, a refusal, a pre-negotiation server).
const NLA_CONFIRM = Buffer.from('030000130ed00000123400021f080008000000', 'hex');
const HYBRID_REQUIRED = Buffer.from('030000130ed000001234000300080005000000', 'hex');
const NO_NEGOTIATION = Buffer.from('0300000b06d00000123400', 'hex');
// What xrdp 0.9 sends when asked for RDSTLS|HYBRID_EX together (captured): X.224 DT + MCS DisconnectProviderUltimatum.
const XRDP_DISCONNECT = Buffer.from('0300000902f0802180', 'hex');

t.test('request: TPKT + X.224 CR + RDP_NEG_REQ asking for TLS, CredSSP and RDSTLS', async (t) => {
  t.equal(encodeConnectionRequest().toString('hex'), '030000130ee000000000000100080007000000');
  t.equal(encodeConnectionRequest(0x3).toString('hex'), '030000130ee000000000000100080003000000');
});

t.test('decoding the three kinds of answer', async (t) => {
  t.match(decodeConnectionConfirm(NLA_CONFIRM), {
    Negotiation: 'response', SelectedProtocol: 'HYBRID_EX', SecurityProtocol: 'CredSSP (NLA) with Early User Authorization Result',
    ServerFlags: ['EXTENDED_CLIENT_DATA_SUPPORTED', 'DYNVC_GFX_PROTOCOL_SUPPORTED', 'NEGRSP_FLAG_RESERVED', 'RESTRICTED_ADMIN_MODE_SUPPORTED', 'REDIRECTED_AUTHENTICATION_MODE_SUPPORTED'],
    RequestedProtocols: ['SSL', 'HYBRID', 'RDSTLS'],
  });
  const refused = decodeConnectionConfirm(HYBRID_REQUIRED);
  t.match(refused, { Negotiation: 'failure', SelectedProtocol: null, FailureCode: 5, Failure: 'HYBRID_REQUIRED_BY_SERVER' });
  t.same(rdp.describe!(refused), ['RDP security negotiation refused: HYBRID_REQUIRED_BY_SERVER (5)']);
  const old = decodeConnectionConfirm(NO_NEGOTIATION);
  t.match(old, { Negotiation: 'none', SelectedProtocol: 'RDP', SecurityProtocol: 'Standard RDP Security' });
  for (const fixture of [NLA_CONFIRM, HYBRID_REQUIRED, NO_NEGOTIATION, XRDP_DISCONNECT]) {
    t.same(schemaErrors('probe-data-rdp.schema.json', decodeConnectionConfirm(fixture)), [], `schema: ${fixture.toString('hex')}`);
  }
  t.same(rdp.describe!(old), ['RDP security protocol selected: Standard RDP Security (RDP)', 'The server does not negotiate (standard RDP security only)']);
});

t.test('truncated, corrupted and foreign replies: ProbeDecodeError, never a crash', async (t) => {
  t.throws(() => decodeConnectionConfirm(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')), ProbeDecodeError);
  for (const fixture of [NLA_CONFIRM, HYBRID_REQUIRED, NO_NEGOTIATION, XRDP_DISCONNECT]) {
    for (let n = 0; n < fixture.length; n++) {
      t.notOk(tpktComplete(fixture.subarray(0, n)), `incomplete at ${n}`);
      t.throws(() => decodeConnectionConfirm(fixture.subarray(0, n)), ProbeDecodeError, `cut at ${n}`);
    }
    t.ok(tpktComplete(fixture));
  }
  let seed = 3;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const failures: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const copy = Buffer.from(NLA_CONFIRM);
    for (let f = 0; f <= random() % 3; f++) copy[random() % copy.length] = random() & 0xff;
    try {
      decodeConnectionConfirm(copy);
    } catch (e) {
      if (!(e instanceof ProbeDecodeError)) failures.push(`${copy.toString('hex')}: ${(e as Error).message}`);
    }
  }
  t.same(failures, []);
});

t.test('xrdp: negotiate and tls select TLS, rdp selects standard RDP security', { skip: skipXrdp }, async (t) => {
  const expectations: [layer: 'negotiate' | 'tls' | 'rdp', expected: Record<string, unknown>][] = [
    ['negotiate', { Negotiation: 'response', SelectedProtocol: 'SSL', SecurityProtocol: 'TLS' }],
    ['tls', { Negotiation: 'response', SelectedProtocol: 'SSL' }],
    ['rdp', { Negotiation: 'response', SelectedProtocol: 'RDP', SecurityProtocol: 'Standard RDP Security' }],
  ];
  for (const [layer, expected] of expectations) {
    const server = await startXrdp(t, layer);
    t.match(await runStreamProbe(rdp, server.port), expected, `security_layer=${layer}`);
    server.stop();
  }
});
