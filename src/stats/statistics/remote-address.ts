import schema from '../../../schemas/stat-remote-address.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { KeyIds, PortTallyColumns, TextTallyColumns, UsageColumns, type TableColumns } from '../columns';
import { lazyRows, AdmissionSketch, byRecordsThenKey, limit, LIST_LIMIT, counted, show, textRendering, type StatisticDefinition, type UsageState, addressKeyOf, addressText, distinctAddressKey, own, type Tally } from '../statistic';
import { percent } from '../time';

/** What --partial saves per address: address, host name, usage, remote ports, process names. */
type Saved = [string, string | null, UsageState, ReturnType<PortTallyColumns['save']>, Parameters<Tally['merge']>[0]];

/** Remote addresses counted at once; past twice this, the least used are dropped (BoundedTable). */
export const REMOTE_ADDRESS_CAPACITY = 20_000;

export const remoteAddress: StatisticDefinition = {
  name: 'remote-address',
  title: 'Remote IP address usage',
  definition:
    'One row per remote IP address of TCP connections (listeners and UDP endpoints have none). Connections counts the connection records with that address, ConnectionPercent their share of all connection records, and PercentOfTime the share of observed hours with a connection to it. Beyond 40,000 distinct addresses the least used are dropped and new ones counted approximately until they are frequent enough to be kept, so memory stays flat, the top of the list stays right and its tail is incomplete.',
  readsRemoteKey: true,
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Remote IP address usage', (r) => `${show(r.RemoteAddress).padEnd(15)}${r.RemoteHostName ? ` (${show(r.RemoteHostName)})` : ''}  ${counted(r.Connections, 'connection', r.ConnectionPercent)}, ${r.PercentOfTime}% of time  ports ${show(r.RemotePorts)}  by ${show(r.ProcessNames)}`),
    tableColumns: ['ComputerName', 'RemoteAddress', 'RemoteHostName', 'Connections', 'ConnectionPercent', 'ActiveHours', 'PercentOfTime', 'RemotePorts', 'ProcessNames'],
  }),
  create(options) {
    // The table as columns (src/stats/columns.ts): per address id, its usage, host name, remote ports
    // and process names; the address's text as distinctAddressKey gives it (a number for a canonical
    // IPv4 address).
    const usage = new UsageColumns();
    const ports = new PortTallyColumns();
    const processes = new TextTallyColumns();
    const hostNames: (string | null)[] = [];
    const labels: (string | number)[] = [];
    const columns: TableColumns = {
      get records() {
        return usage.records;
      },
      grow(n) {
        usage.grow(n);
        ports.grow(n);
        processes.grow(n);
      },
      reset(id) {
        usage.reset(id);
        ports.reset(id);
        processes.reset(id);
        hostNames[id] = null;
      },
    };
    const ids = new KeyIds(REMOTE_ADDRESS_CAPACITY, columns, new AdmissionSketch());
    /** A new address's id, its text kept as distinctAddressKey gives it (`label`). */
    const addAddress = (key: string | number, label: string | number): number => {
      const id = ids.add(key);
      labels[id] = typeof label === 'number' ? label : own(label);
      return id;
    };
    const addressOf = (id: number): string => addressText(labels[id]!);
    return {
      add(record, facts) {
        if (!facts.connection) return;
        const label = facts.remoteKey;
        const key = addressKeyOf(label);
        let id = ids.get(key);
        if (id < 0) {
          const admitted = ids.admit(key);
          if (admitted === 0) return;
          id = addAddress(key, label);
          usage.records[id] = admitted - 1;
        }
        usage.count(id, record, facts);
        // Read only when the record has a name (names are resolved on request): one array less per record.
        const hostName = record.RemoteHostName;
        if (hostName !== null && hostName !== undefined && hostNames[id] === null) hostNames[id] = own(hostName);
        ports.add(id, record.RemotePort);
        processes.add(id, record.ProcessName);
      },
      save() {
        return { pruned: ids.pruned, entries: ids.order.map((id): Saved => [addressOf(id), hostNames[id]!, usage.saveUsage(id), ports.save(id), processes.save(id)]) };
      },
      merge(state) {
        const saved = state as { pruned: boolean; entries: Saved[] };
        for (const [text, hostName, savedUsage, savedPorts, savedProcesses] of saved.entries) {
          const label = distinctAddressKey(text);
          const key = addressKeyOf(label);
          let id = ids.get(key);
          if (id < 0) id = addAddress(key, label);
          usage.mergeUsage(id, savedUsage);
          hostNames[id] ??= hostName;
          ports.merge(id, savedPorts);
          processes.merge(id, savedProcesses);
        }
        if (saved.pruned) ids.pruned = true;
      },
      approximate: () => ids.pruned || ids.order.some((id) => ports.pruned(id) || processes.pruned(id)),
      rows(totals) {
        const ranked = ids.order.map((id) => ({ id, key: addressOf(id), usage: { records: usage.records[id]! } })).sort(byRecordsThenKey);
        return lazyRows(limit(ranked, options.top), ({ id, key, usage: { records } }) => ({
          RemoteAddress: key,
          RemoteHostName: hostNames[id]!,
          Connections: records,
          ConnectionPercent: percent(records, totals.connectionRecords),
          ActiveHours: usage.hours(id),
          PercentOfTime: percent(usage.hours(id), totals.observedHours.size),
          RemotePorts: ports.top(id, LIST_LIMIT),
          ProcessNames: processes.top(id, LIST_LIMIT),
          FirstSeenUtc: usage.firstSeenUtc[id]!,
          LastSeenUtc: usage.lastSeenUtc[id]!,
        }));
      },
    };
  },
};
