import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import rdp, { decodeConnectionConfirm, encodeConnectionRequest, tpktComplete } from '../../src/query/probes/rdp';
import { ProbeDecodeError } from '../../src/query/probes/types';
import { runStreamProbe } from '../helpers/probe-stream';
import { freePort, haveCommand, startServer, tempDir } from '../helpers/real-server';

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

t.test('xrdp: negotiate and tls select TLS, rdp selects standard RDP security', { skip: !haveCommand('xrdp') && 'xrdp is not installed' }, async (t) => {
  const dir = tempDir(t, 'xrdp');
  // xrdp's stock xrdp.ini with our port, log file and the snakeoil certificate (or one made here).
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const { spawnSync } = await import('node:child_process');
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=xrdp.ptcp.test'], { timeout: 30_000 });
  const stock = fs.readFileSync('/etc/xrdp/xrdp.ini', 'utf8');
  const expectations: [string, Record<string, unknown>][] = [
    ['negotiate', { Negotiation: 'response', SelectedProtocol: 'SSL', SecurityProtocol: 'TLS' }],
    ['tls', { Negotiation: 'response', SelectedProtocol: 'SSL' }],
    ['rdp', { Negotiation: 'response', SelectedProtocol: 'RDP', SecurityProtocol: 'Standard RDP Security' }],
  ];
  for (const [layer, expected] of expectations) {
    const port = await freePort();
    const ini = path.join(dir, `xrdp-${layer}.ini`);
    fs.writeFileSync(
      ini,
      stock
        .replace(/^port=3389$/m, `port=tcp://127.0.0.1:${port}`)
        .replace(/^security_layer=.*$/m, `security_layer=${layer}`)
        .replace(/^certificate=.*$/m, `certificate=${cert}`)
        .replace(/^key_file=.*$/m, `key_file=${key}`)
        .replace(/^LogFile=.*$/m, `LogFile=${dir}/xrdp-${layer}.log`)
        .replace(/^EnableSyslog=.*$/m, 'EnableSyslog=false'),
    );
    const server = await startServer(t, 'xrdp', ['--nodaemon', '--config', ini], { port });
    const fields = await runStreamProbe(rdp, port);
    t.match(fields, expected, `security_layer=${layer}`);
    server.child.kill('SIGTERM');
  }
});
