import { Command } from 'clipanion';
import { NotBuiltCommand } from './NotBuiltCommand';

export class StatsCommand extends NotBuiltCommand {
  static paths = [['stats']];
  static usage = Command.Usage({
    description: 'Statistics over Port Reporter logs: process, port, user and remote address usage',
    details: 'Not built yet: exits with code 69.',
  });
  protected readonly feature = 'stats';
}
