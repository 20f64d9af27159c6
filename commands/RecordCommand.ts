import { Command } from 'clipanion';
import { NotBuiltCommand } from './NotBuiltCommand';

export class RecordCommand extends NotBuiltCommand {
  static paths = [['record']];
  static usage = Command.Usage({
    description: 'Record every new port use with its process, user, services and modules (Port Reporter)',
    details: 'Polls the OS connection tables and writes PR-INITIAL, PR-PORTS and PR-PIDS logs. Not built yet: exits with code 69.',
  });
  protected readonly feature = 'record';
}
