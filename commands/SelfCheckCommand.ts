import { Command } from 'clipanion';
import { ExitCode } from '../src/exit-codes';
import { SelfCheckKind, selfCheck } from '../src/platform/self-check';
import { BaseCommand } from './BaseCommand';

/** Hidden from the top-level help: a support and test tool, not one of the four jobs. */
export class SelfCheckCommand extends BaseCommand {
  static paths = [['self-check']];
  static usage = Command.Usage({
    category: 'Support',
    description: 'Check this executable: runtime, and whether FFI (koffi) loads and calls the OS',
    details: 'Prints one SelfCheck record (schemas/self-check.schema.json). Exit code 0 when the FFI check passed and the query engine (QueryEngine: winsock on Windows, node elsewhere; PORTQRY_ENGINE=node|winsock forces one) starts, 71 when not (FfiError, QueryEngineError say why).',
    examples: [['Check that FFI works on this server', '$0 self-check --format text']],
  });

  async run(): Promise<number> {
    const check = selfCheck();
    this.output.write(SelfCheckKind, { ...check });
    return check.FfiError === null && check.QueryEngineError === null ? ExitCode.Ok : ExitCode.OsError;
  }
}
