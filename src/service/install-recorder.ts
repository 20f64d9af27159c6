/**
 * `record --install` / `--uninstall` from options to steps: which command the boot-time recorder runs
 * (command-line.ts), where the executable must live (install-safety.ts), and the steps (recorder/install.ts).
 * The platform facts (location check, service operations) are injected, so the flow is tested on Linux.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PortqryError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import {
  type ActionResult,
  type InstallAction,
  linuxInstallPlan,
  linuxUninstallPlan,
  recorderServiceDefinition,
  runActions,
  type ServiceOperations,
  windowsInstallPlan,
  windowsUninstallPlan,
} from '../recorder/install';
import { recorderArguments, type RecorderLaunchOptions } from './command-line';
import { checkPosixInstallLocation, checkWindowsInstallLocation, refusalMessage, type UnsafeLocation } from './install-safety';
import { currentUserSid, driveType, readSecurityDescriptor, RECORDER_FAILURE_ACTIONS } from './windows-scm';

export interface InstallRequest {
  install: boolean;
  dryRun: boolean;
  launch: RecorderLaunchOptions;
  /** Linux: where the unit goes (default /etc/systemd/system). */
  unitDir: string;
  /** Windows: copy the exe to %ProgramFiles%\portqry-ts\ first. */
  copyToProgramFiles: boolean;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
}

export interface InstallDeps {
  /** This program: [exe] (standalone) or [node, bundle]. */
  self: string[];
  /** Returns the first unsafe path among the program's files, or null. */
  checkLocation: (files: readonly string[]) => UnsafeLocation | null;
  services: ServiceOperations | null;
}

export interface InstallStep {
  action: InstallAction;
  result: ActionResult | null;
}

export interface InstallOutcome {
  steps: InstallStep[];
  exitCode: number;
  /** One line for stderr when something failed or was refused. */
  error: string | null;
}

export function programFilesTarget(env: NodeJS.ProcessEnv): string {
  const base = env.ProgramFiles ?? env.PROGRAMFILES ?? 'C:\\Program Files';
  return path.win32.join(base, 'portqry-ts', 'portqry-ts.exe');
}

function failureCode(error: string): number {
  return /permission|EACCES|EPERM|access denied/i.test(error) ? ExitCode.NoPermission : ExitCode.OsError;
}

export async function runInstall(req: InstallRequest, deps: InstallDeps): Promise<InstallOutcome> {
  const windows = req.platform === 'win32';
  const steps: InstallStep[] = [];
  const execute = async (actions: InstallAction[]): Promise<string | null> => {
    if (req.dryRun) {
      for (const action of actions) steps.push({ action, result: null });
      return null;
    }
    const results = await runActions(actions, deps.services);
    for (const r of results) steps.push({ action: r.action, result: r });
    const failed = results.find((r) => !r.ok);
    return failed ? `${req.install ? 'install' : 'uninstall'} failed: ${failed.error ?? ''}` : null;
  };
  const fail = (error: string): InstallOutcome => ({ steps, exitCode: failureCode(error), error });

  if (!req.install) {
    const error = await execute(windows ? windowsUninstallPlan() : linuxUninstallPlan(req.unitDir));
    return error ? fail(error) : { steps, exitCode: ExitCode.Ok, error: null };
  }

  let program = deps.self;
  let copy: { from: string; to: string } | null = null;
  if (req.copyToProgramFiles) {
    if (!windows) throw new UsageError('--copy-to-program-files applies to Windows only (on Linux, copy portqry-ts to /usr/local/bin)');
    if (program.length !== 1) throw new UsageError('--copy-to-program-files needs the standalone portqry-ts.exe');
    const to = programFilesTarget(req.env);
    // Already running from there (re-installing with new options): nothing to copy.
    if (path.win32.resolve(program[0]!).toLowerCase() !== to.toLowerCase()) {
      copy = { from: program[0]!, to };
      const error = await execute([{ kind: 'copy', ...copy }]);
      if (error) return fail(error);
    }
    program = [to];
  }
  // With --dry-run and a copy, the copy does not exist yet: its folder is checked on the real run.
  if (!(req.dryRun && copy)) {
    const unsafe = deps.checkLocation(program);
    if (unsafe) return { steps, exitCode: ExitCode.UnsafeLocation, error: refusalMessage(unsafe, windows ? 'win32' : 'linux') };
  }
  const command = [...program, ...recorderArguments(req.launch, { service: windows })];
  const plan = windows ? windowsInstallPlan(recorderServiceDefinition(command, RECORDER_FAILURE_ACTIONS), null) : linuxInstallPlan(command, req.unitDir);
  const error = await execute(plan);
  return error ? fail(error) : { steps, exitCode: ExitCode.Ok, error: null };
}

/** Linux: each of the program's files, symlinks resolved, must be writable by root only up to /. */
export function checkPosixProgram(files: readonly string[]): UnsafeLocation | null {
  for (const file of files) {
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch (err) {
      throw new PortqryError(`cannot resolve ${file}: ${(err as Error).message}`, ExitCode.NoInput);
    }
    const unsafe = checkPosixInstallLocation(real, (p) => {
      const s = fs.statSync(p);
      return { uid: s.uid, gid: s.gid, mode: s.mode, isDirectory: s.isDirectory() };
    });
    if (unsafe) return unsafe;
  }
  return null;
}

/** Windows: each of the program's files and their folders, through GetNamedSecurityInfoW and GetDriveTypeW. */
export function checkWindowsProgram(files: readonly string[]): UnsafeLocation | null {
  const installingUser = currentUserSid();
  for (const file of files) {
    const unsafe = checkWindowsInstallLocation(path.win32.resolve(file), { securityDescriptor: readSecurityDescriptor, driveType, installingUser });
    if (unsafe) return unsafe;
  }
  return null;
}
