import schema from '../../../schemas/stat-process-endpoint.schema.json';
import { defineRecordKind, type OutputRecord, type RecordSchema } from '../../output/record-kind';
import { AddressedUsage, AdmissionSketch, BoundedTable, byRecordsThenKey, processKey, counted, show, textRendering, type StatisticDefinition, type UsageState, endpointKey, own } from '../statistic';
import { percent } from '../time';

class EndpointUsage extends AddressedUsage {
  hostName: string | null = null;
  constructor(
    address: string,
    readonly port: number | null,
  ) {
    super(address);
  }
}

interface ProcessEndpoints {
  name: string | null;
  connections: number;
  endpoints: BoundedTable<EndpointUsage>;
}

/** Endpoints listed per process when --top is not given. */
export const DEFAULT_ENDPOINTS_PER_PROCESS = 10;
/**
 * Endpoints counted per process; past twice this the least used are dropped (BoundedTable): a server
 * process sees a new client address and port with every inbound connection.
 */
const ENDPOINTS_PER_PROCESS_CAPACITY = 1_000;

export const processEndpoint: StatisticDefinition = {
  name: 'process-endpoint',
  title: 'Top remote endpoints per process',
  definition:
    'For each process (most connections first), its remote address and port pairs ranked by connection records: the top 10, or --top N. ConnectionPercent is the share of that process\'s connections. Per process, up to 2,000 distinct endpoints are counted at once; beyond that the least used are dropped and new ones counted approximately until frequent enough to be kept, which leaves the top ones right.',
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Top remote endpoints per process', (r) => `${show(r.ProcessName).padEnd(20)} #${String(r.Rank).padEnd(3)} ${show(r.RemoteAddress)}:${show(r.RemotePort)}${r.RemoteHostName ? ` (${show(r.RemoteHostName)})` : ''}  ${counted(r.Connections, 'connection', r.ConnectionPercent)}`),
    tableColumns: ['ComputerName', 'ProcessName', 'Rank', 'RemoteAddress', 'RemotePort', 'RemoteHostName', 'Connections', 'ConnectionPercent'],
  }),
  create(options) {
    const processes = new Map<string, ProcessEndpoints>();
    const sketch = new AdmissionSketch();
    return {
      add(record, facts) {
        if (!facts.connection) return;
        const pkey = processKey(record.ProcessName);
        let process = processes.get(pkey);
        if (!process) processes.set(pkey, (process = { name: own(record.ProcessName), connections: 0, endpoints: new BoundedTable(ENDPOINTS_PER_PROCESS_CAPACITY, sketch) }));
        process.connections++;
        const ekey = endpointKey(record.RemoteAddress!, record.RemotePort);
        let usage = process.endpoints.get(ekey);
        if (!usage) {
          const admitted = process.endpoints.admit(ekey);
          if (admitted === 0) return;
          usage = process.endpoints.add(ekey, new EndpointUsage(record.RemoteAddress!, record.RemotePort));
          usage.records = admitted - 1;
        }
        usage.count(record, facts);
        usage.hostName ??= record.RemoteHostName;
      },
      save() {
        return [...processes].map(([pkey, p]) => [pkey, p.name, p.connections, p.endpoints.pruned, [...p.endpoints.entries.values()].map((u) => [u.address, u.port, u.hostName, u.saveUsage()])]);
      },
      merge(state) {
        type Saved = [string, string | null, number, boolean, [string, number | null, string | null, UsageState][]];
        for (const [pkey, name, connections, pruned, endpoints] of state as Saved[]) {
          let process = processes.get(pkey);
          if (!process) processes.set(pkey, (process = { name, connections: 0, endpoints: new BoundedTable(ENDPOINTS_PER_PROCESS_CAPACITY, sketch) }));
          process.connections += connections;
          process.endpoints.mergeEntries(
            endpoints.map((saved) => [endpointKey(saved[0], saved[1]), saved] as const),
            (_key, [address, port]) => new EndpointUsage(address, port),
            (u, [, , hostName, usage]) => {
              u.mergeUsage(usage);
              u.hostName ??= hostName;
            },
            pruned,
          );
        }
      },
      approximate: () => [...processes.values()].some((p) => p.endpoints.pruned),
      rows() {
        const perProcess = options.top ?? DEFAULT_ENDPOINTS_PER_PROCESS;
        const ordered = [...processes].sort(([ka, a], [kb, b]) => b.connections - a.connections || (ka < kb ? -1 : ka > kb ? 1 : 0));
        const rows: OutputRecord[] = [];
        for (const [, process] of ordered) {
          const ranked = [...process.endpoints.entries.values()].map((usage) => ({ key: `${usage.address}\u0000${usage.port ?? ''}`, usage })).sort(byRecordsThenKey);
          ranked.slice(0, perProcess).forEach(({ usage }, i) =>
            rows.push({
              ProcessName: process.name,
              Rank: i + 1,
              RemoteAddress: usage.address,
              RemotePort: usage.port,
              RemoteHostName: usage.hostName,
              Connections: usage.records,
              ConnectionPercent: percent(usage.records, process.connections),
              FirstSeenUtc: usage.firstSeenUtc,
              LastSeenUtc: usage.lastSeenUtc,
            }),
          );
        }
        return rows;
      },
    };
  },
};
