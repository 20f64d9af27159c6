import { ExitCode } from '../exit-codes';
import type { Output } from '../output/emitter';
import { readParseItems } from './parse-parallel';
import { readPortReporterBatches, type ReadOptions } from './read';
import { PortReporterRecordKind } from './record-kind';

/**
 * `portqry-ts parse`: every record of the inputs to the output, batch by batch, waiting for the reader
 * of the output between batches (constant memory) and stopping when nobody reads any more.
 * Exit code 3 when --fail-on-flag is given and a record matched the criteria.
 */
export async function runParse(inputs: string[], options: ReadOptions, output: Output, failOnFlag: boolean): Promise<number> {
  let flagged = 0;
  // jsonl and json: large PR-PORTS files are parsed and encoded on worker threads (parse-parallel.ts).
  const encoded = output.writeEncoded !== undefined && (output.format === 'jsonl' || output.format === 'json');
  const items = encoded ? readParseItems(inputs, options, output.format as 'jsonl' | 'json') : readPortReporterBatches(inputs, options);
  for await (const batch of items) {
    if (!Array.isArray(batch)) {
      flagged += batch.flagged ?? 0;
      output.writeEncoded!(batch.bytes, batch.records, batch.release);
      if (output.closed) break;
      await output.ready();
      continue;
    }
    for (const record of batch) {
      if (record.Flagged) flagged++;
      output.write(PortReporterRecordKind, record as unknown as Record<string, unknown>);
    }
    if (output.closed) break;
    await output.ready();
  }
  return failOnFlag && flagged > 0 ? ExitCode.Flagged : ExitCode.Ok;
}
