import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { sanitizeLine } from '../src/output/sanitize';
import { ExitCode } from '../src/exit-codes';
import { BaseCommand, type PortqryContext } from './BaseCommand';

// What these commands check is imported when they run (`await import`): the startup snapshot holds their
// options only (docs/benchmarks.md, startup).

/** Hidden from the top-level help: a support and test tool, not one of the four jobs. */
export class SelfCheckCommand extends BaseCommand {
  static paths = [['self-check']];
  static usage = Command.Usage({
    category: 'Support',
    description: 'Check this executable: runtime, and whether FFI (koffi) loads and calls the OS',
    details: 'Prints one SelfCheck record (schemas/self-check.schema.json). Exit code 0 when the FFI check passed and the query engine (QueryEngine: winsock on Windows, libc on Linux, node elsewhere; PORTQRY_ENGINE=libc|node|winsock forces one) starts, 71 when not (FfiError, QueryEngineError say why). WorkerThread says whether a worker thread (what parse can use for a second core) starts and answers here; WorkerThreadError why not (informational: it does not change the exit code).',
    examples: [['Check that FFI works on this server', '$0 self-check --format text']],
  });

  async run(): Promise<number> {
    const { SelfCheckKind, selfCheck, workerThreadCheck } = await import('../src/platform/self-check');
    const check = { ...selfCheck(), ...(await workerThreadCheck()) };
    this.output.write(SelfCheckKind, { ...check });
    return check.FfiError === null && check.QueryEngineError === null ? ExitCode.Ok : ExitCode.OsError;
  }
}

/**
 * `self-check event-log`: writes one test event through the system-log writer the recorder uses
 * (src/eventlog), so an admin can see it arrive (Event Viewer, Application log, source portqry-ts;
 * or `journalctl -t portqry-ts`), and tests can run the real calls (Wine's advapi32, a test socket).
 * Prints one line saying where the event went; exit 71 when the system log did not take it.
 */
export class EventLogCheckCommand extends Command<PortqryContext> {
  static paths = [['self-check', 'event-log']];
  static usage = Command.Usage({
    category: 'Support',
    description: 'Write one test event to the system log (Windows Application log / syslog) the recorder uses',
    details:
      'Windows: the Application log, source portqry-ts. Linux: syslog through /dev/log (facility daemon), also outside systemd. Prints where the event went; exit 0 when the system log accepted it, 71 when it did not (the line says why).',
    examples: [
      ['Check that events reach the Application log', '$0 self-check event-log "test event from portqry-ts"'],
      ['A warning with event id 1200', '$0 self-check event-log --level warning --event-id 1200 "disk full (test)"'],
    ],
  });

  level = Option.String('--level', 'info', { description: 'info, warning or error (default info)', validator: t.isEnum(['info', 'warning', 'error'] as const) });
  eventId = Option.String('--event-id', '1000', { description: 'Event id, 0-65535 (default 1000)', validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(0, 65535)]) });
  source = Option.String('--source', { description: 'Event source / syslog tag (default portqry-ts)' });
  syslogPath = Option.String('--syslog-path', { description: 'Linux: the syslog socket (default /dev/log)' });
  message = Option.String({ required: false, name: 'message' });

  async execute(): Promise<number> {
    const [{ DEFAULT_SYSLOG_PATH, openEventLog }, { safeSource }] = await Promise.all([import('../src/eventlog/index'), import('../src/eventlog/format')]);
    const log = openEventLog({ target: 'system', source: this.source, syslogPath: this.syslogPath, fallback: null });
    log.write(this.level, this.message ?? 'portqry-ts self-check: test event', this.eventId);
    log.close();
    const where = log.target === 'eventlog' ? 'the Windows Application log' : log.target === 'syslog' ? `syslog (${this.syslogPath ?? DEFAULT_SYSLOG_PATH})` : 'nowhere';
    if (log.sent === 1) {
      this.context.io.stdout.write(`event ${this.eventId} (${this.level}) sent to ${where}, source ${safeSource(this.source)}\n`);
      return ExitCode.Ok;
    }
    this.context.io.stderr.write(`portqry-ts: the event was not written: ${sanitizeLine(log.lastError ?? `no system log on ${process.platform}`)}\n`);
    return ExitCode.OsError;
  }
}

/**
 * `self-check event-source --register|--unregister`: the Application log source with this exe as its
 * message file (src/eventlog/windows-source.ts). `record --install` is meant to do this; the command
 * lets an admin (and the Wine test) do it alone.
 */
export class EventSourceCommand extends Command<PortqryContext> {
  static paths = [['self-check', 'event-source']];
  static usage = Command.Usage({
    category: 'Support',
    description: 'Windows: register (or remove) the Application log source portqry-ts with this exe as its message file',
    details: 'Writes HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\portqry-ts (EventMessageFile = this exe, TypesSupported = 7). Needs an elevated prompt.',
    examples: [['Register the event source', '$0 self-check event-source --register']],
  });

  register = Option.Boolean('--register', false, { description: 'Create or update the source' });
  unregister = Option.Boolean('--unregister', false, { description: 'Remove the source' });
  exe = Option.String('--exe', { description: 'Message file to register (default: this executable)' });

  async execute(): Promise<number> {
    const err = (m: string, code: number) => {
      this.context.io.stderr.write(`portqry-ts: ${sanitizeLine(m)}\n`);
      return code;
    };
    if (this.register === this.unregister) return err('give exactly one of --register and --unregister', ExitCode.Usage);
    if (process.platform !== 'win32') return err('event sources are a Windows feature; on Linux the recorder writes to syslog', ExitCode.Usage);
    const { eventSourceKey, formatFromMessageFile, registerEventSource, unregisterEventSource } = await import('../src/eventlog/windows-source');
    try {
      if (this.register) {
        const exe = this.exe ?? process.execPath;
        registerEventSource(exe);
        this.context.io.stdout.write(`registered event source portqry-ts (HKLM\\${eventSourceKey('portqry-ts')}), message file ${exe}\n`);
        // Proof that the message file works: event 1000 formatted from it as the Event Viewer does.
        const shown = formatFromMessageFile(exe, 1000, 'portqry-ts message file check').trimEnd();
        this.context.io.stdout.write(`event 1000 shows as: ${sanitizeLine(shown)}\n`);
      } else {
        unregisterEventSource();
        this.context.io.stdout.write(`removed event source portqry-ts\n`);
      }
      return ExitCode.Ok;
    } catch (e) {
      return err(e instanceof Error ? e.message : String(e), ExitCode.OsError);
    }
  }
}
