import { Command, Option } from 'clipanion';
import { ExitCode } from '../src/exit-codes';
import type { PlatformBackend, ProcessInfo, Snapshot } from '../src/platform/types';
import type { OwnedEndpoint } from '../src/recorder/endpoints';
import { parseDuration } from '../src/recorder/options';
import { untilStopped } from '../src/recorder/stop-signal';
import { BaseCommand, parseIntegerOption } from './BaseCommand';
import type { Output } from '../src/output/emitter';
import { commandLineText, QueryLogFile, withQueryLog } from '../src/query/log-file';

// The platform backend and what local mode and the watches compute from it are imported when they run
// (`await import`): the startup snapshot holds these commands' options only (docs/benchmarks.md, startup).

/**
 * PortQry's local mode. clipanion chooses among the `query` commands by their required options:
 * `-n` selects QueryCommand, `-local` QueryLocalCommand, `-wport` / `-wpid` the watch commands, and
 * combining them is an unknown-option error, as PortQry makes them mutually exclusive.
 */
abstract class LocalModeCommand extends BaseCommand {
  modules = Option.Boolean('--modules', true, { description: 'Collect loaded modules (--no-modules: faster)' });
  verbose = Option.Boolean('-v,--verbose', false, { description: "PortQry's -v: accepted; local mode always prints every detail" });
  logFile = Option.String('-l,--log-file', { description: "Also write PortQry's text to this log file (PortQry -l); an existing log is replaced only with -y" });

  /** With -l, everything also goes to PortQry's log layout (src/query/log-file.ts), whatever --format stdout uses. */
  protected override wrapOutput(output: Output): Output {
    if (this.logFile === undefined) return output;
    return withQueryLog(output, QueryLogFile.open(this.logFile, this.force, commandLineText(this.context.argv ?? [])));
  }

  /** One backend for all of a watch's checks, so its caches (socket owners, user names) carry over. */
  private backend: PlatformBackend | undefined;

  protected async snapshot(processCache?: Map<string, ProcessInfo>): Promise<Snapshot> {
    this.backend ??= (await import('../src/platform/index')).createPlatformBackend();
    return this.backend.snapshot({ modules: this.modules, processCache });
  }
}

export class QueryLocalCommand extends LocalModeCommand {
  static paths = [['query']];
  static usage = Command.Usage({
    description: 'Which process owns which local TCP and UDP port, with Port Statistics (PortQry -local)',
    details: `
      PortQry's \`-local\`: every TCP and UDP endpoint of this computer with the process that owns it, PortQry's "Port Statistics" (mappings per protocol and the share of each TCP state), and per process its path, user, services, ports and loaded modules.

      Text keeps PortQry's layout. Redirected, it prints PortOwner records (schemas/port-owner.schema.json) followed by PortStatistics records (schemas/port-statistics.schema.json) for the whole computer; \`--statistics\` prints only the statistics, also per process. CSV holds one kind: the owners, or the statistics with \`--statistics\`.

      \`-wport N\` and \`-wpid N\` watch one port or one process instead (see their help).
    `,
    examples: [
      ['Port to process mappings and statistics', '$0 query -local'],
      ['As PowerShell objects', '$0 query -local --json | ConvertFrom-Json'],
      ['Statistics only, for Excel', '$0 query -local --statistics --format csv --out-file stats.csv'],
    ],
  });

  local = Option.Boolean('--local', { required: true, description: 'Local mode (PortQry -local)' });
  statistics = Option.Boolean('--statistics', false, { description: 'Only the Port Statistics records (whole computer and per process)' });

  async run(): Promise<number> {
    const [{ compareEndpoints, ownedEndpoints }, { PortStatisticsKind, portStatistics, processSections, processSectionText }, { PortOwnerKind, toPortOwner }] = await Promise.all([
      import('../src/recorder/endpoints'),
      import('../src/recorder/local-mode'),
      import('../src/recorder/port-owner'),
    ]);
    const snapshot = await this.snapshot();
    const owned = ownedEndpoints(snapshot).sort((a, b) => compareEndpoints(a.endpoint, b.endpoint));
    const machineStats = portStatistics(snapshot.endpoints, snapshot.computerName, snapshot.takenAt, null);
    const sections = processSections(owned);
    if (this.statistics) {
      for (const row of machineStats) this.output.write(PortStatisticsKind, row);
      for (const s of sections) {
        for (const row of portStatistics(s.owned.map((o) => o.endpoint), snapshot.computerName, snapshot.takenAt, s.pid)) this.output.write(PortStatisticsKind, row);
      }
      return ExitCode.Ok;
    }
    this.output.note(['TCP/UDP Port to Process Mappings', '', `${owned.length} mappings found`, '', 'PID:Process\tPort\tLocal IP\tState\tRemote IP:Port']);
    for (const o of owned) {
      if (this.output.closed) return ExitCode.Ok;
      this.output.write(PortOwnerKind, toPortOwner(snapshot, o));
    }
    this.output.note(['', 'Port Statistics', '']);
    if (this.output.format !== 'csv') for (const row of machineStats) this.output.write(PortStatisticsKind, row);
    this.output.note([
      '',
      'Port and Module Information by Process',
      '',
      'Note: restrictions applied to some processes may',
      'prevent portqry-ts from accessing more information',
      '',
      'For best results run portqry-ts as an administrator (root)',
      '',
    ]);
    for (const s of sections) this.output.note(processSectionText(s, snapshot));
    this.output.note(['='.repeat(54)]);
    return ExitCode.Ok;
  }
}

abstract class WatchCommand extends LocalModeCommand {
  interval = Option.String('--watch-interval', '60', { description: 'Seconds between checks (PortQry -wt, 1-1200; default 60; fractions and units such as 500ms allowed)' });
  duration = Option.String('--duration', { description: 'Stop after this long (30s, 10m); default: until Ctrl+C' });

  protected abstract what(): string;
  protected abstract matches(o: OwnedEndpoint): boolean;

  async run(): Promise<number> {
    const intervalMs = parseDuration('-wt', this.interval, 100, 1_200_000);
    const durationMs = this.duration === undefined ? null : parseDuration('--duration', this.duration, 1);
    const [{ runWatch }, { RecordEventKind }] = await Promise.all([import('../src/recorder/watch'), import('../src/recorder/record-event')]);
    await untilStopped((signal) =>
      runWatch({
        snapshot: (cache) => this.snapshot(cache),
        intervalMs,
        durationMs,
        matches: (o) => this.matches(o),
        signal,
        onStart: () => this.output.note([`Watching ${this.what()} every ${intervalMs / 1000} s${durationMs === null ? ' (Ctrl+C to stop)' : ''}`, '']),
        emit: (record) => this.output.write(RecordEventKind, record),
        closed: () => this.output.closed,
      }),
    );
    return ExitCode.Ok;
  }
}

const WATCH_DETAILS = `
  Prints what is there at the start (Initial), then every change at each check: a new endpoint (Opened), one that is gone (Closed, with how long it was seen) and a TCP state change (StateChanged), as RecordEvent records (schemas/record-event.schema.json) or one line each in text. Stops at --duration or Ctrl+C. Changes that come and go between two checks are not seen: lower -wt to see more.
`;

export class QueryWatchPortCommand extends WatchCommand {
  static paths = [['query']];
  static usage = Command.Usage({
    description: 'Watch a local TCP/UDP port for new connections, closes and state changes (PortQry -wport)',
    details: WATCH_DETAILS,
    examples: [
      ['Watch port 443 every 5 seconds', '$0 query -wport 443 -wt 5'],
      ['Watch for ten minutes, as JSON Lines', '$0 query -wport 3389 -wt 1 --duration 10m --json'],
    ],
  });
  port = Option.String('--watch-port', { required: true, description: 'Local port to watch (PortQry -wport)' });
  protected what(): string {
    return `TCP/UDP port ${this.port}`;
  }
  protected matches(o: OwnedEndpoint): boolean {
    return o.endpoint.localPort === parseIntegerOption('-wport', this.port, 0, 65535);
  }
  async run(): Promise<number> {
    parseIntegerOption('-wport', this.port, 0, 65535);
    return super.run();
  }
}

export class QueryWatchPidCommand extends WatchCommand {
  static paths = [['query']];
  static usage = Command.Usage({
    description: 'Watch the ports of one process for new connections, closes and state changes (PortQry -wpid)',
    details: WATCH_DETAILS,
    examples: [['Watch process 1234 every 10 seconds', '$0 query -wpid 1234 -wt 10']],
  });
  pid = Option.String('--watch-pid', { required: true, description: 'Process ID to watch (PortQry -wpid)' });
  protected what(): string {
    return `the ports of process ${this.pid}`;
  }
  protected matches(o: OwnedEndpoint): boolean {
    return o.endpoint.pid === parseIntegerOption('-wpid', this.pid, 0, 4_294_967_295);
  }
  async run(): Promise<number> {
    parseIntegerOption('-wpid', this.pid, 0, 4_294_967_295);
    return super.run();
  }
}
