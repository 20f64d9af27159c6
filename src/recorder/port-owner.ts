import schema from '../../schemas/port-owner.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
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
});

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
