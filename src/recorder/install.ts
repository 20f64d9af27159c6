/**
 * `record --install` / `--uninstall`: run the recorder at boot. Linux: a systemd unit. Windows: a task
 * of the Task Scheduler that runs as SYSTEM at startup, created from XML because the command-line form
 * (`schtasks /Create /SC ONSTART`) gives every task a 72-hour execution limit, which would stop the
 * recorder on its third day. Each step is an action that is printed, and run unless --dry-run.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seaModule } from '../platform/koffi';

export type InstallAction =
  | { kind: 'write'; path: string; content: string; encoding: 'utf8' | 'utf16le-bom' }
  | { kind: 'remove'; path: string }
  | { kind: 'run'; argv: string[]; mayFail?: boolean };

export const SYSTEMD_UNIT_NAME = 'portqry-ts-record.service';
export const WINDOWS_TASK_NAME = '\\portqry-ts\\record';

/** Quotes one ExecStart argument for systemd: double quotes when needed, `%` doubled (specifiers). */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (escaped !== '' && !/[\s"'\\;$]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function systemdUnit(command: readonly string[]): string {
  return [
    '# Written by `portqry-ts record --install`; removed by `portqry-ts record --uninstall`.',
    '[Unit]',
    'Description=portqry-ts record: log every new TCP/UDP port use with its process (Port Reporter)',
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${command.map(systemdQuote).join(' ')}`,
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

/** Quotes one argument the way CommandLineToArgvW (and so Node on Windows) splits it back. */
export function windowsQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Task Scheduler XML: at boot, as SYSTEM (S-1-5-18), no execution time limit, restarted on failure. */
export function windowsTaskXml(command: readonly string[]): string {
  const [exe, ...args] = command;
  return [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    '    <Description>portqry-ts record: log every new TCP/UDP port use with its process (Port Reporter). Written by portqry-ts record --install.</Description>',
    '  </RegistrationInfo>',
    '  <Triggers>',
    '    <BootTrigger>',
    '      <Enabled>true</Enabled>',
    '    </BootTrigger>',
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Author">',
    '      <UserId>S-1-5-18</UserId>',
    '      <RunLevel>HighestAvailable</RunLevel>',
    '    </Principal>',
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>',
    '    <RestartOnFailure>',
    '      <Interval>PT1M</Interval>',
    '      <Count>999</Count>',
    '    </RestartOnFailure>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <Hidden>false</Hidden>',
    '    <Enabled>true</Enabled>',
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    `      <Command>${xmlEscape(exe ?? '')}</Command>`,
    `      <Arguments>${xmlEscape(args.map(windowsQuote).join(' '))}</Arguments>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ].join('\r\n');
}

export function windowsInstallPlan(command: readonly string[], xmlPath: string): InstallAction[] {
  return [
    { kind: 'write', path: xmlPath, content: windowsTaskXml(command), encoding: 'utf16le-bom' },
    { kind: 'run', argv: ['schtasks.exe', '/Create', '/TN', WINDOWS_TASK_NAME, '/XML', xmlPath, '/F'] },
    { kind: 'remove', path: xmlPath },
    { kind: 'run', argv: ['schtasks.exe', '/Run', '/TN', WINDOWS_TASK_NAME] },
  ];
}

export function windowsUninstallPlan(): InstallAction[] {
  return [
    // /End terminates the process without a signal; the logs stay whole (one write per record).
    { kind: 'run', argv: ['schtasks.exe', '/End', '/TN', WINDOWS_TASK_NAME], mayFail: true },
    { kind: 'run', argv: ['schtasks.exe', '/Delete', '/TN', WINDOWS_TASK_NAME, '/F'] },
  ];
}

/** One line a person can paste into a shell to do the same. */
export function describeAction(action: InstallAction, windows: boolean): string {
  switch (action.kind) {
    case 'write':
      return `write ${action.path}`;
    case 'remove':
      return `remove ${action.path}`;
    case 'run':
      return action.argv.map(windows ? windowsQuote : shellQuote).join(' ');
  }
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface ActionResult {
  action: InstallAction;
  ok: boolean;
  error: string | null;
}

/** Runs the actions in order; stops at the first failure that may not fail. */
export function runActions(actions: readonly InstallAction[]): ActionResult[] {
  const results: ActionResult[] = [];
  for (const action of actions) {
    let error: string | null = null;
    try {
      if (action.kind === 'write') {
        fs.mkdirSync(path.dirname(action.path), { recursive: true });
        const data = action.encoding === 'utf8' ? Buffer.from(action.content, 'utf8') : Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(action.content, 'utf16le')]);
        fs.writeFileSync(action.path, data, { mode: 0o644 });
      } else if (action.kind === 'remove') {
        fs.rmSync(action.path, { force: true });
      } else {
        execFileSync(action.argv[0]!, action.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true, timeout: 60_000 });
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      const detail = e.stderr?.toString().trim().split('\n')[0];
      error = e.code === 'ENOENT' && action.kind === 'run' ? `${action.argv[0]} not found` : detail || e.message;
    }
    results.push({ action, ok: error === null, error });
    if (error !== null && !(action.kind === 'run' && action.mayFail)) break;
  }
  return results;
}

/** How to start this same program again: the executable itself, or node plus the bundle. */
export function selfCommand(): string[] {
  if (seaModule()?.isSea()) return [process.execPath];
  return [process.execPath, path.resolve(process.argv[1] ?? 'portqry-ts')];
}
