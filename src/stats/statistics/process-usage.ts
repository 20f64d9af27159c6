import schema from '../../../schemas/stat-process-usage.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { byRecordsThenKey, limit, LIST_LIMIT, processInstanceKey, processKey, Tally, Usage, counted, show, textRendering, type StatisticDefinition, type UsageState, own } from '../statistic';
import { percent } from '../time';

class ProcessUsage extends Usage {
  constructor(readonly name: string | null) {
    super();
  }
  readonly instances = new Set<string>();
  readonly users = new Tally();
  readonly paths = new Tally();
}

export const processUsage: StatisticDefinition = {
  name: 'process-usage',
  title: 'Process usage',
  definition:
    'One row per process image name (compared without case, as Windows does). Records counts its port uses, RecordPercent their share of all records, PercentOfTime the share of observed hours in which the process used a port, and Instances the distinct (computer, PID, start time) processes of that name.',
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Process usage', (r) => `${show(r.ProcessName).padEnd(20)}  ${counted(r.Records, 'record', r.RecordPercent)}, ${r.PercentOfTime}% of time (${counted(r.ActiveHours, 'hour')}), ${counted(r.Instances, 'instance')}  users: ${show(r.UserNames)}`),
    tableColumns: ['ComputerName', 'ProcessName', 'Records', 'RecordPercent', 'ActiveHours', 'PercentOfTime', 'Instances', 'UserNames'],
  }),
  create(options) {
    const processes = new Map<string, ProcessUsage>();
    return {
      add(record, facts) {
        const key = processKey(record.ProcessName);
        let usage = processes.get(key);
        if (!usage) processes.set(own(key), (usage = new ProcessUsage(own(record.ProcessName))));
        usage.count(record, facts);
        usage.instances.add(processInstanceKey(record));
        usage.users.add(record.UserName);
        usage.paths.add(record.ProcessPath);
      },
      save() {
        return [...processes].map(([key, u]) => [key, u.name, u.saveUsage(), [...u.instances], u.users.save(), u.paths.save()]);
      },
      merge(state) {
        type SavedTally = Parameters<Tally['merge']>[0];
        for (const [key, name, usage, instances, users, paths] of state as [string, string | null, UsageState, string[], SavedTally, SavedTally][]) {
          let u = processes.get(key);
          if (!u) processes.set(key, (u = new ProcessUsage(name)));
          u.mergeUsage(usage);
          for (const i of instances) u.instances.add(i);
          u.users.merge(users);
          u.paths.merge(paths);
        }
      },
      approximate: () => [...processes.values()].some((u) => u.users.pruned || u.paths.pruned),
      rows(totals) {
        const ranked = [...processes].map(([key, usage]) => ({ key, usage })).sort(byRecordsThenKey);
        return limit(ranked, options.top).map(({ usage }) => ({
          ProcessName: usage.name,
          Records: usage.records,
          RecordPercent: percent(usage.records, totals.records),
          ActiveHours: usage.hours.size,
          PercentOfTime: percent(usage.hours.size, totals.observedHours.size),
          Instances: usage.instances.size,
          UserNames: usage.users.top(LIST_LIMIT),
          ProcessPaths: usage.paths.top(LIST_LIMIT),
          FirstSeenUtc: usage.firstSeenUtc,
          LastSeenUtc: usage.lastSeenUtc,
        }));
      },
    };
  },
};
