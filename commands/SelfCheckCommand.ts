import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { DEFAULT_SYSLOG_PATH, openEventLog } from '../src/eventlog';
import { safeSource } from '../src/eventlog/format';
import { sanitizeLine } from '../src/output/sanitize';
import { ExitCode } from '../src/exit-codes';
import { SelfCheckKind, selfCheck } from '../src/platform/self-check';
import { BaseCommand, type PortqryContext } from './BaseCommand';

/** Hidden from the top-level help: a support and test tool, not one of the four jobs. */
export class SelfCheckCommand extends BaseCommand {
  static paths = [['self-check']];
  static usage = Command.Usage({
    category: 'Support',
    description: 'Check this executable: runtime, and whether FFI (koffi) loads and calls the OS',
    details: 'Prints one SelfCheck record (schemas/self-check.schema.json). Exit code 0 when the FFI check passed, 71 when it did not (FfiError says why).',
    examples: [['Check that FFI works on this server', '$0 self-check --format text']],
  });

  async run(): Promise<number> {
    const check = selfCheck();
    this.output.write(SelfCheckKind, { ...check });
    return check.FfiError === null ? ExitCode.Ok : ExitCode.OsError;
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
