/**
 * One port use read from a Port Reporter log (original or ours) or from our JSON Lines event log,
 * joined with its process detail. `parse` emits these (schemas/port-reporter-record.schema.json);
 * `stats` counts them. Field names follow Get-NetTCPConnection where one exists.
 */
export interface PortReporterRecord {
  ComputerName: string | null;
  /** When the use was logged, ISO 8601 UTC (log local time converted with --utc-offset or this machine's zone). */
  TimeUtc: string | null;
  /** The time as written in the log, local, ISO 8601 without zone (yyyy-MM-ddTHH:mm:ss). */
  TimeLocal: string | null;
  /** Opened (a new endpoint), Closed (our JSONL log only), Initial (in PR-INITIAL). */
  Event: 'Opened' | 'Closed' | 'Initial';
  Protocol: 'TCP' | 'UDP';
  LocalAddress: string | null;
  LocalPort: number | null;
  RemoteAddress: string | null;
  RemotePort: number | null;
  /** Listen / Established (derived from the PR-PORTS remote fields) or the recorded state; null for UDP. */
  State: string | null;
  OwningProcess: number | null;
  ProcessName: string | null;
  ProcessPath: string | null;
  CommandLine: string | null;
  UserName: string | null;
  Services: string[] | null;
  Modules: string[] | null;
  ProcessStartTime: string | null;
  /** Seconds the endpoint lived (Closed events of our JSONL log). */
  LifetimeSeconds: number | null;
  RemoteHostName: string | null;
  Flagged: boolean;
  FlagReasons: string[];
  SourceFile: string;
  SourceLine: number;
}

/** The record's keys in schema order (test/unit/portreporter-record.test.ts checks them against the schema). */
export const PORT_REPORTER_RECORD_KEYS = [
  'ComputerName', 'TimeUtc', 'TimeLocal', 'Event', 'Protocol', 'LocalAddress', 'LocalPort', 'RemoteAddress', 'RemotePort',
  'State', 'OwningProcess', 'ProcessName', 'ProcessPath', 'CommandLine', 'UserName', 'Services', 'Modules',
  'ProcessStartTime', 'LifetimeSeconds', 'RemoteHostName', 'Flagged', 'FlagReasons', 'SourceFile', 'SourceLine',
] as const satisfies readonly (keyof PortReporterRecord)[];

// Compile-time half of the sync check: every interface key is listed above.
type UnlistedKey = Exclude<keyof PortReporterRecord, (typeof PORT_REPORTER_RECORD_KEYS)[number]>;
export const RECORD_KEYS_COMPLETE: [UnlistedKey] extends [never] ? true : UnlistedKey = true;
