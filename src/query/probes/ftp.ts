import { decodeReply, describeBanner, readReply } from './banner';
import { textLines } from './text';
import type { ProbeFields, StreamProbe } from './types';

/**
 * FTP, as PortQry does it: read the greeting, then try an anonymous logon (`USER anonymous`) and report
 * the answer (`331 Anonymous access allowed…` or `530 …`). No password is sent; QUIT ends the session.
 */
const ftp: StreamProbe = {
  kind: 'stream',
  name: 'ftp',
  label: 'FTP',
  ports: [21],
  announce: () => [], // PortQry shows the greeting right after the status line
  async converse(stream, ctx) {
    const greeting = decodeReply(await readReply(stream, 'numeric', ctx, 'FTP greeting'), 'numeric');
    const fields: ProbeFields = { Banner: greeting.Text, Status: greeting.Status, Truncated: greeting.Truncated, AnonymousReply: null, AnonymousStatus: null };
    if (greeting.Status !== '220' || greeting.Truncated) return fields;
    // The greeting is the main answer: a server that then goes quiet or hangs up keeps it.
    try {
      await stream.write('USER anonymous\r\n');
      const reply = decodeReply(await readReply(stream, 'numeric', ctx, 'reply to USER anonymous'), 'numeric');
      fields.AnonymousReply = reply.Text;
      fields.AnonymousStatus = reply.Status;
      await stream.write('QUIT\r\n');
    } catch {
      // no (complete) answer to the logon: reported as AnonymousReply null
    }
    return fields;
  },
  describe(fields) {
    const lines = describeBanner(fields);
    if (typeof fields.AnonymousReply === 'string') lines.push('', ...textLines(fields.AnonymousReply));
    return lines;
  },
};

export default ftp;
