import { NotBuiltError } from '../src/errors';
import { BaseCommand } from './BaseCommand';

/** Shared body of commands whose issue has not landed: a clear refusal (exit 69), never a fake result. */
export abstract class NotBuiltCommand extends BaseCommand {
  protected abstract readonly feature: string;
  async run(): Promise<number> {
    throw new NotBuiltError(this.feature);
  }
}
