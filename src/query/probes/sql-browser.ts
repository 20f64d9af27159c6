import { type DatagramProbe, ProbeDecodeError, type ProbeFields } from './types';

/**
 * SQL Server Browser (UDP 1434), [MC-SQLR]: CLNT_UCAST_EX (one byte, 0x03) asks for every instance;
 * SVR_RESP is 0x05, a little-endian RESP_SIZE, then RESP_DATA, a string of `key;value;` pairs where
 * each instance ends with `;;`: ServerName, InstanceName, IsClustered, Version, then the protocols the
 * instance listens on (tcp port, np pipe, via, rpc, spx, adsp, bv).
 */
const CLNT_UCAST_EX = 0x03;
const SVR_RESP = 0x05;

export interface SqlInstance {
  ServerName: string | null;
  InstanceName: string | null;
  IsClustered: boolean | null;
  Version: string | null;
  TcpPort: number | null;
  NamedPipe: string | null;
  /** Every key/value the server sent for this instance, in its order (protocols beyond tcp and np included). */
  Properties: Record<string, string>;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** RESP_DATA is in the server's code page; UTF-8 covers ASCII names, Latin-1 keeps any other bytes visible. */
function text(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

export function decodeServerResponse(reply: Buffer): ProbeFields {
  if (reply.length < 3) throw new ProbeDecodeError(`reply of ${reply.length} bytes is shorter than an SVR_RESP header`);
  if (reply[0] !== SVR_RESP) throw new ProbeDecodeError(`reply starts with 0x${reply[0].toString(16)}, not SVR_RESP (0x05)`);
  const size = reply.readUInt16LE(1);
  if (3 + size > reply.length) throw new ProbeDecodeError(`SVR_RESP announces ${size} bytes but carries ${reply.length - 3}`);
  const data = text(reply.subarray(3, 3 + size));
  if (!data.endsWith(';;')) throw new ProbeDecodeError('SVR_RESP data does not end with ";;"');
  const instances: SqlInstance[] = [];
  for (const record of data.slice(0, -2).split(';;')) {
    const tokens = record.split(';');
    if (tokens.length % 2 !== 0) throw new ProbeDecodeError(`SVR_RESP instance "${record.slice(0, 60)}" has a key without a value`);
    const properties: Record<string, string> = {};
    for (let i = 0; i < tokens.length; i += 2) properties[tokens[i]] = tokens[i + 1];
    const get = (key: string) => Object.entries(properties).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1] ?? null;
    const tcp = get('tcp');
    const clustered = get('IsClustered');
    instances.push({
      ServerName: get('ServerName'),
      InstanceName: get('InstanceName'),
      IsClustered: clustered === null ? null : clustered.toLowerCase() === 'yes',
      Version: get('Version'),
      TcpPort: tcp !== null && /^\d{1,5}$/.test(tcp) ? Number(tcp) : null,
      NamedPipe: get('np'),
      Properties: properties,
    });
  }
  return { Instances: instances };
}

/** PortQry's layout (PortQry 2.0's SQL Server output, KB 310099): `key value` per line, a blank line between instances. */
export function describeSqlBrowser(fields: ProbeFields): string[] {
  const lines = ["Server's response:", ''];
  for (const instance of (fields.Instances as SqlInstance[]) ?? []) {
    for (const [key, value] of Object.entries(instance.Properties)) lines.push(`${key} ${value}`);
    lines.push('');
  }
  lines.push('==== End of SQL Server query response ====');
  return lines;
}

const sqlBrowser: DatagramProbe = {
  kind: 'datagram',
  name: 'sql-browser',
  label: 'SQL Server',
  ports: [1434],
  encode: () => Buffer.from([CLNT_UCAST_EX]),
  decode: (reply) => decodeServerResponse(reply),
  describe: describeSqlBrowser,
};

export default sqlBrowser;
