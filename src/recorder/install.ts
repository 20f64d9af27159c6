/**
 * `record --install` / `--uninstall`: run the recorder at boot. Linux: a systemd unit. Windows: a real
 * service (src/service/windows-scm.ts, through advapi32), started by the service control manager with
 * `record --service`, restarted by its failure actions. Each step is an action that is printed, and run
 * unless --dry-run.
 *
 * The scheduled task that 0.1.0 registered is gone: Task Scheduler's RestartOnFailure only covers a
 * task that fails to start (MS-TSCH 2.5.4.2), so a crashed recorder stayed down, and no user was found
 * who needs a task rather than a service. docs/windows-service.md says how to delete a task left by 0.1.0.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seaModule } from '../platform/koffi';
import { SERVICE_DESCRIPTION, SERVICE_DISPLAY_NAME, SERVICE_NAME } from '../service/run-service';
import { systemdCommandLine, systemdQuote, windowsCommandLine, windowsQuote } from '../service/command-line';
import type { FailureActions, ServiceDefinition, ServiceOperations } from '../service/service-definition';
export type { ServiceDefinition, ServiceOperations } from '../service/service-definition';

export { systemdQuote, windowsQuote };


export type InstallAction =
  | { kind: 'write'; path: string; content: string; encoding: 'utf8' }
  | { kind: 'remove'; path: string }
  | { kind: 'run'; argv: string[]; mayFail?: boolean }
  | { kind: 'copy'; from: string; to: string }
  | { kind: 'service'; op: 'create' | 'configure'; service: ServiceDefinition }
  | { kind: 'service'; op: 'start' | 'stop' | 'delete'; name: string };

export const SYSTEMD_UNIT_NAME = 'portqry-ts-record.service';

export function systemdUnit(command: readonly string[]): string {
  return [
    '# Written by `portqry-ts record --install`; removed by `portqry-ts record --uninstall`.',
    '[Unit]',
    'Description=portqry-ts record: log every new TCP/UDP port use with its process (Port Reporter)',
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${systemdCommandLine(command)}`,
    // SIGTERM makes the recorder flush and close its logs; a kill -9 after the timeout still leaves whole lines.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=15',
    'Restart=on-failure',
    'RestartSec=5',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function linuxInstallPlan(command: readonly string[], unitDir: string): InstallAction[] {
  return [
    { kind: 'write', path: path.join(unitDir, SYSTEMD_UNIT_NAME), content: systemdUnit(command), encoding: 'utf8' },
    { kind: 'run', argv: ['systemctl', 'daemon-reload'] },
    { kind: 'run', argv: ['systemctl', 'enable', '--now', SYSTEMD_UNIT_NAME] },
  ];
}

export function linuxUninstallPlan(unitDir: string): InstallAction[] {
  return [
    { kind: 'run', argv: ['systemctl', 'disable', '--now', SYSTEMD_UNIT_NAME], mayFail: true },
    { kind: 'remove', path: path.join(unitDir, SYSTEMD_UNIT_NAME) },
    { kind: 'run', argv: ['systemctl', 'daemon-reload'] },
  ];
}

/** The service `record --install` creates: command = the program and `record --service …` (see service/command-line.ts). */
export function recorderServiceDefinition(command: readonly string[], failureActions: FailureActions): ServiceDefinition {
  return { name: SERVICE_NAME, displayName: SERVICE_DISPLAY_NAME, description: SERVICE_DESCRIPTION, binaryPath: windowsCommandLine(command), failureActions };
}

/** Windows: optionally copy the exe first, then create (or update), configure and start the service. */
export function windowsInstallPlan(service: ServiceDefinition, copy: { from: string; to: string } | null): InstallAction[] {
  return [
    ...(copy ? [{ kind: 'copy' as const, ...copy }] : []),
    { kind: 'service', op: 'create', service },
    { kind: 'service', op: 'configure', service },
    { kind: 'service', op: 'start', name: service.name },
  ];
}

/** Windows: stop (and wait until stopped), then delete. */
export function windowsUninstallPlan(): InstallAction[] {
  return [
    { kind: 'service', op: 'stop', name: SERVICE_NAME },
    { kind: 'service', op: 'delete', name: SERVICE_NAME },
  ];
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** One line a person can read (or, for commands, paste into a shell) to see what a step does. */
export function describeAction(action: InstallAction, windows: boolean): string {
  switch (action.kind) {
    case 'write':
      return `write ${action.path}`;
    case 'remove':
      return `remove ${action.path}`;
    case 'copy':
      return `copy ${action.from} to ${action.to}`;
    case 'run':
      return action.argv.map(windows ? windowsQuote : shellQuote).join(' ');
    case 'service':
      switch (action.op) {
        case 'create':
          return `${action.service.name} ("${action.service.displayName}", automatic start, LocalSystem): ${action.service.binaryPath}`;
        case 'configure': {
          const f = action.service.failureActions;
          return `${action.service.name}: description; on failure restart after ${f.restartDelaysMs.map(seconds).join(', ')}; failure count reset after ${f.resetPeriodSeconds / 3600} h; also when it stops with an error code`;
        }
        default:
          return action.name;
      }
  }
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface ActionResult {
  action: InstallAction;
  ok: boolean;
  error: string | null;
  /** What the step found, when it is worth saying: "updated an existing service", "not installed". */
  detail: string | null;
}


/**
 * Copies the executable into an administrators-only folder: the folder is created under
 * %ProgramFiles% (whose ACL it inherits), the bytes go to a random name inside that same folder and are
 * renamed over the target, so no file passes through a directory others can write.
 */
export function copyExecutable(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = path.join(path.dirname(to), `.${path.basename(to)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  fs.copyFileSync(from, tmp, fs.constants.COPYFILE_EXCL);
  try {
    fs.renameSync(tmp, to);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EBUSY') throw new Error(`${to} is in use: stop the service first (Stop-Service portqry-ts), then run --install again`);
    throw err;
  }
}

/** Runs the actions in order; stops at the first failure (a failed service stop still lets the delete run). */
export async function runActions(actions: readonly InstallAction[], services: ServiceOperations | null): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  for (const action of actions) {
    let error: string | null = null;
    let detail: string | null = null;
    try {
      if (action.kind === 'write') {
        fs.mkdirSync(path.dirname(action.path), { recursive: true });
        fs.writeFileSync(action.path, action.content, { mode: 0o644 });
      } else if (action.kind === 'remove') {
        fs.rmSync(action.path, { force: true });
      } else if (action.kind === 'copy') {
        copyExecutable(action.from, action.to);
      } else if (action.kind === 'service') {
        if (!services) throw new Error('services can only be installed on Windows');
        if (action.op === 'create') detail = services.create(action.service);
        else if (action.op === 'configure') detail = services.configure(action.service);
        else if (action.op === 'start') detail = services.start(action.name);
        else if (action.op === 'stop') detail = await services.stop(action.name);
        else if (action.op === 'delete') detail = services.delete(action.name);
      } else {
        execFileSync(action.argv[0]!, action.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true, timeout: 60_000 });
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      const first = e.stderr?.toString().trim().split('\n')[0];
      error = e.code === 'ENOENT' && action.kind === 'run' ? `${action.argv[0]} not found` : first || e.message;
    }
    if (error !== null && action.kind === 'run' && action.mayFail) {
      // A step allowed to fail (nothing to disable, no task left from an old version) is not an error.
      results.push({ action, ok: true, error: null, detail: `nothing done: ${error}` });
      continue;
    }
    results.push({ action, ok: error === null, error, detail });
    // A service that does not stop (hung, or its process gone without telling the SCM) is still deleted:
    // the SCM removes it once it stops; the failed stop is reported and fails the run.
    if (error !== null && !(action.kind === 'service' && action.op === 'stop')) break;
  }
  return results;
}

/** How to start this same program again: the executable itself, or node plus the bundle. */
export function selfCommand(): string[] {
  if (seaModule()?.isSea()) return [process.execPath];
  return [process.execPath, path.resolve(process.argv[1] ?? 'portqry-ts')];
}
