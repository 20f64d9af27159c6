import { type DatagramProbe, ProbeDecodeError, type ProbeFields } from './types';

/**
 * NTP (UDP 123, RFC 5905): one client-mode (3) request carrying our clock as the transmit timestamp.
 * The server echoes it as the origin timestamp, so the reply alone gives the four timestamps of the
 * clock offset and round-trip computation (§8), plus stratum and reference id: what `w32tm /stripchart`
 * and `ntpdate -q` show an admin checking a DC's time source.
 */
const NTP_PACKET_LENGTH = 48;
/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2208988800;
const MODES = ['reserved', 'symmetric active', 'symmetric passive', 'client', 'server', 'broadcast', 'control', 'private'];
const LEAP = ['none', 'last minute has 61 seconds', 'last minute has 59 seconds', 'unsynchronized'];

function writeTimestamp(b: Buffer, offset: number, ms: number): void {
  const seconds = Math.floor(ms / 1000) + NTP_UNIX_OFFSET;
  b.writeUInt32BE(seconds >>> 0, offset);
  b.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, offset + 4);
}

/** Milliseconds since the Unix epoch, or null for the all-zero "unknown" timestamp. Era 1 (after 2036) for small values. */
function readTimestamp(b: Buffer, offset: number): number | null {
  const seconds = b.readUInt32BE(offset);
  const fraction = b.readUInt32BE(offset + 4);
  if (seconds === 0 && fraction === 0) return null;
  const era = seconds < 0x80000000 ? 2 ** 32 : 0;
  return (seconds + era - NTP_UNIX_OFFSET) * 1000 + (fraction / 2 ** 32) * 1000;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Math.round(ms)).toISOString();
}

export function encodeNtpRequest(now: Date = new Date()): Buffer {
  const b = Buffer.alloc(NTP_PACKET_LENGTH);
  b[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode client
  writeTimestamp(b, 40, now.getTime());
  return b;
}

/** Reference id: four ASCII letters for stratum 0 (kiss code) and 1 (source), an IPv4 address (or IPv6 hash) above. */
function referenceId(b: Buffer, stratum: number): string {
  const id = b.subarray(12, 16);
  if (stratum <= 1) return id.toString('latin1').replace(/\0+$/, '');
  return [...id].join('.');
}

export function decodeNtpReply(reply: Buffer, receivedAt: Date = new Date()): ProbeFields {
  if (reply.length < NTP_PACKET_LENGTH) throw new ProbeDecodeError(`reply of ${reply.length} bytes is shorter than an NTP packet`);
  const leap = reply[0] >> 6;
  const version = (reply[0] >> 3) & 7;
  const mode = reply[0] & 7;
  if (mode !== 4 && mode !== 2) throw new ProbeDecodeError(`NTP mode ${mode} (${MODES[mode]}) is not a server reply`);
  if (version < 1) throw new ProbeDecodeError('NTP version 0');
  const stratum = reply[1];
  const t1 = readTimestamp(reply, 24); // origin: our transmit time, echoed
  const t2 = readTimestamp(reply, 32); // server receive
  const t3 = readTimestamp(reply, 40); // server transmit
  const t4 = receivedAt.getTime();
  const timed = stratum !== 0 && t1 !== null && t2 !== null && t3 !== null;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    Version: version,
    Mode: MODES[mode],
    LeapIndicator: LEAP[leap],
    Stratum: stratum,
    // Stratum 0 is a kiss-o'-death (RFC 5905 §7.4): the reference id is the kiss code (RATE, DENY...).
    KissCode: stratum === 0 ? referenceId(reply, 0) : null,
    ReferenceId: stratum === 0 ? null : referenceId(reply, stratum),
    PollIntervalSeconds: 2 ** reply.readInt8(2),
    PrecisionSeconds: 2 ** reply.readInt8(3),
    RootDelayMs: round((reply.readUInt32BE(4) / 65536) * 1000),
    RootDispersionMs: round((reply.readUInt32BE(8) / 65536) * 1000),
    ReferenceTime: iso(readTimestamp(reply, 16)),
    ReceiveTime: iso(t2),
    TransmitTime: iso(t3),
    // RFC 5905 §8: offset = ((T2 - T1) + (T3 - T4)) / 2, delay = (T4 - T1) - (T3 - T2).
    ClockOffsetMs: timed ? round((t2 - t1 + (t3 - t4)) / 2) : null,
    RoundTripMs: timed ? round(t4 - t1 - (t3 - t2)) : null,
  };
}

export function describeNtp(fields: ProbeFields): string[] {
  if (fields.KissCode !== null) return [`NTP server refused the request: kiss code ${String(fields.KissCode)}`];
  const sync = fields.LeapIndicator === 'unsynchronized' || fields.Stratum === 16 ? ' (unsynchronized)' : '';
  return [
    `NTP v${String(fields.Version)} ${String(fields.Mode)}: stratum ${String(fields.Stratum)}${sync}, reference ${String(fields.ReferenceId)}`,
    `Server time: ${String(fields.TransmitTime)}`,
    `Clock offset: ${String(fields.ClockOffsetMs)} ms, round trip ${String(fields.RoundTripMs)} ms`,
  ];
}

const ntp: DatagramProbe = {
  kind: 'datagram',
  name: 'ntp',
  label: 'NTP',
  ports: [123],
  encode: () => encodeNtpRequest(),
  decode: (reply) => decodeNtpReply(reply),
  describe: describeNtp,
};

export default ntp;
