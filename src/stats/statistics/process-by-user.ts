import schema from '../../../schemas/stat-process-by-user.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { lazyRows, AdmissionSketch, BoundedTable, compareNullable, processKey, Usage, counted, show, textRendering, type StatisticDefinition, type UsageState, own } from '../statistic';

class EndpointUsage extends Usage {
  hostName: string | null = null;
  constructor(
    readonly processName: string | null,
    readonly userName: string | null,
    readonly remoteAddress: string,
    readonly remotePort: number | null,
  ) {
    super();
  }
}

/** (process, user, endpoint) rows counted at once; past twice this the least used are dropped (BoundedTable). */
const PROCESS_BY_USER_CAPACITY = 20_000;

/** The process of the process-by-user report when --process is not given: the original's report. */
export const DEFAULT_REPORTED_PROCESS = 'iexplore.exe';

export const processByUser: StatisticDefinition = {
  name: 'process-by-user',
  title: 'Process usage by user',
  definition:
    "The original's \"Internet Explorer usage by user\" for any process: one row per (process, user, remote address, remote port) of the connections made by the process named with --process (iexplore.exe when --process is not given), so you see which sites or proxies each user reached with it.",
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Process usage by user', (r) => `${show(r.ProcessName)}  ${show(r.UserName)} -> ${show(r.RemoteAddress)}:${show(r.RemotePort)}${r.RemoteHostName ? ` (${show(r.RemoteHostName)})` : ''}  ${counted(r.Connections, 'connection')}`),
    tableColumns: ['ComputerName', 'ProcessName', 'UserName', 'RemoteAddress', 'RemotePort', 'RemoteHostName', 'Connections'],
  }),
  create(options) {
    const endpoints = new BoundedTable<EndpointUsage>(PROCESS_BY_USER_CAPACITY, new AdmissionSketch());
    return {
      add(record, facts) {
        if (!facts.connection || !options.isReportedProcess(record.ProcessName)) return;
        const key = `${processKey(record.ProcessName)}\u0000${record.UserName ?? ''}\u0000${record.RemoteAddress}\u0000${record.RemotePort ?? ''}`;
        let usage = endpoints.get(key);
        if (!usage) {
          const admitted = endpoints.admit(key);
          if (admitted === 0) return;
          usage = endpoints.add(key, new EndpointUsage(own(record.ProcessName), own(record.UserName), own(record.RemoteAddress!), record.RemotePort));
          usage.records = admitted - 1;
        }
        usage.count(record, facts);
        usage.hostName ??= record.RemoteHostName;
      },
      save() {
        return { pruned: endpoints.pruned, entries: [...endpoints.entries].map(([key, u]) => [key, u.processName, u.userName, u.remoteAddress, u.remotePort, u.hostName, u.saveUsage()]) };
      },
      merge(state) {
        const saved = state as { pruned: boolean; entries: [string, string | null, string | null, string, number | null, string | null, UsageState][] };
        endpoints.mergeEntries(
          saved.entries.map(([key, ...rest]) => [key, rest] as [string, typeof rest]),
          (_key, [processName, userName, address, port]) => new EndpointUsage(processName, userName, address, port),
          (u, [, , , , hostName, usage]) => {
            u.mergeUsage(usage);
            u.hostName ??= hostName;
          },
          saved.pruned,
        );
      },
      approximate: () => endpoints.pruned,
      rows() {
        const sorted = [...endpoints.entries.values()].sort(
          (a, b) =>
            compareNullable(processKey(a.processName), processKey(b.processName)) ||
            compareNullable(a.userName, b.userName) ||
            b.records - a.records ||
            compareNullable(a.remoteAddress, b.remoteAddress) ||
            (a.remotePort ?? -1) - (b.remotePort ?? -1),
        );
        return lazyRows(sorted, (u) => ({
          ProcessName: u.processName,
          UserName: u.userName,
          RemoteAddress: u.remoteAddress,
          RemotePort: u.remotePort,
          RemoteHostName: u.hostName,
          Connections: u.records,
          FirstSeenUtc: u.firstSeenUtc,
          LastSeenUtc: u.lastSeenUtc,
        }));
      },
    };
  },
};
