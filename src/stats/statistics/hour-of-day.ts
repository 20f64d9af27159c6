import schema from '../../../schemas/stat-hour-of-day.schema.json';
import { defineRecordKind, type RecordSchema } from '../../output/record-kind';
import { IndexSet } from '../index-set';
import { counted, textRendering, type StatisticDefinition } from '../statistic';
import { percent } from '../time';

class HourUsage {
  records = 0;
  tcp = 0;
  udp = 0;
  readonly days = new IndexSet();
  /** One bit per (protocol, port): 16 KB per hour, whatever the number of records. */
  readonly ports = new Uint8Array((2 * 65536) / 8);
  distinctPorts = 0;
}

export const hourOfDay: StatisticDefinition = {
  name: 'hour-of-day',
  title: 'Port usage by hour of day',
  definition:
    "24 rows, one per hour of the day in the server's local time as the log writes it. Records counts the port uses logged in that hour on any day, Days the days that had any, and AveragePerDay is Records divided by the observed days (days with any record): the peak hours stand out.",
  kind: defineRecordKind(schema as RecordSchema, {
    ...textRendering('Port usage by hour of day (server local time)', (r) => `${String(r.Hour).padStart(2, '0')}:00-${String(r.Hour).padStart(2, '0')}:59  ${'#'.repeat(Math.round((r.RecordPercent as number) / 2.5)).padEnd(40)}  ${counted(r.Records, 'record', r.RecordPercent)}, ${r.AveragePerDay} per day`),
    tableColumns: ['ComputerName', 'Hour', 'Records', 'TcpRecords', 'UdpRecords', 'RecordPercent', 'Days', 'AveragePerDay', 'DistinctLocalPorts'],
  }),
  create() {
    const hours = Array.from({ length: 24 }, () => new HourUsage());
    const observedDays = new IndexSet();
    let timedRecords = 0;
    return {
      add(record, facts) {
        if (facts.hourOfDay < 0) return;
        const usage = hours[facts.hourOfDay]!;
        timedRecords++;
        usage.records++;
        if (record.Protocol === 'TCP') usage.tcp++;
        else usage.udp++;
        usage.days.add(facts.day);
        observedDays.add(facts.day);
        if (record.LocalPort !== null) {
          const bit = (record.Protocol === 'TCP' ? 0 : 65536) + record.LocalPort;
          const mask = 1 << (bit & 7);
          if ((usage.ports[bit >>> 3]! & mask) === 0) {
            usage.ports[bit >>> 3]! |= mask;
            usage.distinctPorts++;
          }
        }
      },
      save() {
        return {
          timedRecords,
          observedDays: observedDays.values(),
          hours: hours.map((u) => [u.records, u.tcp, u.udp, u.days.values(), setBits(u.ports)]),
        };
      },
      merge(state) {
        const saved = state as { timedRecords: number; observedDays: number[]; hours: [number, number, number, number[], number[]][] };
        timedRecords += saved.timedRecords;
        for (const d of saved.observedDays) observedDays.add(d);
        saved.hours.forEach(([records, tcp, udp, days, ports], hour) => {
          const u = hours[hour]!;
          u.records += records;
          u.tcp += tcp;
          u.udp += udp;
          for (const d of days) u.days.add(d);
          for (const bit of ports) {
            const mask = 1 << (bit & 7);
            if ((u.ports[bit >>> 3]! & mask) === 0) {
              u.ports[bit >>> 3]! |= mask;
              u.distinctPorts++;
            }
          }
        });
      },
      approximate: () => false,
      rows() {
        return hours.map((usage, hour) => ({
          Hour: hour,
          Records: usage.records,
          TcpRecords: usage.tcp,
          UdpRecords: usage.udp,
          RecordPercent: percent(usage.records, timedRecords),
          Days: usage.days.size,
          AveragePerDay: observedDays.size === 0 ? 0 : Math.round((usage.records * 100) / observedDays.size) / 100,
          DistinctLocalPorts: usage.distinctPorts,
        }));
      },
    };
  },
};

/** The (protocol, port) numbers set in a bitmap, in increasing order. */
function setBits(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length; i++) {
    const byte = bitmap[i]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(i * 8 + bit);
  }
  return out;
}
