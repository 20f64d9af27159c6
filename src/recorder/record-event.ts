import schema from '../../schemas/record-event.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import type { TcpState } from '../platform/types';
import type { TrackedEndpoint } from './endpoints';
import { pidCell, portqryPortColumns, portqryState } from './local-mode';
import { portOwnerRecord } from './port-owner';

export type RecordEventType = 'Initial' | 'Opened' | 'Closed' | 'StateChanged';
/** poll: a snapshot listed the endpoint; destroy-event: only the kernel's destroy announcement did (Linux). */
export type RecordEventSource = 'poll' | 'destroy-event';

/** schemas/record-event.schema.json: a line of the `--jsonl` event log and a `query -wport/-wpid` change. */
export const RecordEventKind = defineRecordKind(schema as RecordSchema, {
  tableColumns: ['TimeUtc', 'Event', 'Protocol', 'LocalAddress', 'LocalPort', 'RemoteAddress', 'RemotePort', 'State', 'OwningProcess', 'ProcessName', 'LifetimeSeconds'],
  // `2026-01-02T03:04:05.000Z  Opened  4:System  TCP 445 0.0.0.0 LISTENING 0.0.0.0:0`
  text: (r) => {
    let detail = '';
    if (r.Event === 'StateChanged') detail = `  (was ${portqryState(r.PreviousState as string | null)})`;
    if (r.Event === 'Closed') detail = `  (lived ${r.LifetimeSeconds} s)`;
    return [`${r.TimeUtc}  ${String(r.Event).padEnd(12)}  ${pidCell(r.OwningProcess, r.ProcessName)}\t${portqryPortColumns(r)}${detail}`];
  },
});

export function toRecordEvent(
  event: RecordEventType,
  tracked: TrackedEndpoint,
  computerName: string,
  time: Date,
  previousState: TcpState | null = null,
  extra: { source?: RecordEventSource; flagReasons?: readonly string[] } = {},
): Record<string, unknown> {
  const e = tracked.endpoint;
  let lifetime: number | null = null;
  if (event === 'Closed') {
    // The OS creation time, when it has one, is a better start than the poll that first saw the socket.
    const created = e.creationTime && e.creationTime < tracked.firstSeen ? e.creationTime : tracked.firstSeen;
    lifetime = Math.max(0, Math.round((time.getTime() - created.getTime()) / 10) / 100);
  }
  return {
    TimeUtc: time,
    Event: event,
    ...portOwnerRecord(computerName, e, tracked.process),
    PreviousState: previousState,
    FirstSeenUtc: tracked.firstSeen,
    LifetimeSeconds: lifetime,
    Source: extra.source ?? 'poll',
    Flagged: (extra.flagReasons?.length ?? 0) > 0,
    FlagReasons: [...(extra.flagReasons ?? [])],
  };
}
