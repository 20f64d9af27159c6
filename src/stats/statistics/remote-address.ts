import schema from '../../../schemas/stat-remote-address.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { AddressedUsage, lazyRows, AdmissionSketch, BoundedTable, PortTally, byRecordsThenKey, limit, LIST_LIMIT, Tally, counted, show, textRendering, type StatisticDefinition, type UsageState, addressKey, own } from '../statistic';
import { percent } from '../time';

class AddressUsage extends AddressedUsage {
  hostName: string | null = null;
  readonly ports = new PortTally();
  readonly processes = new Tally();
}

/** Remote addresses counted at once; past twice this, the least used are dropped (BoundedTable). */
export const REMOTE_ADDRESS_CAPACITY = 20_000;

export const remoteAddress: StatisticDefinition = {
  name: 'remote-address',
  title: 'Remote IP address usage',
  definition:
    'One row per remote IP address of TCP connections (listeners and UDP endpoints have none). Connections counts the connection records with that address, ConnectionPercent their share of all connection records, and PercentOfTime the share of observed hours with a connection to it. Beyond 40,000 distinct addresses the least used are dropped and new ones counted approximately until they are frequent enough to be kept, so memory stays flat, the top of the list stays right and its tail is incomplete.',
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Remote IP address usage', (r) => `${show(r.RemoteAddress).padEnd(15)}${r.RemoteHostName ? ` (${show(r.RemoteHostName)})` : ''}  ${counted(r.Connections, 'connection', r.ConnectionPercent)}, ${r.PercentOfTime}% of time  ports ${show(r.RemotePorts)}  by ${show(r.ProcessNames)}`),
    tableColumns: ['ComputerName', 'RemoteAddress', 'RemoteHostName', 'Connections', 'ConnectionPercent', 'ActiveHours', 'PercentOfTime', 'RemotePorts', 'ProcessNames'],
  }),
  create(options) {
    const addresses = new BoundedTable<AddressUsage>(REMOTE_ADDRESS_CAPACITY, new AdmissionSketch());
    return {
      add(record, facts) {
        if (!facts.connection) return;
        const address = record.RemoteAddress!;
        const key = addressKey(address);
        let usage = addresses.get(key);
        if (!usage) {
          const admitted = addresses.admit(key);
          if (admitted === 0) return;
          usage = addresses.add(key, new AddressUsage(address));
          usage.hostName = own(record.RemoteHostName);
          usage.records = admitted - 1;
        }
        usage.count(record, facts);
        usage.hostName ??= record.RemoteHostName;
        usage.ports.add(record.RemotePort);
        usage.processes.add(record.ProcessName);
      },
      save() {
        return { pruned: addresses.pruned, entries: [...addresses.entries.values()].map((u) => [u.address, u.hostName, u.saveUsage(), u.ports.save(), u.processes.save()]) };
      },
      merge(state) {
        type Saved = [string, string | null, UsageState, Parameters<PortTally['merge']>[0], Parameters<Tally['merge']>[0]];
        const saved = state as { pruned: boolean; entries: Saved[] };
        addresses.mergeEntries(
          saved.entries.map(([address, ...rest]) => [addressKey(address), [address, ...rest]] as [string | number, [string, ...typeof rest]]),
          (_key, [address]) => new AddressUsage(address),
          (u, [, hostName, usage, ports, processes]) => {
            u.mergeUsage(usage);
            u.hostName ??= hostName;
            u.ports.merge(ports);
            u.processes.merge(processes);
          },
          saved.pruned,
        );
      },
      approximate: () => addresses.pruned || [...addresses.entries.values()].some((u) => u.ports.pruned || u.processes.pruned),
      rows(totals) {
        const ranked = [...addresses.entries.values()].map((usage) => ({ key: usage.address, usage })).sort(byRecordsThenKey);
        return lazyRows(limit(ranked, options.top), ({ key, usage }) => ({
          RemoteAddress: key,
          RemoteHostName: usage.hostName,
          Connections: usage.records,
          ConnectionPercent: percent(usage.records, totals.connectionRecords),
          ActiveHours: usage.hours.size,
          PercentOfTime: percent(usage.hours.size, totals.observedHours.size),
          RemotePorts: usage.ports.top(LIST_LIMIT),
          ProcessNames: usage.processes.top(LIST_LIMIT),
          FirstSeenUtc: usage.firstSeenUtc,
          LastSeenUtc: usage.lastSeenUtc,
        }));
      },
    };
  },
};
