import { type DatagramProbe, ProbeDecodeError, type ProbeFields } from './types';

/**
 * TFTP (UDP 69, RFC 1350): a read request for a file no server has. A server answers ERROR (file not
 * found, access violation...) or, if it serves anything under that name, the first DATA block; either
 * is a TFTP server LISTENING. The reply comes from a new port (the server's transfer ID).
 */
export const PROBE_FILE = 'portqry-ts-probe.nonexistent';

const OPCODES: Record<number, string> = { 1: 'RRQ', 2: 'WRQ', 3: 'DATA', 4: 'ACK', 5: 'ERROR', 6: 'OACK' };
const ERROR_CODES = ['Not defined', 'File not found', 'Access violation', 'Disk full or allocation exceeded', 'Illegal TFTP operation', 'Unknown transfer ID', 'File already exists', 'No such user', 'Option negotiation refused'];

export function encodeReadRequest(): Buffer {
  return Buffer.concat([Buffer.from([0, 1]), Buffer.from(`${PROBE_FILE}\0octet\0`, 'ascii')]);
}

export function decodeTftpReply(reply: Buffer): ProbeFields {
  if (reply.length < 4) throw new ProbeDecodeError(`reply of ${reply.length} bytes is shorter than a TFTP packet`);
  const opcode = reply.readUInt16BE(0);
  const base = { Opcode: OPCODES[opcode] ?? String(opcode), ErrorCode: null as number | null, ErrorMessage: null as string | null, Block: null as number | null, DataLength: null as number | null };
  switch (opcode) {
    case 5: {
      const code = reply.readUInt16BE(2);
      const end = reply.indexOf(0, 4);
      // RFC 1350 ends the message with a NUL; some servers omit it, so take the rest of the datagram then.
      const message = reply.subarray(4, end < 0 ? reply.length : end).toString('latin1');
      return { ...base, ErrorCode: code, ErrorMessage: message || (ERROR_CODES[code] ?? null) };
    }
    case 3:
      if (reply.length > 4 + 65464) throw new ProbeDecodeError('TFTP DATA block longer than any block size');
      return { ...base, Block: reply.readUInt16BE(2), DataLength: reply.length - 4 };
    case 6:
      return base;
    default:
      throw new ProbeDecodeError(`TFTP opcode ${opcode} is not an answer to a read request`);
  }
}

export function describeTftp(fields: ProbeFields): string[] {
  if (fields.Opcode === 'ERROR') return [`TFTP error ${String(fields.ErrorCode)}: ${String(fields.ErrorMessage ?? '')}`];
  if (fields.Opcode === 'DATA') return [`TFTP data block ${String(fields.Block)} (${String(fields.DataLength)} bytes)`];
  return [`TFTP ${String(fields.Opcode)}`];
}

const tftp: DatagramProbe = {
  kind: 'datagram',
  name: 'tftp',
  label: 'TFTP',
  ports: [69],
  replyFromAnyPort: true,
  encode: () => encodeReadRequest(),
  decode: (reply) => decodeTftpReply(reply),
  describe: describeTftp,
};

export default tftp;
