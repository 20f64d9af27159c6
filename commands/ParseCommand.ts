import { Command } from 'clipanion';
import { NotBuiltCommand } from './NotBuiltCommand';

export class ParseCommand extends NotBuiltCommand {
  static paths = [['parse']];
  static usage = Command.Usage({
    description: 'Read Port Reporter logs, correlate, filter and flag them (Port Reporter Parser)',
    details: 'Not built yet: exits with code 69.',
  });
  protected readonly feature = 'parse';
}
