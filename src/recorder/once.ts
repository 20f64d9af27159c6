import { ExitCode } from '../exit-codes';
import type { Output } from '../output/emitter';
import { createPlatformBackend } from '../platform/index';
import { sortEndpoints } from './endpoints';
import { PortOwnerKind, portOwnerRecord } from './port-owner';

/**
 * `record --once`: one snapshot of every endpoint with its owner, sorted, one record each. Modules only
 * on request: a process's module list repeated on each of its endpoints was most of the output
 * (10,000 sockets: 15.5 MB of JSON, 4x the time of `ss -tuanp`; docs/benchmarks.md).
 */
export async function runRecordOnce(output: Output, options: { modules: boolean }): Promise<number> {
  const backend = createPlatformBackend();
  // One snapshot, nothing kept for a next poll (fewer live objects until the output is written).
  const snapshot = await (backend.snapshotOnce ? backend.snapshotOnce({ modules: options.modules }) : backend.snapshot({ modules: options.modules }));
  const { computerName, processes } = snapshot;
  for (const e of sortEndpoints(snapshot.endpoints)) {
    if (output.closed) break;
    output.write(PortOwnerKind, portOwnerRecord(computerName, e, e.pid === null ? null : processes.get(e.pid) ?? null));
  }
  return ExitCode.Ok;
}
