import { ProbeDecodeError } from '../types';

/**
 * GUIDs/UUIDs as Microsoft and DCE put them on the wire (MS-DTYP 2.3.4.2, C706 Appendix A): the first
 * three fields little-endian, the last eight bytes as they are.
 */
export function readGuid(buf: Buffer, offset: number): string {
  if (offset < 0 || offset + 16 > buf.length) throw new ProbeDecodeError(`GUID at byte ${offset} runs past ${buf.length} bytes`);
  const hex = (start: number, end: number) => buf.subarray(offset + start, offset + end).toString('hex');
  return [
    buf.readUInt32LE(offset).toString(16).padStart(8, '0'),
    buf.readUInt16LE(offset + 4).toString(16).padStart(4, '0'),
    buf.readUInt16LE(offset + 6).toString(16).padStart(4, '0'),
    hex(8, 10),
    hex(10, 16),
  ].join('-');
}

/** The 16 wire bytes of a GUID given as text (`e1af8308-5d1f-11c9-91a4-08002b14a0fa`). */
export function guidBytes(text: string): Buffer {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text);
  if (!m) throw new Error(`invalid GUID ${text}`);
  const out = Buffer.alloc(16);
  out.writeUInt32LE(parseInt(m[1]!, 16), 0);
  out.writeUInt16LE(parseInt(m[2]!, 16), 4);
  out.writeUInt16LE(parseInt(m[3]!, 16), 6);
  Buffer.from(m[4]! + m[5]!, 'hex').copy(out, 8);
  return out;
}

/** Windows FILETIME (100 ns ticks since 1601-01-01 UTC) as ISO 8601, or null for 0 ("not given"). */
export function fileTimeToIso(ticks: bigint): string | null {
  if (ticks === 0n) return null;
  const ms = Number(ticks / 10_000n) - 11_644_473_600_000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
