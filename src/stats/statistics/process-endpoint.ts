import schema from '../../../schemas/stat-process-endpoint.schema.json';
import { defineRecordKind, type OutputRecord, type RecordSchema } from '../../output/record-kind';
import { checkPort, grown, KeyIds, UsageColumns } from '../columns';
import { addressKeyOf, addressText, AdmissionSketch, byRecordsThenKey, distinctAddressKey, processKey, counted, show, textRendering, type StatisticDefinition, type UsageState, endpointKey, own } from '../statistic';
import { percent } from '../time';

/** What --partial saves per process: key, name, connections, pruned, and per endpoint its address, port, host name and usage. */
type Saved = [string, string | null, number, boolean, [string, number | null, string | null, UsageState][]];

/**
 * A process's endpoints as columns (src/stats/columns.ts): per endpoint id its usage, remote address
 * (as distinctAddressKey gives it: a number for a canonical IPv4 address), port and host name.
 */
class ProcessEndpoints {
  connections = 0;
  readonly usage = new UsageColumns();
  /** port + 1 per id; 0: none. */
  private ports = new Int32Array(0);
  private readonly addresses: (string | number)[] = [];
  readonly hostNames: (string | null)[] = [];
  readonly ids: KeyIds;

  constructor(
    readonly name: string | null,
    sketch: AdmissionSketch,
  ) {
    const { usage } = this;
    // One sketch for every process's table (each salts its keys), as the BoundedTables had.
    this.ids = new KeyIds(ENDPOINTS_PER_PROCESS_CAPACITY, {
      get records() {
        return usage.records;
      },
      grow: (n) => {
        usage.grow(n);
        this.ports = grown(this.ports, n);
      },
      reset: (id) => {
        usage.reset(id);
        this.hostNames[id] = null;
      },
    }, sketch);
  }

  /** A new endpoint's id; `label` is its address as distinctAddressKey gives it. */
  add(key: string | number, label: string | number, port: number | null): number {
    // A port that is none (a damaged partial) would also give another endpoint's key.
    if (port !== null) checkPort(port);
    const id = this.ids.add(key);
    this.addresses[id] = typeof label === 'number' ? label : own(label);
    this.ports[id] = port === null ? 0 : port + 1;
    return id;
  }

  address(id: number): string {
    return addressText(this.addresses[id]!);
  }

  port(id: number): number | null {
    return this.ports[id] === 0 ? null : this.ports[id]! - 1;
  }
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
  readsRemoteKey: true,
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Top remote endpoints per process', (r) => `${show(r.ProcessName).padEnd(20)} #${String(r.Rank).padEnd(3)} ${show(r.RemoteAddress)}:${show(r.RemotePort)}${r.RemoteHostName ? ` (${show(r.RemoteHostName)})` : ''}  ${counted(r.Connections, 'connection', r.ConnectionPercent)}`),
    tableColumns: ['ComputerName', 'ProcessName', 'Rank', 'RemoteAddress', 'RemotePort', 'RemoteHostName', 'Connections', 'ConnectionPercent'],
  }),
  create(options) {
    const processes = new Map<string, ProcessEndpoints>();
    const sketch = new AdmissionSketch();
    const processOf = (pkey: string, name: string | null): ProcessEndpoints => {
      let process = processes.get(pkey);
      if (!process) processes.set(pkey, (process = new ProcessEndpoints(own(name), sketch)));
      return process;
    };
    return {
      add(record, facts) {
        if (!facts.connection) return;
        const process = processOf(processKey(record.ProcessName), record.ProcessName);
        process.connections++;
        const label = facts.remoteKey;
        const ekey = endpointKey(record.RemoteAddress!, record.RemotePort, addressKeyOf(label));
        let id = process.ids.get(ekey);
        if (id < 0) {
          const admitted = process.ids.admit(ekey);
          if (admitted === 0) return;
          id = process.add(ekey, label, record.RemotePort);
          process.usage.records[id] = admitted - 1;
        }
        process.usage.count(id, record, facts);
        const hostName = record.RemoteHostName;
        if (hostName !== null && hostName !== undefined && process.hostNames[id] === null) process.hostNames[id] = own(hostName);
      },
      save() {
        return [...processes].map(([pkey, p]): Saved => [pkey, p.name, p.connections, p.ids.pruned, p.ids.order.map((id) => [p.address(id), p.port(id), p.hostNames[id]!, p.usage.saveUsage(id)])]);
      },
      merge(state) {
        for (const [pkey, name, connections, pruned, endpoints] of state as Saved[]) {
          const process = processOf(pkey, name);
          process.connections += connections;
          for (const [address, port, hostName, usage] of endpoints) {
            const key = endpointKey(address, port);
            let id = process.ids.get(key);
            if (id < 0) id = process.add(key, distinctAddressKey(address), port);
            process.usage.mergeUsage(id, usage);
            process.hostNames[id] ??= hostName;
          }
          if (pruned) process.ids.pruned = true;
        }
      },
      approximate: () => [...processes.values()].some((p) => p.ids.pruned),
      rows() {
        const perProcess = options.top ?? DEFAULT_ENDPOINTS_PER_PROCESS;
        const ordered = [...processes].sort(([ka, a], [kb, b]) => b.connections - a.connections || (ka < kb ? -1 : ka > kb ? 1 : 0));
        const rows: OutputRecord[] = [];
        for (const [, process] of ordered) {
          const ranked = process.ids.order.map((id) => ({ id, key: `${process.address(id)}\u0000${process.port(id) ?? ''}`, usage: { records: process.usage.records[id]! } })).sort(byRecordsThenKey);
          ranked.slice(0, perProcess).forEach(({ id, usage: { records } }, i) =>
            rows.push({
              ProcessName: process.name,
              Rank: i + 1,
              RemoteAddress: process.address(id),
              RemotePort: process.port(id),
              RemoteHostName: process.hostNames[id]!,
              Connections: records,
              ConnectionPercent: percent(records, process.connections),
              FirstSeenUtc: process.usage.firstSeenUtc[id]!,
              LastSeenUtc: process.usage.lastSeenUtc[id]!,
            }),
          );
        }
        return rows;
      },
    };
  },
};
