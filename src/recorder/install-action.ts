import schema from '../../schemas/install-action.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { sanitizeLine } from '../output/sanitize';
import { type ActionResult, describeAction, type InstallAction } from './install';

/** schemas/install-action.schema.json: what `record --install/--uninstall` did, one step per record. */
export const InstallActionKind = defineRecordKind(schema as RecordSchema, {
  text: (r, style) => {
    const target = sanitizeLine(String(r.Target));
    if (r.DryRun) return [`would ${r.Action === 'Run' ? 'run' : String(r.Action).toLowerCase()}: ${target}`];
    if (r.Succeeded) return [`${r.Action === 'Run' ? 'ran' : r.Action === 'Write' ? 'wrote' : 'removed'}: ${target}`];
    return [style.bad(`failed: ${target}: ${sanitizeLine(String(r.Error))}`)];
  },
});

export function toInstallAction(action: InstallAction, windows: boolean, result: ActionResult | null): Record<string, unknown> {
  return {
    Action: action.kind === 'run' ? 'Run' : action.kind === 'write' ? 'Write' : 'Remove',
    Target: action.kind === 'run' ? describeAction(action, windows) : action.path,
    DryRun: result === null,
    Succeeded: result ? result.ok : null,
    Error: result?.error ?? null,
  };
}
