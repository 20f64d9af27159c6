import schema from '../../../schemas/stat-new-listener.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import type { PortReporterRecord } from '../../portreporter/record';
import { compareNullable, isListening, own, processKey, show, textRendering, type StatisticDefinition } from '../statistic';

/** The fields of a first sighting that the row shows: kept instead of the record (which holds module lists). */
type Sighting = Pick<
  PortReporterRecord,
  'ComputerName' | 'Protocol' | 'LocalPort' | 'LocalAddress' | 'ProcessName' | 'ProcessPath' | 'UserName' | 'TimeUtc' | 'TimeLocal' | 'Event' | 'SourceFile' | 'SourceLine'
>;

interface Listener {
  first: Sighting;
  records: number;
}

function sighting(r: PortReporterRecord): Sighting {
  return {
    ComputerName: own(r.ComputerName),
    Protocol: r.Protocol,
    LocalPort: r.LocalPort,
    LocalAddress: own(r.LocalAddress),
    ProcessName: own(r.ProcessName),
    ProcessPath: own(r.ProcessPath),
    UserName: own(r.UserName),
    TimeUtc: own(r.TimeUtc),
    TimeLocal: own(r.TimeLocal),
    Event: r.Event,
    SourceFile: r.SourceFile,
    SourceLine: r.SourceLine,
  };
}

/** The earlier of two sightings: by UTC time, then by file and line (rows of one file are in time order). */
function isEarlier(a: Sighting, b: Sighting): boolean {
  if (a.TimeUtc !== b.TimeUtc) return compareNullable(a.TimeUtc, b.TimeUtc) < 0;
  if (a.Event !== b.Event) return a.Event === 'Initial';
  if (a.SourceFile !== b.SourceFile) return a.SourceFile < b.SourceFile;
  return a.SourceLine < b.SourceLine;
}

export const newListener: StatisticDefinition = {
  name: 'new-listener',
  title: 'New listeners over time',
  definition:
    'One row per (computer, protocol, local port, process): the first time that process was seen listening on that port (a TCP listener, or a UDP endpoint below the dynamic port range 49152-65535, whose UDP sockets are clients), oldest first. SeenAtStart is true when the first sighting is in PR-INITIAL, i.e. it was already listening when recording began; false means it appeared while the recorder ran.',
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('New listeners over time', (r) => `${show(r.FirstSeenUtc)}  ${show(r.ComputerName)}  ${r.Protocol} ${String(r.LocalPort).padEnd(5)}  ${show(r.ProcessName)}  ${show(r.UserName)}${r.SeenAtStart ? '  (already listening at start)' : ''}`, { showComputer: false }),
    tableColumns: ['ComputerName', 'FirstSeenUtc', 'Protocol', 'LocalPort', 'LocalAddress', 'ProcessName', 'UserName', 'SeenAtStart', 'Records'],
  }),
  create(options) {
    const listeners = new Map<string, Listener>();
    return {
      add(record, facts) {
        if (!isListening(record, facts)) return;
        const key = `${record.ComputerName ?? ''}\u0000${record.Protocol}\u0000${record.LocalPort}\u0000${processKey(record.ProcessName)}`;
        const listener = listeners.get(key);
        if (!listener) {
            listeners.set(key, { first: sighting(record), records: 1 });
          return;
        }
        listener.records++;
        if (isEarlier(record, listener.first)) listener.first = sighting(record);
      },
      save() {
        return [...listeners].map(([key, l]) => [key, l.first, l.records]);
      },
      merge(state) {
        for (const [key, first, records] of state as [string, Sighting, number][]) {
          const listener = listeners.get(key);
          if (!listener) listeners.set(key, { first, records });
          else {
            listener.records += records;
            if (isEarlier(first, listener.first)) listener.first = first;
          }
        }
      },
      approximate: () => false,
      rows() {
        const sorted = [...listeners.values()].sort((a, b) => (isEarlier(a.first, b.first) ? -1 : isEarlier(b.first, a.first) ? 1 : 0));
        const rows = sorted.map(({ first, records }) => ({
          ComputerName: first.ComputerName,
          Protocol: first.Protocol,
          LocalPort: first.LocalPort,
          LocalAddress: first.LocalAddress,
          ProcessName: first.ProcessName,
          ProcessPath: first.ProcessPath,
          UserName: first.UserName,
          FirstSeenUtc: first.TimeUtc,
          FirstSeenLocal: first.TimeLocal,
          SeenAtStart: first.Event === 'Initial',
          Records: records,
          SourceFile: first.SourceFile,
          SourceLine: first.SourceLine,
        }));
        // --top keeps the newest: what appeared last is what an admin checks first.
        return options.top === undefined ? rows : rows.slice(Math.max(0, rows.length - options.top));
      },
    };
  },
};
