import { decodeBindAck, decodeResponse, encodeBind, encodeRequest, pduSequenceComplete, rpcStatusName } from './codec/dcerpc';
import { readGuid } from './codec/guid';
import { ProbeDecodeError, type ProbeFields, type ProbeStream, type StreamProbe } from './types';

/**
 * The RPC endpoint mapper dump PortQry does on port 135: bind to the endpoint mapper interface
 * (C706 Appendix O, [MS-RPCE] 2.2.1.2.5) and call ept_lookup with RPC_C_EP_ALL_ELTS until the server
 * has returned every registered endpoint; each entry's tower (C706 Appendix L) gives the interface
 * UUID and the binding (ncacn_ip_tcp:host[port], ncacn_np:\\HOST[\PIPE\x], ncalrpc:[name], ...).
 */

export const EPM_INTERFACE = { uuid: 'e1af8308-5d1f-11c9-91a4-08002b14a0fa', major: 3, minor: 0 };
const EPT_LOOKUP = 2;
/** Entries asked for per call (a Windows DC has a few hundred in all). */
const ENTRIES_PER_CALL = 100;
/** Bounds on the whole dump: calls, entries, and bytes of one answer. */
const MAX_CALLS = 50;
const MAX_ENTRIES = 5000;
const MAX_ANSWER_BYTES = 1 << 20;
const EPT_S_NOT_REGISTERED = 0x16c9a0d6;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** ept_lookup's [in] parameters in NDR: all elements, no object or interface filter, all versions. */
export function encodeLookupStub(entryHandle: Buffer, maxEntries = ENTRIES_PER_CALL): Buffer {
  const stub = Buffer.alloc(4 + 4 + 4 + 4 + 20 + 4);
  stub.writeUInt32LE(0, 0); // inquiry_type: RPC_C_EP_ALL_ELTS
  stub.writeUInt32LE(0, 4); // object: NULL
  stub.writeUInt32LE(0, 8); // interface_id: NULL
  stub.writeUInt32LE(1, 12); // vers_option: RPC_C_VERS_ALL
  entryHandle.copy(stub, 16, 0, 20);
  stub.writeUInt32LE(maxEntries, 36);
  return stub;
}

export interface EpmEntry {
  /** Interface UUID from the tower's first floor (what PortQry prints as "UUID:"). */
  Uuid: string | null;
  InterfaceVersion: string | null;
  /** The entry's object UUID, null when nil. */
  ObjectUuid: string | null;
  Annotation: string;
  /** ncacn_ip_tcp, ncacn_np, ncalrpc, ncadg_ip_udp, ncacn_http, ... */
  ProtocolSequence: string | null;
  NetworkAddress: string | null;
  Endpoint: string | null;
  /** PortQry's binding line: `ncacn_ip_tcp:10.0.0.5[49664]`. */
  Binding: string | null;
}

/** A bounds-checked little-endian reader over NDR stub data. */
class NdrReader {
  constructor(
    private readonly buf: Buffer,
    public offset = 0,
  ) {}
  private need(n: number, what: string): void {
    if (n < 0 || this.offset + n > this.buf.length) throw new ProbeDecodeError(`ept_lookup answer cut in ${what} at byte ${this.offset}`);
  }
  align(n: number): void {
    this.offset += (n - (this.offset % n)) % n;
  }
  u32(what: string): number {
    this.align(4);
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
}

const PROTOCOL_SEQUENCES: Record<string, string> = {
  '0b/07': 'ncacn_ip_tcp', '0a/08': 'ncadg_ip_udp', '0b/0f': 'ncacn_np', '0c/10': 'ncalrpc', '0b/1f': 'ncacn_http',
  '0b/11': 'ncacn_nb_tcp', '0b/12': 'ncacn_nb_nb', '0b/10': 'ncacn_np', '0a/10': 'ncalrpc', '0b/16': 'ncacn_at_dsp', '0b/0e': 'ncacn_spx',
};

const floorText = (rhs: Buffer) => rhs.toString('latin1').replace(/\0[\s\S]*$/, '');

/** Decodes a tower octet string into the interface and binding; towers are small and fully bounds-checked. */
export function decodeTower(tower: Buffer): Pick<EpmEntry, 'Uuid' | 'InterfaceVersion' | 'ProtocolSequence' | 'NetworkAddress' | 'Endpoint' | 'Binding'> {
  if (tower.length < 2) throw new ProbeDecodeError('tower without a floor count');
  const count = tower.readUInt16LE(0);
  const floors: { lhs: Buffer; rhs: Buffer }[] = [];
  let p = 2;
  for (let i = 0; i < count; i++) {
    if (p + 2 > tower.length) throw new ProbeDecodeError(`tower cut in floor ${i + 1}`);
    const lhsLength = tower.readUInt16LE(p);
    const lhs = tower.subarray(p + 2, p + 2 + lhsLength);
    p += 2 + lhsLength;
    if (lhs.length < lhsLength || lhsLength < 1 || p + 2 > tower.length) throw new ProbeDecodeError(`tower cut in floor ${i + 1}`);
    const rhsLength = tower.readUInt16LE(p);
    const rhs = tower.subarray(p + 2, p + 2 + rhsLength);
    p += 2 + rhsLength;
    if (rhs.length < rhsLength) throw new ProbeDecodeError(`tower cut in floor ${i + 1}`);
    floors.push({ lhs, rhs });
  }
  const iface = floors[0];
  const hasIface = iface !== undefined && iface.lhs[0] === 0x0d && iface.lhs.length >= 19 && iface.rhs.length >= 2;
  const out = {
    Uuid: hasIface ? readGuid(iface.lhs, 1) : null,
    InterfaceVersion: hasIface ? `${iface.lhs.readUInt16LE(17)}.${iface.rhs.readUInt16LE(0)}` : null,
    ProtocolSequence: null as string | null,
    NetworkAddress: null as string | null,
    Endpoint: null as string | null,
    Binding: null as string | null,
  };
  const rpc = floors[2];
  const transport = floors[3];
  const host = floors[4];
  if (!rpc || !transport) return out;
  const key = `${rpc.lhs[0]!.toString(16).padStart(2, '0')}/${transport.lhs[0]!.toString(16).padStart(2, '0')}`;
  out.ProtocolSequence = PROTOCOL_SEQUENCES[key] ?? `protocol ${key}`;
  const id = transport.lhs[0];
  if ((id === 0x07 || id === 0x08 || id === 0x1f) && transport.rhs.length >= 2) out.Endpoint = String(transport.rhs.readUInt16BE(0));
  else if (id !== 0x07 && id !== 0x08 && id !== 0x1f) out.Endpoint = floorText(transport.rhs);
  if (host) {
    if (host.lhs[0] === 0x09 && host.rhs.length >= 4) out.NetworkAddress = [...host.rhs.subarray(0, 4)].join('.');
    else if (host.lhs[0] !== 0x09) out.NetworkAddress = floorText(host.rhs);
  }
  out.Binding = `${out.ProtocolSequence}:${out.NetworkAddress ?? ''}[${out.Endpoint ?? ''}]`;
  return out;
}

export interface LookupAnswer {
  entryHandle: Buffer;
  entries: EpmEntry[];
  status: number;
}

/** Decodes ept_lookup's [out] parameters: entry_handle, num_ents, entries[] (with deferred towers), status. */
export function decodeLookupStub(stub: Buffer): LookupAnswer {
  const r = new NdrReader(stub);
  const entryHandle = Buffer.from(r.bytes(20, 'entry_handle'));
  const count = r.u32('num_ents');
  const maxCount = r.u32('entries max_count');
  r.u32('entries offset');
  const actual = r.u32('entries actual_count');
  if (actual !== count || actual > maxCount || actual > ENTRIES_PER_CALL * 10) throw new ProbeDecodeError(`ept_lookup answer with ${count} entries but an array of ${actual}`);
  const inline: { object: string; towerRef: number; annotation: string }[] = [];
  for (let i = 0; i < actual; i++) {
    const object = readGuid(r.bytes(16, 'entry object'), 0);
    const towerRef = r.u32('tower pointer');
    r.u32('annotation offset');
    const length = r.u32('annotation length');
    if (length > 64) throw new ProbeDecodeError(`annotation of ${length} bytes, at most 64 allowed`);
    const annotation = r.bytes(length, 'annotation').toString('latin1').replace(/\0[\s\S]*$/, '');
    inline.push({ object, towerRef, annotation });
  }
  const entries: EpmEntry[] = [];
  for (const e of inline) {
    let tower: ReturnType<typeof decodeTower> = { Uuid: null, InterfaceVersion: null, ProtocolSequence: null, NetworkAddress: null, Endpoint: null, Binding: null };
    if (e.towerRef !== 0) {
      const max = r.u32('tower max_count');
      const length = r.u32('tower_length');
      if (length > max) throw new ProbeDecodeError(`tower of ${length} bytes in a ${max}-byte array`);
      tower = decodeTower(r.bytes(length, 'tower'));
    }
    entries.push({
      Uuid: tower.Uuid,
      InterfaceVersion: tower.InterfaceVersion,
      ObjectUuid: e.object === NIL_UUID ? null : e.object,
      Annotation: e.annotation,
      ProtocolSequence: tower.ProtocolSequence,
      NetworkAddress: tower.NetworkAddress,
      Endpoint: tower.Endpoint,
      Binding: tower.Binding,
    });
  }
  const status = r.u32('status');
  return { entryHandle, entries, status };
}

async function call(stream: ProbeStream, request: Buffer, timeoutMs: number): Promise<Buffer> {
  await stream.write(request);
  const answer = await stream.read({ maxBytes: MAX_ANSWER_BYTES, timeoutMs, until: pduSequenceComplete });
  if (answer.length === 0) throw new ProbeDecodeError(`the endpoint mapper did not answer within ${timeoutMs} ms`);
  return answer;
}

/**
 * Binds to the endpoint mapper and calls ept_lookup until the server says it has no more entries (a
 * null entry_handle, no entries, or EPT_S_NOT_REGISTERED), within MAX_CALLS and MAX_ENTRIES.
 */
export async function dumpEndpoints(stream: ProbeStream, timeoutMs: number, perCall = ENTRIES_PER_CALL): Promise<EpmEntry[]> {
  decodeBindAck(await call(stream, encodeBind(EPM_INTERFACE, 1), timeoutMs), 1);
  const entries: EpmEntry[] = [];
  let handle: Buffer = Buffer.alloc(20);
  for (let callId = 2; callId < 2 + MAX_CALLS && entries.length < MAX_ENTRIES; callId++) {
    const answer = decodeLookupStub(decodeResponse(await call(stream, encodeRequest(EPT_LOOKUP, encodeLookupStub(handle, perCall), callId), timeoutMs), callId));
    entries.push(...answer.entries);
    if (answer.status !== 0 && answer.status !== EPT_S_NOT_REGISTERED) throw new ProbeDecodeError(`ept_lookup failed: ${rpcStatusName(answer.status)}`);
    handle = answer.entryHandle;
    if (answer.status !== 0 || answer.entries.length === 0 || handle.every((b) => b === 0)) break;
  }
  return entries.slice(0, MAX_ENTRIES);
}

const rpcEpm: StreamProbe = {
  kind: 'stream',
  name: 'rpc-epm',
  label: 'RPC Endpoint Mapper',
  ports: [135],
  // PortQry over TCP (reference §4.2): "Using ephemeral source port", "Querying Endpoint Mapper Database...".
  announce: () => ['Using ephemeral source port', 'Querying Endpoint Mapper Database...'],
  async converse(stream, ctx) {
    const entries = await dumpEndpoints(stream, ctx.timeoutMs);
    return { EntryCount: entries.length, Entries: entries };
  },
  describe(f) {
    const lines = ["Server's response:", ''];
    for (const e of (f.Entries ?? []) as EpmEntry[]) {
      lines.push(`UUID: ${e.Uuid ?? e.ObjectUuid ?? NIL_UUID}${e.Annotation ? ` ${e.Annotation}` : ''}`);
      if (e.Binding) lines.push(e.Binding);
      lines.push('');
    }
    lines.push(`Total endpoints found: ${String(f.EntryCount)}`, '', '==== End of RPC Endpoint Mapper query response ====');
    return lines;
  },
};

export default rpcEpm;
