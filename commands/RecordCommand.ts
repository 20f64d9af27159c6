import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'clipanion';
import { UsageError } from '../src/errors';
import { ExitCode } from '../src/exit-codes';
import { sanitizeLine } from '../src/output/sanitize';
import { createPlatformBackend } from '../src/platform';
import { compareEndpoints, ownedEndpoints } from '../src/recorder/endpoints';
import {
  linuxInstallPlan,
  linuxUninstallPlan,
  runActions,
  selfCommand,
  windowsInstallPlan,
  windowsUninstallPlan,
  type InstallAction,
} from '../src/recorder/install';
import { InstallActionKind, toInstallAction } from '../src/recorder/install-action';
import { defaultLogDir, parseDuration, parseRotation } from '../src/recorder/options';
import { PortOwnerKind, toPortOwner } from '../src/recorder/port-owner';
import { runRecorder } from '../src/recorder/recorder';
import { VERSION } from '../src/version';
import { BaseCommand, parseIntegerOption } from './BaseCommand';

export class RecordCommand extends BaseCommand {
  static paths = [['record']];
  static usage = Command.Usage({
    description: 'Record every new port use with its process, user, services and modules (Port Reporter)',
    details: `
      Polls the OS connection tables every --interval and logs each new TCP or UDP endpoint once, with the process that owns it (PID, start time, image, path, command line, user, services, loaded modules), in Port Reporter's three logs: PR-INITIAL (what was open at start), PR-PORTS (one row per new endpoint) and PR-PIDS (one block per process). With --jsonl it also writes PR-EVENTS, a JSON Lines log of every opened and closed endpoint with its lifetime (schemas/record-event.schema.json). docs/log-formats.md describes every file.

      Port Reporter's options work as typed: \`-ld DIR\` (log directory; default %SystemRoot%\\System32\\LogFiles\\PortReporter on Windows, /var/log/portqry-ts on Linux) and \`-ls KB\` (size at which a new set of logs starts; default 5000). --rotate says when a new set starts: at every start, daily, by size, combined with commas (default start,size).

      The logs stay whole whatever happens: each record is one write, a partial last record left by a power cut is removed at the next start, SIGINT/SIGTERM/Ctrl+Break flush and close, and a full disk is reported once on stderr while records are held and written when space returns.

      Polling misses connections that open and close between two polls: lower --interval (down to 100ms) to see more of them.

      --once prints one snapshot of every endpoint and its owner to stdout (schemas/port-owner.schema.json) and exits; each process's loaded modules are listed only with --modules (Modules is empty otherwise). --install registers the recorder to start at boot (Linux: systemd unit portqry-ts-record.service; Windows: a task running as SYSTEM at startup) with the other options given; --uninstall removes it; --dry-run prints the steps without doing them.
    `,
    examples: [
      ['Record into the default folder until Ctrl+C', '$0 record'],
      ['Record for one hour into a folder, with the event log', '$0 record -ld C:\\PortLogs --duration 1h --jsonl'],
      ['Who owns which port right now, as PowerShell objects', '$0 record --once --json | ConvertFrom-Json'],
      ['The same with each process\'s loaded modules', '$0 record --once --modules --json'],
      ['Start recording at every boot', '$0 record --install -ld /var/log/portqry-ts --jsonl'],
      ['Show what --install would do', '$0 record --install --dry-run'],
    ],
  });

  logDir = Option.String('--log-dir', { description: 'Log directory (Port Reporter -ld)' });
  logSize = Option.String('--log-size', '5000', { description: 'Start a new set of logs when a file would exceed this many KB (Port Reporter -ls; default 5000)' });
  rotate = Option.String('--rotate', 'start,size', { description: 'When a new set of logs starts: start, daily, size, combined with commas, or none (default start,size)' });
  interval = Option.String('--interval', '1s', { description: 'Time between polls: 100ms or more (default 1s)' });
  duration = Option.String('--duration', { description: 'Stop after this long (30s, 10m, 8h); default: until stopped' });
  jsonl = Option.Boolean('--jsonl', false, { description: 'Also write the JSON Lines event log PR-EVENTS-<suffix>.jsonl (opened and closed endpoints, lifetimes, UTC times)' });
  modules = Option.Boolean('--modules', { description: 'Loaded modules of each process: recorded by default (--no-modules: faster, smaller logs); with --once only when asked for' });
  once = Option.Boolean('--once', false, { description: 'Print one snapshot of every endpoint and its owner to stdout, then exit' });
  install = Option.Boolean('--install', false, { description: 'Start the recorder at every boot with these options (systemd unit / SYSTEM startup task)' });
  uninstall = Option.Boolean('--uninstall', false, { description: 'Remove what --install registered' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'With --install/--uninstall: print the steps, do nothing' });
  unitDir = Option.String('--unit-dir', { description: 'Linux: where --install writes the systemd unit (default /etc/systemd/system)' });

  async run(): Promise<number> {
    const exclusive = [this.once && '--once', this.install && '--install', this.uninstall && '--uninstall'].filter(Boolean);
    if (exclusive.length > 1) throw new UsageError(`${exclusive.join(' and ')} cannot be used together`);
    if (this.dryRun && !this.install && !this.uninstall) throw new UsageError('--dry-run only applies to --install and --uninstall');
    const logSizeKb = parseIntegerOption('-ls', this.logSize, 1, 4_194_304);
    const rotation = parseRotation(this.rotate, logSizeKb * 1024);
    const intervalMs = parseDuration('--interval', this.interval, 100);
    const durationMs = this.duration === undefined ? null : parseDuration('--duration', this.duration, 1);
    const logDir = path.resolve(this.logDir ?? defaultLogDir(this.context.io.env));

    if (this.install || this.uninstall) return this.runInstall(logDir, logSizeKb);
    if (this.once) return this.runOnce();

    const controller = new AbortController();
    const stop = () => controller.abort();
    const signals: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, stop);
    const io = this.context.io;
    try {
      const summary = await runRecorder({
        backend: createPlatformBackend(),
        intervalMs,
        durationMs,
        logDir,
        rotation,
        jsonl: this.jsonl,
        modules: this.modules ?? true,
        generatedBy: `portqry-ts ${VERSION}`,
        signal: controller.signal,
        warn: (line) => io.stderr.write(`portqry-ts: record: ${sanitizeLine(line)}\n`),
      });
      this.output.note([
        `Recorded ${summary.polls} poll(s) into ${summary.logDir}: ${summary.opened} new endpoint(s), ${summary.closed} closed, ${summary.rotations} rotation(s).`,
        `Sets: ${summary.sets.join(', ')}`,
      ]);
      return summary.writeFailures > 0 && summary.dropped > 0 ? ExitCode.IoError : ExitCode.Ok;
    } finally {
      for (const s of signals) process.off(s, stop);
    }
  }

  private async runOnce(): Promise<number> {
    // Modules only on request: a process's module list repeated on each of its endpoints was most of
    // the output (10,000 sockets: 15.5 MB of JSON, 4x the time of `ss -tuanp`; docs/benchmarks.md).
    const snapshot = await createPlatformBackend().snapshot({ modules: this.modules ?? false });
    const owned = ownedEndpoints(snapshot).sort((a, b) => compareEndpoints(a.endpoint, b.endpoint));
    for (const o of owned) {
      if (this.output.closed) break;
      this.output.write(PortOwnerKind, toPortOwner(snapshot, o));
    }
    return ExitCode.Ok;
  }

  private async runInstall(logDir: string, logSizeKb: number): Promise<number> {
    const windows = process.platform === 'win32';
    let actions: InstallAction[];
    if (this.install) {
      const command = [
        ...selfCommand(),
        'record',
        '--log-dir',
        logDir,
        '--log-size',
        String(logSizeKb),
        '--rotate',
        this.rotate,
        '--interval',
        this.interval,
        ...(this.jsonl ? ['--jsonl'] : []),
        ...(this.modules === false ? ['--no-modules'] : []),
      ];
      actions = windows
        ? windowsInstallPlan(command, path.join(os.tmpdir(), `portqry-ts-record-task-${process.pid}.xml`))
        : linuxInstallPlan(command, this.unitDir ?? '/etc/systemd/system');
    } else {
      actions = windows ? windowsUninstallPlan() : linuxUninstallPlan(this.unitDir ?? '/etc/systemd/system');
    }
    if (this.dryRun) {
      for (const a of actions) this.output.write(InstallActionKind, toInstallAction(a, windows, null));
      return ExitCode.Ok;
    }
    const results = runActions(actions);
    for (const r of results) this.output.write(InstallActionKind, toInstallAction(r.action, windows, r));
    const failed = results.find((r) => !r.ok && !(r.action.kind === 'run' && r.action.mayFail));
    if (failed) {
      this.context.io.stderr.write(`portqry-ts: record: ${this.install ? 'install' : 'uninstall'} failed: ${sanitizeLine(failed.error ?? '')}\n`);
      return /permission|EACCES|EPERM/i.test(failed.error ?? '') ? ExitCode.NoPermission : ExitCode.OsError;
    }
    return ExitCode.Ok;
  }
}
