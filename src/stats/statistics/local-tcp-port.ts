import schema from '../../../schemas/stat-local-tcp-port.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { grown, PortIds, TextTallyColumns, UsageColumns } from '../columns';
import { lazyRows, byRecordsThenKey, limit, LIST_LIMIT, type Tally, counted, show, textRendering, type StatisticDefinition, type UsageState } from '../statistic';
import { percent } from '../time';

/** What --partial saves per port: port, usage, listen records, connection records, process names. */
type Saved = [number, UsageState, number, number, Parameters<Tally['merge']>[0]];

export const localTcpPort: StatisticDefinition = {
  name: 'local-tcp-port',
  title: 'Local TCP port usage',
  definition:
    'One row per local TCP port, listeners and connections alike. Records counts the TCP records with that local port, RecordPercent is their share of all TCP records, and PercentOfTime is the share of observed hours in which the port was used.',
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Local TCP port usage', (r) => `TCP ${String(r.LocalPort).padEnd(5)}  ${counted(r.Records, 'record', r.RecordPercent)}, ${r.PercentOfTime}% of time (${counted(r.ActiveHours, 'hour')})  ${show(r.ProcessNames)}`),
    tableColumns: ['ComputerName', 'LocalPort', 'Records', 'ListenRecords', 'ConnectionRecords', 'RecordPercent', 'ActiveHours', 'PercentOfTime', 'ProcessNames'],
  }),
  create(options) {
    // The table as columns (src/stats/columns.ts), a port's id read straight from PortIds: on a busy
    // server's log every outbound connection brings an ephemeral local port, tens of thousands of them.
    const usage = new UsageColumns();
    let listens = new Float64Array(0);
    let connections = new Float64Array(0);
    const processes = new TextTallyColumns();
    const ids = new PortIds({
      get records() {
        return usage.records;
      },
      grow(n) {
        usage.grow(n);
        listens = grown(listens, n);
        connections = grown(connections, n);
        processes.grow(n);
      },
      reset(id) {
        usage.reset(id);
        listens[id] = 0;
        connections[id] = 0;
        processes.reset(id);
      },
    });
    const idOf = (port: number): number => {
      const id = ids.get(port);
      return id >= 0 ? id : ids.add(port);
    };
    return {
      add(record, facts) {
        if (record.Protocol !== 'TCP' || record.LocalPort === null) return;
        const id = idOf(record.LocalPort);
        usage.count(id, record, facts);
        if (facts.listener) listens[id]!++;
        else if (facts.connection) connections[id]!++;
        processes.add(id, record.ProcessName);
      },
      save() {
        return ids.keys.map((port, id): Saved => [port, usage.saveUsage(id), listens[id]!, connections[id]!, processes.save(id)]);
      },
      merge(state) {
        for (const [port, savedUsage, savedListens, savedConnections, savedProcesses] of state as Saved[]) {
          const id = idOf(port);
          usage.mergeUsage(id, savedUsage);
          listens[id]! += savedListens;
          connections[id]! += savedConnections;
          processes.merge(id, savedProcesses);
        }
      },
      approximate: () => ids.keys.some((_, id) => processes.pruned(id)),
      rows(totals) {
        const ranked = ids.keys.map((key, id) => ({ id, key, usage: { records: usage.records[id]! } })).sort(byRecordsThenKey);
        return lazyRows(limit(ranked, options.top), ({ id, key, usage: { records } }) => ({
          LocalPort: key,
          Records: records,
          ListenRecords: listens[id]!,
          ConnectionRecords: connections[id]!,
          RecordPercent: percent(records, totals.tcpRecords),
          ActiveHours: usage.hours(id),
          PercentOfTime: percent(usage.hours(id), totals.observedHours.size),
          ProcessNames: processes.top(id, LIST_LIMIT),
          FirstSeenUtc: usage.firstSeenUtc[id]!,
          LastSeenUtc: usage.lastSeenUtc[id]!,
        }));
      },
    };
  },
};
