import schema from '../../../schemas/stat-svchost.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { isListening, compareNullable, processInstanceKey, processKey, Usage, show, textRendering, type StatisticDefinition, type UsageState, own } from '../statistic';

class SvchostInstance extends Usage {
  processPath: string | null = null;
  userName: string | null = null;
  readonly services = new Set<string>();
  /** protocol * 65536 + port, so that sorting the numbers sorts TCP before UDP, then by port. */
  readonly listeners = new Set<number>();
  constructor(readonly computer: string | null, readonly pid: number | null, readonly startTime: string | null) {
    super();
  }
}

export const svchost: StatisticDefinition = {
  name: 'svchost',
  title: 'svchost.exe enumeration',
  definition:
    'One row per svchost.exe instance (computer, PID, start time) with every service it hosts (from the process detail in PR-PIDS / PR-INITIAL), its listening ports (TCP listeners, and UDP endpoints below the dynamic range 49152-65535, whose UDP sockets are clients), and how many records it has.',
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('svchost.exe enumeration', (r) => `${show(r.ComputerName)} PID ${show(r.OwningProcess)}  ${show(r.UserName)}  listening: ${show(r.ListeningPorts)}  services: ${show(r.Services)}`, { showComputer: false }),
    tableColumns: ['ComputerName', 'OwningProcess', 'UserName', 'Services', 'ListeningPorts', 'Records'],
  }),
  create() {
    const instances = new Map<string, SvchostInstance>();
    return {
      add(record, facts) {
        if (processKey(record.ProcessName) !== 'svchost.exe') return;
        const key = processInstanceKey(record);
        let instance = instances.get(key);
        if (!instance) instances.set(key, (instance = new SvchostInstance(own(record.ComputerName), record.OwningProcess, own(record.ProcessStartTime))));
        instance.count(record, facts);
        instance.processPath ??= own(record.ProcessPath);
        instance.userName ??= own(record.UserName);
        for (const service of record.Services ?? []) if (!instance.services.has(service)) instance.services.add(own(service));
        if (isListening(record, facts)) instance.listeners.add((record.Protocol === 'TCP' ? 0 : 65536) + record.LocalPort!);
      },
      save() {
        return [...instances].map(([key, i]) => [key, i.computer, i.pid, i.startTime, i.processPath, i.userName, [...i.services], [...i.listeners], i.saveUsage()]);
      },
      merge(state) {
        type Saved = [string, string | null, number | null, string | null, string | null, string | null, string[], number[], UsageState];
        for (const [key, computer, pid, startTime, processPath, userName, services, listeners, usage] of state as Saved[]) {
          let instance = instances.get(key);
          if (!instance) instances.set(key, (instance = new SvchostInstance(computer, pid, startTime)));
          instance.mergeUsage(usage);
          instance.processPath ??= processPath;
          instance.userName ??= userName;
          for (const s of services) instance.services.add(s);
          for (const l of listeners) instance.listeners.add(l);
        }
      },
      approximate: () => false,
      rows() {
        const sorted = [...instances.values()].sort(
          (a, b) => compareNullable(a.computer, b.computer) || (a.pid ?? -1) - (b.pid ?? -1) || compareNullable(a.startTime, b.startTime),
        );
        return sorted.map((i) => ({
          ComputerName: i.computer,
          OwningProcess: i.pid,
          ProcessStartTime: i.startTime,
          ProcessPath: i.processPath,
          UserName: i.userName,
          Services: [...i.services].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })),
          ListeningPorts: [...i.listeners].sort((a, b) => a - b).map((n) => `${n < 65536 ? 'TCP' : 'UDP'} ${n % 65536}`),
          Records: i.records,
          FirstSeenUtc: i.firstSeenUtc,
          LastSeenUtc: i.lastSeenUtc,
        }));
      },
    };
  },
};
