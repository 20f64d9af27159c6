/**
 * A protocol probe, nmap-style: what it sends, to which ports, and how it reads the answer. A probe is
 * one file in src/query/probes/ that default-exports a Probe and is listed in registry.ts.
 *
 * Two shapes:
 * - `datagram` probes (UDP): encode() gives the request bytes; decode() reads one reply datagram.
 *   A decodable reply upgrades "LISTENING or FILTERED" to LISTENING (PortQry's step 2).
 * - `stream` probes (TCP, after the connect succeeded): converse() gets a ProbeStream and may write
 *   and read several times (LDAP bind-less search, RPC bind + ept_lookup, TLS handshake, a banner).
 *
 * decode()/converse() return the fields that go into QueryResult.ProbeData (PascalCase keys, JSON
 * values). A malformed reply throws ProbeDecodeError, which becomes QueryResult.ProbeError: never a
 * crash. Every decoder must be total over arbitrary bytes (the fuzz test feeds it random and cut input).
 */
export interface ProbeContext {
  /** Target as the user named it and the address being queried. */
  host: string;
  address: string;
  port: number;
  /** SNMP community (-cn), TLS server name, etc. */
  community: string;
  /** Per read/response wait in ms (already doubled by -sl). */
  timeoutMs: number;
}

export type ProbeFields = Record<string, unknown>;

export interface DatagramProbe {
  kind: 'datagram';
  /** Short name, shown in QueryResult.Probe: dns, snmp, netbios-ns, cldap, ... */
  name: string;
  /** PortQry's announcement, e.g. "Sending DNS query to UDP port 53..." is built from this: "DNS". */
  label: string;
  /** PortQry's messages before the query when they are not "Sending <label> query to UDP port N..." (NetBIOS). */
  announce?(port: number): string[];
  /** UDP ports this probe is tried on by default. */
  ports: readonly number[];
  /**
   * The server answers from another port than the one queried (TFTP: a new transfer ID, RFC 1350 §4),
   * so the reply must be read on an unconnected socket, accepting any source port of the target address.
   */
  replyFromAnyPort?: boolean;
  encode(ctx: ProbeContext): Buffer;
  /** Fields from one reply; throws ProbeDecodeError if the bytes are not this protocol's reply. */
  decode(reply: Buffer, ctx: ProbeContext): ProbeFields;
  /** PortQry-style text lines for the decoded fields (text format only); see StreamProbe.describe. */
  describe?(fields: ProbeFields): string[];
}

/** A connected TCP (or TLS) stream with bounded reads. */
export interface ProbeStream {
  write(data: Buffer | string): Promise<void>;
  /** Reads until `until` says the buffer is complete, `maxBytes` is reached, or the timeout passes. */
  read(options?: { maxBytes?: number; timeoutMs?: number; until?: (buffered: Buffer) => boolean }): Promise<Buffer>;
  /** The raw socket, for probes that must upgrade (TLS) or inspect the peer. */
  readonly socket: import('node:net').Socket;
}

export interface StreamProbe {
  kind: 'stream';
  name: string;
  label: string;
  /** PortQry's messages before the answer when they are not "Sending <label> query to TCP port N..." (RPC, banners). */
  announce?(port: number): string[];
  /** TCP ports this probe runs on by default after LISTENING. */
  ports: readonly number[];
  converse(stream: ProbeStream, ctx: ProbeContext): Promise<ProbeFields>;
  /**
   * PortQry-style text lines for the decoded fields (text format only). Lines may carry the peer's
   * text as it came (banners, names, certificate subjects): portqry-text makes every line
   * terminal-safe (the one place that does), so describe() need not sanitize.
   */
  describe?(fields: ProbeFields): string[];
}

export type Probe = DatagramProbe | StreamProbe;

/** A reply that is not what the protocol allows: reported in ProbeError, never thrown past the engine. */
export class ProbeDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeDecodeError';
  }
}
