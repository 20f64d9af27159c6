import schema from '../../schemas/query-result.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { resultLines } from './portqry-text';
import type { QueryResult } from './query-result';

/**
 * The QueryResult record kind: its keys from the schema, its text PortQry's (portqry-text.ts). Kept apart
 * from query-result.ts (the shape and the verdict's exit code), which portqry-text.ts itself needs.
 */
export const QueryResultKind = defineRecordKind(schema as RecordSchema, {
  tableColumns: ['ComputerName', 'RemoteAddress', 'Protocol', 'RemotePort', 'Service', 'State', 'ResponseTimeMs', 'Probe'],
  text: (record, style) => resultLines(record as unknown as QueryResult, style),
});
