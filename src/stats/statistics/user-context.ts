import schema from '../../../schemas/stat-user-context.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { limit, LIST_LIMIT, processInstanceKey, Tally, Usage, counted, show, textRendering, type StatisticDefinition, type UsageState, own } from '../statistic';
import { percent } from '../time';
import { compareText } from '../../output/collate';

class UserUsage extends Usage {
  readonly instances = new Set<string>();
  readonly processes = new Tally();
}

export const userContext: StatisticDefinition = {
  name: 'user-context',
  title: 'User context usage',
  definition:
    'One row per user account (DOMAIN\\user as logged). Processes counts the distinct process instances (computer, PID, start time) that ran under it and used a port, the original\'s "how often each user account is used to start local processes"; Records counts their port uses.',
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('User context usage', (r) => `${show(r.UserName).padEnd(30)}  ${counted(r.Processes, 'process', r.ProcessPercent)}, ${counted(r.Records, 'record', r.RecordPercent)}  ${show(r.ProcessNames)}`),
    tableColumns: ['ComputerName', 'UserName', 'Processes', 'ProcessPercent', 'Records', 'RecordPercent', 'ProcessNames'],
  }),
  create(options) {
    const users = new Map<string | null, UserUsage>();
    return {
      add(record, facts) {
        let usage = users.get(record.UserName);
        if (!usage) users.set(own(record.UserName), (usage = new UserUsage()));
        usage.count(record, facts);
        usage.instances.add(processInstanceKey(record));
        usage.processes.add(record.ProcessName);
      },
      save() {
        return [...users].map(([name, u]) => [name, u.saveUsage(), [...u.instances], u.processes.save()]);
      },
      merge(state) {
        for (const [name, usage, instances, processes] of state as [string | null, UsageState, string[], Parameters<Tally['merge']>[0]][]) {
          let u = users.get(name);
          if (!u) users.set(name, (u = new UserUsage()));
          u.mergeUsage(usage);
          for (const i of instances) u.instances.add(i);
          u.processes.merge(processes);
        }
      },
      approximate: () => [...users.values()].some((u) => u.processes.pruned),
      rows(totals) {
        let allInstances = 0;
        for (const usage of users.values()) allInstances += usage.instances.size;
        const ranked = [...users].sort(
          ([ka, a], [kb, b]) => b.instances.size - a.instances.size || b.records - a.records || compareText(String(ka), String(kb)),
        );
        return limit(ranked, options.top).map(([userName, usage]) => ({
          UserName: userName,
          Processes: usage.instances.size,
          ProcessPercent: percent(usage.instances.size, allInstances),
          Records: usage.records,
          RecordPercent: percent(usage.records, totals.records),
          ProcessNames: usage.processes.top(LIST_LIMIT),
          FirstSeenUtc: usage.firstSeenUtc,
          LastSeenUtc: usage.lastSeenUtc,
        }));
      },
    };
  },
};
