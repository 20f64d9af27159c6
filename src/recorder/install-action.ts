import schema from '../../schemas/install-action.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { sanitizeLine } from '../output/sanitize';
import { type ActionResult, describeAction, type InstallAction } from './install';

const VERBS: Record<string, [would: string, did: string]> = {
  Write: ['write', 'wrote'],
  Remove: ['remove', 'removed'],
  Run: ['run', 'ran'],
  Copy: ['copy', 'copied'],
  CreateService: ['create service', 'created service'],
  ConfigureService: ['configure service', 'configured service'],
  StartService: ['start service', 'started service'],
  StopService: ['stop service', 'stopped service'],
  DeleteService: ['delete service', 'deleted service'],
};

/** schemas/install-action.schema.json: what `record --install/--uninstall` did, one step per record. */
export const InstallActionKind = defineRecordKind(schema as RecordSchema, {
  text: (r, style) => {
    const target = sanitizeLine(String(r.Target));
    const [would, did] = VERBS[String(r.Action)] ?? [String(r.Action), String(r.Action)];
    if (r.DryRun) return [`would ${would}: ${target}`];
    if (r.Succeeded) return [`${did}: ${target}${r.Detail ? ` (${sanitizeLine(String(r.Detail))})` : ''}`];
    return [style.bad(`failed: ${target}: ${sanitizeLine(String(r.Error))}`)];
  },
});

function actionName(action: InstallAction): string {
  switch (action.kind) {
    case 'run':
      return 'Run';
    case 'write':
      return 'Write';
    case 'remove':
      return 'Remove';
    case 'copy':
      return 'Copy';
    case 'service':
      return `${action.op[0]!.toUpperCase()}${action.op.slice(1)}Service`;
  }
}

export function toInstallAction(action: InstallAction, windows: boolean, result: ActionResult | null): Record<string, unknown> {
  return {
    Action: actionName(action),
    Target: action.kind === 'write' || action.kind === 'remove' ? action.path : describeAction(action, windows),
    DryRun: result === null,
    Succeeded: result ? result.ok : null,
    Detail: result?.detail ?? null,
    Error: result?.error ?? null,
  };
}
