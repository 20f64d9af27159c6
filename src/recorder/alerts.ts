/**
 * Alerts while recording (`record --criteria FILE`): each new endpoint is matched against the parse
 * criteria (src/portreporter/criteria.ts); a match flags its PR-EVENTS record (Flagged, FlagReasons)
 * and sends one line to the system log (EventId.CriteriaMatched: Windows Application log, Linux
 * syslog), at most `perMinute` lines per criterion in any 60 seconds, so a scan or a busy port cannot
 * flood the log. Matches held back are counted and named in the next line sent for that criterion.
 */
import { EventId, type EventLog } from '../eventlog/types';
import { portqryState } from './local-mode';
import type { CriteriaMatcher } from '../portreporter/criteria';
import type { PortReporterRecord } from '../portreporter/record';
import type { OwnedEndpoint } from './endpoints';

export interface AlertCounters {
  /** New endpoints that matched some criterion (all flagged in PR-EVENTS). */
  matched: number;
  /** Lines sent to the system log. */
  alerted: number;
  /** Criterion matches not sent because of the rate limit. */
  suppressed: number;
}

export interface CriteriaAlertsOptions {
  criteria: CriteriaMatcher;
  /** The system log; alerts go nowhere else. */
  eventLog: EventLog;
  /** Lines per criterion per minute (default 10). */
  perMinute?: number;
  /** Monotonic ms; tests inject one. */
  clock?: () => number;
}

const WINDOW_MS = 60_000;

export class CriteriaAlerts {
  readonly counters: AlertCounters = { matched: 0, alerted: 0, suppressed: 0 };
  /** Per criterion: when its last lines were sent (at most perMinute, oldest first) and how many were held back since. */
  private readonly sent = new Map<string, { times: number[]; held: number }>();
  private readonly perMinute: number;
  private readonly clock: () => number;

  constructor(private readonly options: CriteriaAlertsOptions) {
    this.perMinute = options.perMinute ?? 10;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Matches one new endpoint; returns its FlagReasons (empty: no match) and sends the alert line if allowed. */
  check(owned: OwnedEndpoint, computerName: string): string[] {
    const matches = this.options.criteria.matches(matchable(owned, computerName));
    if (matches.length === 0) return [];
    this.counters.matched++;
    const now = this.clock();
    const allowed: string[] = [];
    let heldBefore = 0;
    for (const m of matches) {
      let s = this.sent.get(m.criterion);
      if (!s) this.sent.set(m.criterion, (s = { times: [], held: 0 }));
      while (s.times.length > 0 && now - s.times[0]! >= WINDOW_MS) s.times.shift();
      if (s.times.length < this.perMinute) {
        s.times.push(now);
        allowed.push(m.reason);
        heldBefore += s.held;
        s.held = 0;
      } else {
        s.held++;
        this.counters.suppressed++;
      }
    }
    if (allowed.length > 0) {
      const held = heldBefore > 0 ? ` (${heldBefore} earlier match(es) of these criteria not sent: at most ${this.perMinute} a minute per criterion)` : '';
      this.options.eventLog.write('warning', `criteria matched on ${computerName}: ${describe(owned)}: ${allowed.join('; ')}${held}`, EventId.CriteriaMatched);
      this.counters.alerted++;
    }
    return matches.map((m) => m.reason);
  }
}

/** `TCP 127.0.0.1:4444 LISTENING, nc PID 123, user HOST\root` */
export function describe({ endpoint: e, process: p }: OwnedEndpoint): string {
  const local = e.localAddress.includes(':') ? `[${e.localAddress}]:${e.localPort}` : `${e.localAddress}:${e.localPort}`;
  const remote = e.remoteAddress === null ? '' : ` -> ${e.remoteAddress.includes(':') ? `[${e.remoteAddress}]` : e.remoteAddress}:${e.remotePort}`;
  const state = e.protocol === 'TCP' ? ` ${portqryState(e.state)}` : '';
  const who = e.pid === null ? 'owner unknown' : `${p?.name ?? 'unknown process'} PID ${e.pid}`;
  const user = p?.user ? `, user ${p.user}` : '';
  return `${e.protocol} ${local}${remote}${state}, ${who}${user}`;
}

/** The fields criteria read, as parse would read them back from the logs. */
function matchable({ endpoint: e, process: p }: OwnedEndpoint, computerName: string): PortReporterRecord {
  return {
    ComputerName: computerName,
    TimeUtc: null,
    TimeLocal: null,
    Event: 'Opened',
    Protocol: e.protocol,
    LocalAddress: e.localAddress,
    LocalPort: e.localPort,
    RemoteAddress: e.remoteAddress,
    RemotePort: e.remotePort,
    State: e.state,
    OwningProcess: e.pid,
    ProcessName: p?.name ?? null,
    ProcessPath: p?.path ?? null,
    CommandLine: p?.commandLine ?? null,
    UserName: p?.user ?? null,
    Services: p?.services ?? [],
    Modules: p?.modules ?? [],
    ProcessStartTime: p?.startTime?.toISOString() ?? null,
    LifetimeSeconds: null,
    RemoteHostName: null,
    Flagged: false,
    FlagReasons: [],
    SourceFile: '',
    SourceLine: 0,
  };
}
