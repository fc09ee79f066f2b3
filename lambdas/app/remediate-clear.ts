/**
 * Steps 3–8 of a plan whose objects are verified missing: snapshot, caps, write-ahead audit
 * record, compare-and-delete, notify. Dry-run stops after the audit record (`would-clear`).
 */
import { cacheKeyLabel, type RemediationPlan } from '../domain/remediation.ts';
import type { Caps } from './remediate-caps.ts';
import {
  baseReport,
  clearRecord,
  compareAndDelete,
  heldBack,
  notifyOutcome,
  type StepContext,
  type StorageEvidence,
  snapshotKeys,
  writeAudit,
} from './remediate-steps.ts';
import type { ActionDecision, ActionReport } from './remediate-types.ts';

export interface ClearOptions {
  caps: Caps;
  /** false: no notification for this finding (one per sweep is sent elsewhere). */
  notify: boolean;
  /** false: a plan with nothing cached is not notified (a removal nobody cached is not news). */
  notifyNothingCached?: boolean;
  /** Prepended to the outcome and kept as the report's detail (e.g. why nothing was restored). */
  note?: string;
}

export async function clearKeys(
  ctx: StepContext,
  plan: RemediationPlan,
  evidence: StorageEvidence[],
  opts: ClearOptions
): Promise<ActionReport> {
  const { finding } = plan;
  const tell = async (outcome: string, severity: 'info' | 'warning') =>
    opts.notify
      ? notifyOutcome(ctx, {
          finding,
          outcome: opts.note ? `${opts.note}. ${outcome}` : outcome,
          severity,
          repushCommand: plan.repushCommand,
        })
      : { notified: 0, notificationFailures: 0 };
  const detail = opts.note ? { detail: opts.note } : {};

  const snapshots = await snapshotKeys(ctx, plan);
  if (snapshots.length === 0) {
    const outcome = 'Nothing is cached for it any more; re-push the image to repair it.';
    return {
      ...baseReport(ctx, plan),
      decision: 'nothing-cached',
      ...detail,
      ...(opts.notifyNothingCached === false
        ? { notified: 0, notificationFailures: 0 }
        : await tell(outcome, 'warning')),
    };
  }
  const labels = snapshots.map(cacheKeyLabel);
  const over = await opts.caps.check(snapshots.length);
  if (over) {
    opts.caps.collect({ plan, keys: labels, reason: over });
    return heldBack(ctx, plan, 'over-cap', over);
  }

  const auditId = await writeAudit(ctx, clearRecord(ctx, plan, evidence, snapshots));
  if (ctx.mode === 'dry-run') {
    const outcome = `Dry run: would clear ${labels.length} Redis key(s): ${labels.join(', ')}`;
    return {
      ...baseReport(ctx, plan),
      decision: 'would-clear',
      auditId,
      ...detail,
      ...(await tell(outcome, 'info')),
    };
  }

  const { deleted, changed } = await compareAndDelete(ctx, snapshots);
  const decision: ActionDecision = changed.length > 0 ? 'changed-since-plan' : 'cleared';
  const outcome =
    `Cleared ${deleted.length} Redis key(s) (audit record ${auditId})` +
    (changed.length > 0 ? `; ${changed.length} changed since the plan and were kept` : '') +
    (plan.repushCommand ? `. Re-push to repair: ${plan.repushCommand}` : '.');
  return {
    ...baseReport(ctx, plan),
    decision,
    clearedKeys: deleted,
    changedKeys: changed,
    auditId,
    ...detail,
    ...(await tell(outcome, 'warning')),
  };
}
