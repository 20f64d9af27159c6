import schema from '../../../schemas/stat-local-tcp-port.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { lazyRows, byRecordsThenKey, limit, LIST_LIMIT, Tally, Usage, counted, show, textRendering, type StatisticDefinition, type UsageState } from '../statistic';
import { percent } from '../time';

class PortUsage extends Usage {
  listens = 0;
  connections = 0;
  readonly processes = new Tally();
}

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
    const ports = new Map<number, PortUsage>();
    return {
      add(record, facts) {
        if (record.Protocol !== 'TCP' || record.LocalPort === null) return;
        let usage = ports.get(record.LocalPort);
        if (!usage) ports.set(record.LocalPort, (usage = new PortUsage()));
        usage.count(record, facts);
        if (facts.listener) usage.listens++;
        else if (facts.connection) usage.connections++;
        usage.processes.add(record.ProcessName);
      },
      save() {
        return [...ports].map(([port, u]) => [port, u.saveUsage(), u.listens, u.connections, u.processes.save()]);
      },
      merge(state) {
        for (const [port, usage, listens, connections, processes] of state as [number, UsageState, number, number, Parameters<Tally['merge']>[0]][]) {
          let u = ports.get(port);
          if (!u) ports.set(port, (u = new PortUsage()));
          u.mergeUsage(usage);
          u.listens += listens;
          u.connections += connections;
          u.processes.merge(processes);
        }
      },
      approximate: () => [...ports.values()].some((u) => u.processes.pruned),
      rows(totals) {
        const ranked = [...ports].map(([key, usage]) => ({ key, usage })).sort(byRecordsThenKey);
        return lazyRows(limit(ranked, options.top), ({ key, usage }) => ({
          LocalPort: key,
          Records: usage.records,
          ListenRecords: usage.listens,
          ConnectionRecords: usage.connections,
          RecordPercent: percent(usage.records, totals.tcpRecords),
          ActiveHours: usage.hours.size,
          PercentOfTime: percent(usage.hours.size, totals.observedHours.size),
          ProcessNames: usage.processes.top(LIST_LIMIT),
          FirstSeenUtc: usage.firstSeenUtc,
          LastSeenUtc: usage.lastSeenUtc,
        }));
      },
    };
  },
};
