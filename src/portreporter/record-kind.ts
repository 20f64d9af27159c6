import schema from '../../schemas/port-reporter-record.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { sanitizeLine } from '../output/sanitize';
import { PORT_REPORTER_RECORD_KEYS, type PortReporterRecord } from './record';
import { writePortReporterJson } from './record-json';

/** How `parse` shows a record: a netstat-like line in text, the usual columns in a table. */
export const PortReporterRecordKind = defineRecordKind(schema as RecordSchema, {
  tableColumns: ['TimeLocal', 'ComputerName', 'Event', 'Protocol', 'LocalAddress', 'LocalPort', 'RemoteAddress', 'RemotePort', 'State', 'OwningProcess', 'ProcessName', 'UserName', 'RemoteHostName', 'FlagReasons'],
  text: (record) => [recordLine(record as unknown as PortReporterRecord)],
  // Records that matched --criteria are shown in red on a terminal.
  highlight: (record) => record.Flagged === true,
  // JSON in runs of fields that repeat (record-json.ts): the same bytes, parse's hot path.
  writeJson: Object.keys(schema.properties).join() === PORT_REPORTER_RECORD_KEYS.join() ? writePortReporterJson : undefined,
});

function endpoint(address: string | null, port: number | null): string {
  if (address === null && port === null) return '*:*';
  const a = address === null ? '*' : address.includes(':') ? `[${address}]` : address;
  return `${a}:${port ?? '*'}`;
}

/** `2005-07-06 13:44:04 TEST TCP 10.1.2.3:445 10.1.9.40:52011 Established 4 System <NT AUTHORITY\SYSTEM>` */
export function recordLine(r: PortReporterRecord): string {
  const remote = r.RemoteHostName ? `${endpoint(r.RemoteAddress, r.RemotePort)} (${r.RemoteHostName})` : endpoint(r.RemoteAddress, r.RemotePort);
  const parts = [
    r.TimeLocal?.replace('T', ' ') ?? '-',
    r.ComputerName ?? '-',
    r.Event === 'Opened' ? null : r.Event,
    r.Protocol,
    endpoint(r.LocalAddress, r.LocalPort),
    remote,
    r.State,
    r.OwningProcess === null ? null : String(r.OwningProcess),
    r.ProcessPath ?? r.ProcessName,
    r.UserName ? `<${r.UserName}>` : null,
    r.Flagged ? `FLAGGED: ${r.FlagReasons.join('; ')}` : null,
  ];
  return sanitizeLine(parts.filter((p) => p !== null && p !== '').join(' '));
}
