import t from 'tap';
import { decodeReply, replyComplete, replyStatus } from '../../src/query/probes/banner';
import ftp from '../../src/query/probes/ftp';
import imap from '../../src/query/probes/imap';
import pop3 from '../../src/query/probes/pop3';
import smtp from '../../src/query/probes/smtp';
import { runStreamProbe } from '../helpers/probe-stream';
import { skipDovecot, skipExim, skipVsftpd, startDovecot, startExim, startVsftpd } from '../helpers/tcp-servers';

t.test('reply framing: numeric multi-line replies end at "NNN ", line replies at the first LF', async (t) => {
  t.notOk(replyComplete(Buffer.from('220-first\r\n'), 'numeric'));
  t.notOk(replyComplete(Buffer.from('220-first\r\n220 last'), 'numeric'), 'last line not terminated');
  t.ok(replyComplete(Buffer.from('220-first\r\nfree text\r\n220 last\r\n'), 'numeric'));
  t.ok(replyComplete(Buffer.from('220 single\r\n'), 'numeric'));
  t.ok(replyComplete(Buffer.from('HTTP/1.1 400 Bad\r\n'), 'numeric'), 'a non-FTP line is one complete line');
  t.notOk(replyComplete(Buffer.from('+OK no newline yet'), 'line'));
  t.ok(replyComplete(Buffer.from('* OK ready\n'), 'line'));
  t.equal(replyStatus('220-a\r\n220 b\r\n', 'numeric'), '220');
  t.equal(replyStatus('421\r\n', 'numeric'), '421');
  t.equal(replyStatus('+OK hi\r\n', 'line'), '+OK');
  t.equal(replyStatus('* PREAUTH x\r\n', 'line'), 'PREAUTH');
  t.equal(replyStatus('SSH-2.0-OpenSSH\r\n', 'line'), null);
});

t.test('the banner is kept exactly as received: control bytes, escape sequences, Latin-1', async (t) => {
  const hostile = Buffer.from('220 evil\x1b]0;owned\x07 \x1b[31mred\r\n', 'latin1');
  const r = decodeReply(hostile, 'numeric');
  t.equal(r.Text, hostile.toString('latin1'));
  t.equal(r.Status, '220');
  t.equal(r.Truncated, false);
  t.equal(decodeReply(Buffer.from([0x32, 0x32, 0x30, 0x20, 0xe9, 0x0d, 0x0a]), 'numeric').Text, '220 \u00e9\r\n', 'invalid UTF-8 falls back to Latin-1');
  t.equal(decodeReply(Buffer.from('220 caf\u00e9\r\n', 'utf8'), 'numeric').Text, '220 caf\u00e9\r\n');
  t.same(smtp.describe!({ Banner: '220 a\x1b[2Jb\r\n' }), ['Data returned from port:', '', '220 ab'], 'describe makes lines terminal-safe');
});

t.test('every cut of a greeting decodes without throwing', async (t) => {
  const full = Buffer.from('220-mail.example ESMTP\r\n220-second\r\n220 third\r\n');
  for (let n = 0; n <= full.length; n++) {
    const r = decodeReply(full.subarray(0, n), 'numeric');
    t.equal(r.Truncated, n < full.length, `cut at ${n}`);
  }
});

// A node socket stands in for a server that hangs up after its greeting (no Debian FTP server does on cue).
t.test('ftp: a server that hangs up after the greeting still gives the greeting', async (t) => {
  const net = await import('node:net');
  const server = net.createServer((c) => {
    c.write('220 bye soon\r\n');
    c.once('data', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as import('node:net').AddressInfo).port;
  t.same(await runStreamProbe(ftp, port), { Banner: '220 bye soon\r\n', Status: '220', Truncated: false, AnonymousReply: null, AnonymousStatus: null });
});

t.test('vsftpd: greeting and the answer to an anonymous logon', { skip: skipVsftpd }, async (t) => {
  const port = await startVsftpd(t);
  const fields = await runStreamProbe(ftp, port);
  t.same(fields, { Banner: '220 ptcp FTP ready\r\n', Status: '220', Truncated: false, AnonymousReply: '331 Please specify the password.\r\n', AnonymousStatus: '331' });
  t.same(ftp.describe!(fields), ['Data returned from port:', '', '220 ptcp FTP ready', '', '331 Please specify the password.']);
});

t.test('exim: SMTP greeting', { skip: skipExim }, async (t) => {
  const port = await startExim(t);
  const fields = await runStreamProbe(smtp, port);
  t.match(fields.Banner, /^220 \S+ ESMTP Exim \d+\.\d+ .*\r\n$/);
  t.equal(fields.Status, '220');
  t.equal(fields.Truncated, false);
});

t.test('dovecot: POP3 and IMAP greetings', { skip: skipDovecot }, async (t) => {
  const { pop3: pop3Port, imap: imapPort } = await startDovecot(t);
  t.same(await runStreamProbe(pop3, pop3Port), { Banner: '+OK ptcp dovecot ready.\r\n', Status: '+OK', Truncated: false });
  const i = await runStreamProbe(imap, imapPort);
  t.match(i.Banner, /^\* OK \[CAPABILITY IMAP4rev1 .*\] ptcp dovecot ready\.\r\n$/);
  t.equal(i.Status, 'OK');
});
