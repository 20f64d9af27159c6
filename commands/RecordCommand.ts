import * as path from 'node:path';
import { Command, Option } from 'clipanion';
import { UsageError } from '../src/errors';
import type { EventLog } from '../src/eventlog/types';
import { ExitCode } from '../src/exit-codes';
import { sanitizeLine } from '../src/output/sanitize';
import { defaultLogDir, parseDuration, parseRotation, parseSize } from '../src/recorder/options';
import { EventId } from '../src/eventlog/types';
import { VERSION } from '../src/version';
import { BaseCommand, parseIntegerOption } from './BaseCommand';

// What the recorder, record --once and --install run is imported when they run (`await import`), not
// here: the startup snapshot then holds this command's options only (docs/benchmarks.md, startup;
// test/unit/start-path.test.ts).

export class RecordCommand extends BaseCommand {
  static paths = [['record']];
  static usage = Command.Usage({
    description: 'Record every new port use with its process, user, services and modules (Port Reporter)',
    details: `
      Polls the OS connection tables every --interval and logs each new TCP or UDP endpoint once, with the process that owns it (PID, start time, image, path, command line, user, services, loaded modules), in Port Reporter's three logs: PR-INITIAL (what was open at start), PR-PORTS (one row per new endpoint) and PR-PIDS (one block per process). With --jsonl it also writes PR-EVENTS, a JSON Lines log of every opened and closed endpoint with its lifetime (schemas/record-event.schema.json). docs/log-formats.md describes every file.

      Port Reporter's options work as typed: \`-ld DIR\` (log directory; default %SystemRoot%\\System32\\LogFiles\\PortReporter on Windows, /var/log/portqry-ts on Linux) and \`-ls KB\` (size at which a new set of logs starts; default 5000). --rotate says when a new set starts: at every start, daily, by size, combined with commas (default start,size).

      The logs stay whole whatever happens: each record is one write, a partial last record left by a power cut is removed at the next start, SIGINT/SIGTERM/Ctrl+Break flush and close, and a full disk is reported once on stderr while records are held and written when space returns.

      Retention: --keep N keeps the N newest sets, --max-total SIZE keeps all sets together under SIZE; the oldest whole sets (all four files) are removed at start, at every new set and as the current set grows, never the current one. --rotate daily starts a new set at local midnight.

      The log directory must be safe: it and every folder above it owned by root (or the recorder's user) and writable by nobody else, as sshd's StrictModes requires; otherwise record refuses to start (exit 78) and says which folder to fix. Log files are never followed through links. If the directory is deleted or replaced while recording, it is recreated under the same rules and a new set starts, with a warning on stderr and in the system log. docs/record.md has the rules and every exit code.

      Polling misses connections that open and close between two polls. On Linux the recorder also listens to the kernel's socket destroy events (what \`ss -E\` shows) and records each such short-lived socket once, in PR-PORTS and as an Opened event with Source "destroy-event" (owner unknown, user from the socket's uid); a burst faster than it drains is reported on stderr, never silently lost. Where the kernel refuses that (older kernels need root or CAP_NET_ADMIN) it says once that short-lived capture is off. Elsewhere, lower --interval (down to 100ms) to see more. docs/record-capture.md.

      --criteria FILE alerts while recording: each new endpoint (and each open at start) that matches the criteria file parse --criteria reads is flagged in PR-EVENTS (Flagged, FlagReasons, with the criterion's Message) and sent as one line to the system log (Linux syslog, Windows Application log; event 1400), at most --alerts-per-minute lines per criterion; a process's new modules are re-read when it opens an endpoint, so a late-loaded module is matched too. The system log also gets event 1600 when short-lived capture is off.

      --once prints one snapshot of every endpoint and its owner to stdout (schemas/port-owner.schema.json) and exits; each process's loaded modules are listed only with --modules (Modules is empty otherwise).

      --install runs the recorder at every boot with the other options given. Windows: the service portqry-ts ("portqry-ts Port Reporter", automatic start, LocalSystem, restarted 5 s / 30 s / 60 s after a failure), started at once; see it with Get-Service portqry-ts. Linux: the systemd unit portqry-ts-record.service. --uninstall stops and removes it; --dry-run prints the steps without doing them. The executable must live where only administrators (root) can write, on a local disk: otherwise --install refuses with exit code 78. On Windows, --copy-to-program-files first copies portqry-ts.exe to %ProgramFiles%\\portqry-ts\\ and installs that copy. docs/windows-service.md tells more.
    `,
    examples: [
      ['Record into the default folder until Ctrl+C', '$0 record'],
      ['Record for one hour into a folder, with the event log', '$0 record -ld C:\\PortLogs --duration 1h --jsonl'],
      ['A new set every day, the last 30 days kept, at most 2 GB in all', '$0 record --rotate daily,size --keep 30 --max-total 2GB'],
      ['Who owns which port right now, as PowerShell objects', '$0 record --once --json | ConvertFrom-Json'],
      ['The same with each process\'s loaded modules', '$0 record --once --modules --json'],
      ['Start recording at every boot', '$0 record --install -ld /var/log/portqry-ts --jsonl'],
      ['Show what --install would do', '$0 record --install --dry-run'],
      ['Windows: install the service from a copy in Program Files', '$0 record --install --copy-to-program-files -ld C:\\PortLogs'],
      ['Remove the service (or the systemd unit)', '$0 record --uninstall'],
      ['Alert (syslog / Application log) when a watched port or process shows up', '$0 record -ld /var/log/portqry-ts --jsonl --criteria /etc/portqry-ts/criteria.json'],
    ],
  });

  logDir = Option.String('--log-dir', { description: 'Log directory (Port Reporter -ld)' });
  logSize = Option.String('--log-size', '5000', { description: 'Start a new set of logs when a file would exceed this many KB (Port Reporter -ls; default 5000)' });
  rotate = Option.String('--rotate', 'start,size', { description: 'When a new set of logs starts: start, daily (at local midnight), size, combined with commas, or none (default start,size)' });
  keep = Option.String('--keep', { description: 'Keep at most N sets of logs (the current one included); the oldest whole sets are removed' });
  maxTotal = Option.String('--max-total', { description: 'Keep all sets together under SIZE (500MB, 2GB); the oldest whole sets are removed, never the current one' });
  interval = Option.String('--interval', '1s', { description: 'Time between polls: 100ms or more (default 1s)' });
  duration = Option.String('--duration', { description: 'Stop after this long (30s, 10m, 8h); default: until stopped' });
  jsonl = Option.Boolean('--jsonl', false, { description: 'Also write the JSON Lines event log PR-EVENTS-<suffix>.jsonl (opened and closed endpoints, lifetimes, UTC times)' });
  destroyEvents = Option.Boolean('--destroy-events', true, { description: 'Linux: also record sockets that open and close between two polls, from the kernel\'s destroy events (older kernels: root or CAP_NET_ADMIN; --no-destroy-events: polling only)' });
  modules = Option.Boolean('--modules', { description: 'Loaded modules of each process: recorded by default (--no-modules: faster, smaller logs); with --once only when asked for' });
  criteria = Option.String('--criteria', { description: 'Alert while recording: a new endpoint matching this criteria file (the one parse --criteria reads, schemas/criteria.schema.json) is flagged in PR-EVENTS and sent to the system log (syslog / Application log, event 1400)' });
  alertsPerMinute = Option.String('--alerts-per-minute', '10', { description: 'With --criteria: at most this many system-log lines per criterion per minute (default 10)' });
  once = Option.Boolean('--once', false, { description: 'Print one snapshot of every endpoint and its owner to stdout, then exit' });
  install = Option.Boolean('--install', false, { description: 'Start the recorder at every boot with these options (Windows service portqry-ts / systemd unit)' });
  copyToProgramFiles = Option.Boolean('--copy-to-program-files', false, { description: 'Windows, with --install: copy portqry-ts.exe to %ProgramFiles%\\portqry-ts\\ and install that copy' });
  service = Option.Boolean('--service', false, { hidden: true });
  uninstall = Option.Boolean('--uninstall', false, { description: 'Remove what --install registered' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'With --install/--uninstall: print the steps, do nothing' });
  unitDir = Option.String('--unit-dir', { description: 'Linux: where --install writes the systemd unit (default /etc/systemd/system)' });

  async run(): Promise<number> {
    const exclusive = [this.once && '--once', this.install && '--install', this.uninstall && '--uninstall', this.service && '--service'].filter(Boolean);
    if (exclusive.length > 1) throw new UsageError(`${exclusive.join(' and ')} cannot be used together`);
    if (this.dryRun && !this.install && !this.uninstall) throw new UsageError('--dry-run only applies to --install and --uninstall');
    if (this.copyToProgramFiles && !this.install) throw new UsageError('--copy-to-program-files only applies to --install');
    const logSizeKb = parseIntegerOption('-ls', this.logSize, 1, 4_194_304);
    const rotation = parseRotation(this.rotate, logSizeKb * 1024);
    const intervalMs = parseDuration('--interval', this.interval, 100);
    const durationMs = this.duration === undefined ? null : parseDuration('--duration', this.duration, 1);
    if (this.logDir !== undefined && this.logDir.trim() === '') throw new UsageError("--log-dir is empty: name the folder to record into, e.g. --log-dir /var/log/portqry-ts");
    const logDir = path.resolve(this.logDir ?? defaultLogDir(this.context.io.env));
    const retention = {
      keep: this.keep === undefined ? null : parseIntegerOption('--keep', this.keep, 1, 1_000_000),
      maxTotalBytes: this.maxTotal === undefined ? null : parseSize('--max-total', this.maxTotal),
    };

    if (this.install || this.uninstall) return this.runInstall(logDir, logSizeKb);
    if (this.once) return this.runOnce();
    const [{ loadCriteria }, { runRecorder }, { createPlatformBackend }, { openDestroySource }, { openEventLog }, { untilStopped }] = await Promise.all([
      import('../src/portreporter/criteria'),
      import('../src/recorder/recorder'),
      import('../src/platform/index'),
      import('../src/recorder/destroy-capture'),
      import('../src/eventlog/index'),
      import('../src/recorder/stop-signal'),
    ]);
    const alertsPerMinute = parseIntegerOption('--alerts-per-minute', this.alertsPerMinute, 1, 100_000);
    const criteria = this.criteria === undefined ? undefined : loadCriteria(this.criteria);
    const record = (signal: AbortSignal, warn: (line: string) => void, eventLog: EventLog, onPoll?: (info: { polls: number }) => void) =>
      runRecorder({
        backend: createPlatformBackend(),
        intervalMs,
        durationMs,
        logDir,
        rotation,
        jsonl: this.jsonl,
        modules: this.modules ?? true,
        generatedBy: `portqry-ts ${VERSION}`,
        retention,
        signal,
        warn,
        onPoll,
        eventLog,
        destroyEvents: this.destroyEvents
          ? openDestroySource((line) => {
              warn(line);
              eventLog.write('warning', line, EventId.ShortLivedCaptureOff);
            })
          : null,
        criteria,
        alertsPerMinute,
      });
    if (this.service) return this.runService(logDir, record);

    const io = this.context.io;
    const warn = (line: string) => io.stderr.write(`portqry-ts: record: ${sanitizeLine(line)}\n`);
    // The system log (syslog under systemd, the Application log on Windows) gets what an administrator
    // must see; stderr gets every warning line already, so nothing falls back to it twice. Alerts
    // (--criteria) are asked for: they go to syslog even outside systemd, and to stderr when there is
    // no system log at all.
    const eventLog = criteria ? openEventLog({ target: 'system' }) : openEventLog({ fallback: null });
    const summary = await untilStopped((signal) => record(signal, warn, eventLog)).finally(() => eventLog.close());
    const d = summary.destroyEvents;
    this.output.note([
      `Recorded ${summary.polls} poll(s) into ${summary.logDir}: ${summary.opened} new endpoint(s), ${summary.closed} closed, ${summary.rotations} rotation(s).`,
      ...(summary.alerts ? [`Criteria: ${summary.alerts.matched} new endpoint(s) matched, ${summary.alerts.alerted} alert(s) sent, ${summary.alerts.suppressed} held back by --alerts-per-minute.`] : []),
      ...(d ? [`Short-lived: ${d.recorded} socket(s) recorded from destroy events that no poll saw; ${d.overflows} overflow(s), ${d.dropped} dropped.`] : []),
      `Sets: ${summary.sets.join(', ')}`,
    ]);
    return summary.writeFailures > 0 && summary.dropped > 0 ? ExitCode.IoError : ExitCode.Ok;
  }

  private async runOnce(): Promise<number> {
    const { runRecordOnce } = await import('../src/recorder/once');
    return runRecordOnce(this.output, { modules: this.modules ?? false });
  }

  /**
   * `record --service`: started by the Windows service control manager (src/service/run-service.ts).
   * STOP/SHUTDOWN/PRESHUTDOWN abort the same signal SIGTERM aborts in a console run.
   */
  private async runService(logDir: string, record: (signal: AbortSignal, warn: (line: string) => void, eventLog: EventLog, onPoll?: (info: { polls: number }) => void) => Promise<{ writeFailures: number; dropped: number }>): Promise<number> {
    const [{ NOT_FROM_CONSOLE, runService }, { openEventLog }, { koffiScmBinding }] = await Promise.all([
      import('../src/service/run-service'),
      import('../src/eventlog/index'),
      import('../src/service/windows-scm'),
    ]);
    if (process.platform !== 'win32') throw new UsageError(NOT_FROM_CONSOLE);
    // The Application log, source portqry-ts (a service has no console: that is where an admin looks).
    const eventLog = openEventLog();
    let exitCode: number;
    try {
      const result = await runService({
        scm: koffiScmBinding(),
        eventLog,
        describe: `into ${logDir}`,
        startRecorder: async (signal, started) => {
          const summary = await record(signal, (line) => eventLog.write('warning', line), eventLog, (info) => {
            if (info.polls === 1) started();
          });
          return summary.writeFailures > 0 && summary.dropped > 0 ? ExitCode.IoError : ExitCode.Ok;
        },
      });
      if (!result.connected) throw new UsageError(NOT_FROM_CONSOLE);
      exitCode = result.exitCode;
    } finally {
      eventLog.close();
    }
    // STOPPED is reported: the SCM may start the service again at once, and a start that finds this
    // process still exiting fails (1056, "an instance of the service is already running"). A service
    // writes nothing to stdout, so nothing is lost by leaving now.
    process.exit(exitCode);
  }

  private async runInstall(logDir: string, logSizeKb: number): Promise<number> {
    const [{ checkPosixProgram, checkWindowsProgram, runInstall }, { selfCommand }, { windowsServiceOperations }, { InstallActionKind, toInstallAction }] = await Promise.all([
      import('../src/service/install-recorder'),
      import('../src/recorder/install'),
      import('../src/service/windows-scm'),
      import('../src/recorder/install-action'),
    ]);
    const windows = process.platform === 'win32';
    const outcome = await runInstall(
      {
        install: this.install,
        dryRun: this.dryRun,
        launch: { logDir, logSizeKb, rotate: this.rotate, interval: this.interval, keep: this.keep, maxTotal: this.maxTotal, jsonl: this.jsonl, modules: this.modules ?? true, destroyEvents: this.destroyEvents, criteria: this.criteria === undefined ? undefined : path.resolve(this.criteria), alertsPerMinute: this.alertsPerMinute },
        unitDir: this.unitDir ?? '/etc/systemd/system',
        copyToProgramFiles: this.copyToProgramFiles,
        platform: process.platform,
        env: this.context.io.env,
      },
      { self: selfCommand(), checkLocation: windows ? checkWindowsProgram : checkPosixProgram, services: windows ? windowsServiceOperations() : null },
    );
    for (const step of outcome.steps) this.output.write(InstallActionKind, toInstallAction(step.action, windows, step.result));
    if (outcome.error) this.context.io.stderr.write(`portqry-ts: record: ${sanitizeLine(outcome.error)}\n`);
    return outcome.exitCode;
  }
}
