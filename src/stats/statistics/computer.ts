import schema from '../../../schemas/stat-computer.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { DistinctKeys } from '../columns';
import { compareNullable, limit, processKey, Usage, counted, show, textRendering, type StatisticDefinition, type UsageState, own, distinctAddressKey, addressText } from '../statistic';

class ComputerUsage extends Usage {
  connections = 0;
  listeners = 0;
  udp = 0;
  /** distinctAddressKey of each remote address (numbers for IPv4: no string kept or hashed per record). */
  readonly remoteAddresses = new DistinctKeys();
  readonly processes = new Set<string>();
}

export const computer: StatisticDefinition = {
  name: 'computer',
  title: 'Connections per computer',
  definition:
    'One row per computer whose logs were read (ComputerName from the log header, --computer or the folder name): its records split into TCP connections, TCP listeners and UDP endpoints, with distinct remote addresses and processes, to compare servers read together.',
  readsRemoteKey: true,
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Connections per computer', (r) => `${show(r.ComputerName).padEnd(16)}  ${counted(r.Records, 'record')}: ${counted(r.TcpConnections, 'connection')}, ${counted(r.TcpListeners, 'listener')}, ${r.UdpEndpoints} UDP; ${counted(r.RemoteAddresses, 'remote address')}, ${counted(r.Processes, 'process')}`, { showComputer: false }),
    tableColumns: ['ComputerName', 'Records', 'TcpConnections', 'TcpListeners', 'UdpEndpoints', 'RemoteAddresses', 'Processes', 'ActiveHours', 'FirstSeenUtc', 'LastSeenUtc'],
  }),
  create(options) {
    const computers = new Map<string | null, ComputerUsage>();
    return {
      add(record, facts) {
        let usage = computers.get(record.ComputerName);
        if (!usage) computers.set(own(record.ComputerName), (usage = new ComputerUsage()));
        usage.count(record, facts);
        if (record.Protocol === 'UDP') usage.udp++;
        else if (facts.listener) usage.listeners++;
        if (facts.connection) {
          usage.connections++;
          usage.remoteAddresses.add(facts.remoteKey);
        }
        if (record.ProcessName !== null) usage.processes.add(processKey(record.ProcessName));
      },
      save() {
        return [...computers].map(([name, u]) => [name, u.saveUsage(), u.connections, u.listeners, u.udp, u.remoteAddresses.order.map(addressText), [...u.processes]]);
      },
      merge(state) {
        for (const [name, usage, connections, listeners, udp, addresses, processes] of state as [string | null, UsageState, number, number, number, string[], string[]][]) {
          let u = computers.get(name);
          if (!u) computers.set(name, (u = new ComputerUsage()));
          u.mergeUsage(usage);
          u.connections += connections;
          u.listeners += listeners;
          u.udp += udp;
          for (const a of addresses) u.remoteAddresses.add(distinctAddressKey(a));
          for (const p of processes) u.processes.add(p);
        }
      },
      approximate: () => false,
      rows() {
        const ranked = [...computers].sort(([ka, a], [kb, b]) => b.connections - a.connections || b.records - a.records || compareNullable(ka, kb));
        return limit(ranked, options.top).map(([name, usage]) => ({
          ComputerName: name,
          Records: usage.records,
          TcpConnections: usage.connections,
          TcpListeners: usage.listeners,
          UdpEndpoints: usage.udp,
          RemoteAddresses: usage.remoteAddresses.size,
          Processes: usage.processes.size,
          ActiveHours: usage.hours.size,
          FirstSeenUtc: usage.firstSeenUtc,
          LastSeenUtc: usage.lastSeenUtc,
        }));
      },
    };
  },
};
