import schema from '../../schemas/port-owner.schema.json';
import { defineRecordKind, isUint, JsonBytes, putUint, writeValue, type OutputRecord, type RecordSchema } from '../output/record-kind';
import type { Endpoint, ProcessInfo, Snapshot } from '../platform/types';
import type { OwnedEndpoint } from './endpoints';
import { pidCell, portqryPortColumns } from './local-mode';

/** schemas/port-owner.schema.json: one endpoint and its owner (`record --once`, `query -local`, Get-PortOwner). */
export const PortOwnerKind = defineRecordKind(schema as RecordSchema, {
  tableColumns: ['Protocol', 'LocalAddress', 'LocalPort', 'RemoteAddress', 'RemotePort', 'State', 'OwningProcess', 'ProcessName', 'UserName'],
  // PortQry's "Port to Process Mappings" row: `4:System<TAB>TCP 445 0.0.0.0 LISTENING 0.0.0.0:0`.
  text: (r) => [`${pidCell(r.OwningProcess, r.ProcessName)}\t${portqryPortColumns(r)}`],
  // The owner's details, the same on each of its endpoints: encoded once per process in JSON output.
  sharedTail: 'OwningProcess',
  writeHead: writePortOwnerHead,
});

/** `,"Key":` (`{"Key":` for the first key), as writeRecordJson's key prefixes. */
const HEAD_KEYS = ['ComputerName', 'Protocol', 'LocalAddress', 'LocalPort', 'RemoteAddress', 'RemotePort', 'State'] as const;
const prefix = (i: number) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(HEAD_KEYS[i])}:`, 'latin1');
const [, , LOCAL_ADDRESS, LOCAL_PORT, REMOTE_ADDRESS, REMOTE_PORT] = HEAD_KEYS.map((_, i) => prefix(i));

/** Bytes of `prefix value` for values that repeat on many records (computer name and protocol; the state), made with writeValue. */
function encoded(parts: [number, unknown][]): Buffer {
  const out = new JsonBytes(256);
  for (const [i, value] of parts) {
    out.bytes(prefix(i));
    writeValue(value, out);
  }
  return Buffer.from(out.buf.subarray(0, out.pos));
}

let lastHost: unknown;
let lastProtocol: unknown;
let hostAndProtocol: Buffer = Buffer.alloc(0);
const stateBytes = new Map<unknown, Buffer>();

/** A port as its decimal digits (putUint); anything else as writeValue writes it. */
function writePort(value: unknown, out: JsonBytes): void {
  if (!isUint(value)) {
    writeValue(value, out);
    return;
  }
  out.reserve(10);
  out.pos = putUint(out.buf, out.pos, value);
}

/**
 * The seven per-endpoint keys of a PortOwner record (the owner's keys after them are the shared tail):
 * the bytes writeRecordJson's general loop writes, with the computer name and protocol copied as one
 * run, ports written as digits and each state's bytes made once.
 */
function writePortOwnerHead(r: OutputRecord, out: JsonBytes): void {
  const host = r.ComputerName;
  const protocol = r.Protocol;
  if (host !== lastHost || protocol !== lastProtocol || typeof host === 'object' || typeof protocol === 'object') {
    hostAndProtocol = encoded([
      [0, host],
      [1, protocol],
    ]);
    // Objects (arrays, dates) can change: never reused.
    lastHost = typeof host === 'object' ? undefined : host;
    lastProtocol = typeof protocol === 'object' ? undefined : protocol;
  }
  out.bytes(hostAndProtocol);
  out.bytes(LOCAL_ADDRESS!);
  writeValue(r.LocalAddress, out);
  out.bytes(LOCAL_PORT!);
  writePort(r.LocalPort, out);
  out.bytes(REMOTE_ADDRESS!);
  writeValue(r.RemoteAddress, out);
  out.bytes(REMOTE_PORT!);
  writePort(r.RemotePort, out);
  const state = r.State;
  if (typeof state === 'string' || state === null || state === undefined) {
    let bytes = stateBytes.get(state);
    if (bytes === undefined) {
      bytes = encoded([[6, state]]);
      if (stateBytes.size < 64) stateBytes.set(state, bytes);
    }
    out.bytes(bytes);
  } else {
    out.bytes(encoded([[6, state]]));
  }
}

export function toPortOwner(snapshot: Snapshot, owned: OwnedEndpoint): Record<string, unknown> {
  return portOwnerRecord(snapshot.computerName, owned.endpoint, owned.process);
}

/**
 * The PortOwner record of one endpoint (one object literal: `record --once` makes thousands). RecordEvent
 * records carry the same fields (their schemas name them alike; key order is the schema's, applied by the
 * output layer).
 */
export function portOwnerRecord(computerName: string, e: Endpoint, p: ProcessInfo | null): Record<string, unknown> {
  return {
    ComputerName: computerName,
    Protocol: e.protocol,
    LocalAddress: e.localAddress,
    LocalPort: e.localPort,
    RemoteAddress: e.remoteAddress,
    RemotePort: e.remotePort,
    State: e.state,
    OwningProcess: e.pid,
    ProcessName: p?.name ?? null,
    ProcessPath: p?.path ?? null,
    UserName: p?.user ?? null,
    Services: p?.services ?? [],
    Modules: p?.modules ?? [],
    CreationTime: e.creationTime,
    ProcessStartTime: p?.startTime ?? null,
    CommandLine: p?.commandLine ?? null,
  };
}
