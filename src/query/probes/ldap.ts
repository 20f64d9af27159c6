import { decodeRootDseAnswer, encodeRootDseSearch, searchAnswerComplete } from './codec/ldap';
import { ProbeDecodeError, type ProbeFields, type StreamProbe } from './types';

/** A rootDSE is a few KB (Active Directory ~10 KB); more than this is cut off and reported as cut. */
export const LDAP_MAX_BYTES = 256 * 1024;
const MESSAGE_ID = 1;

/** GeneralizedTime `20261125223916.0Z` as PortQry prints currentTime: `11/25/2026 22:39:16`; other text unchanged. */
export function portqryDate(value: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(value);
  return m ? `${m[2]}/${m[3]}/${m[1]} ${m[4]}:${m[5]}:${m[6]}` : value;
}

/** PortQry's rootDSE layout (every value of every attribute on its own `name: value` line). */
export function describeRootDse(fields: ProbeFields): string[] {
  const lines = ['LDAP query response:', ''];
  const attributes = (fields.Attributes ?? {}) as Record<string, string[]>;
  for (const [name, values] of Object.entries(attributes)) {
    for (const value of values) {
      if (name.toLowerCase() === 'currenttime') lines.push(`currentdate: ${portqryDate(value)} (unadjusted GMT)`);
      else lines.push(`${name}: ${value}`);
    }
  }
  if (fields.ResultCode !== 0) {
    const diagnostic = fields.DiagnosticMessage ? `: ${String(fields.DiagnosticMessage)}` : '';
    lines.push(`LDAP search result: ${String(fields.ResultName)} (${String(fields.ResultCode)})${diagnostic}`);
  }
  lines.push('', '======== End of LDAP query response ========');
  return lines;
}

/** LDAP rootDSE, as PortQry queries it: an anonymous base-object search of "" for all attributes. */
const ldap: StreamProbe = {
  kind: 'stream',
  name: 'ldap',
  label: 'LDAP',
  ports: [389, 3268],
  async converse(stream, ctx) {
    await stream.write(encodeRootDseSearch(MESSAGE_ID));
    const answer = await stream.read({ maxBytes: LDAP_MAX_BYTES, timeoutMs: ctx.timeoutMs, until: searchAnswerComplete });
    if (answer.length === 0) throw new ProbeDecodeError(`did not respond to LDAP query within ${ctx.timeoutMs} ms`);
    return { ...decodeRootDseAnswer(answer, MESSAGE_ID) };
  },
  describe: describeRootDse,
};

export default ldap;
