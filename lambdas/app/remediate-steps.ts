/**
 * The remediator's steps, one function each, in the order of remediate.ts's header. Each takes
 * the same StepContext (dependencies, configuration, mode, clock) and does one thing.
 */
import { AuditLogError, RetryableError, SafetyRefusalError } from '../domain/errors.ts';
import {
  type CacheKeyRef,
  cacheKeyLabel,
  isAllowListed,
  type KeySnapshot,
  type RemediationPlan,
  type RemediationRecord,
} from '../domain/remediation.ts';
import type { Finding } from '../domain/types.ts';
import type { Notification, RegistryCache, TicketRef } from '../ports.ts';
import { newAuditId } from './audit-record.ts';
import { deliver } from './notify.ts';
import type {
  ActionReport,
  RemediationMode,
  RemediatorConfig,
  RemediatorDeps,
} from './remediate-types.ts';

export interface StepContext {
  deps: RemediatorDeps;
  config: RemediatorConfig;
  mode: RemediationMode;
  iso(): string;
}

export interface StorageEvidence {
  key: string;
  checks: string[];
}

export const NOT_NOTIFIED = { notified: 0, notificationFailures: 0 } as const;

/** The fields every report of a plan carries. */
export function baseReport(ctx: StepContext, plan: RemediationPlan) {
  return {
    findingId: plan.finding.id,
    kind: plan.finding.kind,
    repository: plan.finding.repository,
    ...(plan.finding.digest ? { digest: plan.finding.digest } : {}),
    mode: ctx.mode,
    plannedKeys: plan.keys.map(cacheKeyLabel),
    clearedKeys: [] as string[],
    changedKeys: [] as string[],
    ...(plan.repushCommand ? { repushCommand: plan.repushCommand } : {}),
  };
}

/** The store a key lives in; a cache-layer key without a cache-layer connection is refused. */
export function cacheFor(ctx: StepContext, ref: CacheKeyRef): RegistryCache {
  if (ref.store === 'registry') return ctx.deps.registryCache;
  if (!ctx.deps.cacheLayer) {
    throw new SafetyRefusalError(`plan has cache-layer key ${ref.key} but no cache-layer Redis`);
  }
  return ctx.deps.cacheLayer;
}

/** Step 1: every key allow-listed with its store connected, and something to verify in storage. */
export function assertPlanSafe(ctx: StepContext, plan: RemediationPlan): void {
  for (const ref of plan.keys) {
    if (!isAllowListed(ref)) {
      throw new SafetyRefusalError(`refusing a key outside the allow-list: ${cacheKeyLabel(ref)}`);
    }
    cacheFor(ctx, ref);
  }
  if (plan.mustBeMissing.length === 0) {
    throw new SafetyRefusalError(
      `plan for ${plan.finding.id} has keys but no storage object to verify`
    );
  }
}

/** Step 1b: nothing is changed in a repository while a push is writing to it. */
export async function refuseWhilePushing(ctx: StepContext, finding: Finding): Promise<void> {
  const { uploads } = ctx.deps;
  if (ctx.mode !== 'enforce' || !uploads || !finding.repository) return;
  const since = ctx.deps.clock.now() - (ctx.config.activePushMs ?? 120_000);
  const active = await uploads.recentUploads(finding.repository, since);
  if (active === 0) return;
  throw new RetryableError(
    active === 'unknown'
      ? `cannot tell whether a push is writing to ${finding.repository}; nothing deleted, retry later`
      : `a push is writing to ${finding.repository} (${active} upload session(s)); nothing deleted, retry later`
  );
}

/** Step 2: two checks of every object, `settleMs` apart; any doubt throws RetryableError. */
export async function verifyMissing(
  ctx: StepContext,
  keys: readonly string[]
): Promise<{ present?: string; evidence: StorageEvidence[] }> {
  const evidence = keys.map((key) => ({ key, checks: [] as string[] }));
  for (let round = 0; round < 2; round++) {
    if (round === 1) await ctx.deps.clock.sleep(ctx.config.settleMs);
    for (const e of evidence) {
      let presence: string;
      try {
        presence = await ctx.deps.checker.head(e.key);
      } catch (err) {
        throw new RetryableError(`storage check of ${e.key} failed; nothing deleted, retry later`, {
          cause: err,
        });
      }
      e.checks.push(`${presence}@${ctx.iso()}`);
      if (presence === 'present') return { present: e.key, evidence };
      if (presence !== 'missing') {
        throw new RetryableError(
          `storage check ${round + 1}/2 of ${e.key} answered ${presence}; nothing deleted on doubt, retry later`
        );
      }
    }
  }
  return { evidence };
}

/** Steps 3–4: each cache DB is checked to be what it claims, then its keys are snapshotted. */
export async function snapshotKeys(
  ctx: StepContext,
  plan: RemediationPlan
): Promise<KeySnapshot[]> {
  const registryRefs = plan.keys.filter((k) => k.store === 'registry');
  const layerRefs = plan.keys.filter((k) => k.store === 'cache-layer');
  const out: KeySnapshot[] = [];
  if (registryRefs.length > 0) {
    await ctx.deps.registryCache.assertLooksLikeRegistryDb();
    out.push(...(await ctx.deps.registryCache.snapshot(registryRefs)));
  }
  if (layerRefs.length > 0) {
    const layer = cacheFor(ctx, layerRefs[0]!);
    await layer.assertLooksLikeRegistryDb();
    out.push(...(await layer.snapshot(layerRefs)));
  }
  return out;
}

/** The write-ahead record of a clear (or of a dry run). */
export function clearRecord(
  ctx: StepContext,
  plan: RemediationPlan,
  evidence: StorageEvidence[],
  snapshots: KeySnapshot[]
): RemediationRecord {
  const { finding } = plan;
  return {
    id: newAuditId(ctx.deps.clock.now(), finding.kind),
    at: ctx.iso(),
    mode: ctx.mode,
    actor: ctx.config.actor,
    version: ctx.config.version,
    reason: `${finding.kind} in ${finding.repository}${finding.digest ? `@${finding.digest}` : ''}: ${finding.evidence[0] ?? 'verified finding'}`,
    finding,
    storageEvidence: evidence,
    snapshots,
    decision: ctx.mode === 'enforce' ? 'delete' : 'dry-run',
  };
}

/** Step 6: the audit record is written FIRST; if that fails nothing changes and it throws. */
export async function writeAudit(ctx: StepContext, record: RemediationRecord): Promise<string> {
  try {
    return await ctx.deps.audit.write(record);
  } catch (err) {
    if (err instanceof AuditLogError) throw err;
    throw new AuditLogError(
      'write-failed',
      `audit record ${record.id} not written; nothing changed`,
      {
        cause: err,
      }
    );
  }
}

/** Step 7: a key goes only if it still holds its snapshot, store by store. */
export async function compareAndDelete(
  ctx: StepContext,
  snapshots: readonly KeySnapshot[]
): Promise<{ deleted: string[]; changed: string[] }> {
  const deleted: string[] = [];
  const changed: string[] = [];
  const stores = [
    [ctx.deps.registryCache, snapshots.filter((s) => s.store === 'registry')],
    [ctx.deps.cacheLayer, snapshots.filter((s) => s.store === 'cache-layer')],
  ] as const;
  for (const [cache, snaps] of stores) {
    if (!cache || snaps.length === 0) continue;
    const res = await cache.compareAndDelete(snaps);
    deleted.push(...res.deleted);
    changed.push(...res.changed);
  }
  return { deleted, changed };
}

/** Step 8: every notifier, retried; failures are counted, never thrown. */
export async function notifyOutcome(
  ctx: StepContext,
  input: {
    finding: Finding;
    outcome: string;
    severity: Notification['severity'];
    repushCommand?: string;
    ticket?: TicketRef;
  }
): Promise<{ notified: number; notificationFailures: number }> {
  const { deps } = ctx;
  if (deps.notifiers.length === 0) return { ...NOT_NOTIFIED };
  const report = await deliver({ ...input, mode: ctx.mode }, deps.notifiers, {
    attempts: ctx.config.notifyAttempts ?? 3,
    sleep: (ms) => deps.clock.sleep(ms),
  });
  return { notified: report.delivered, notificationFailures: report.failed.length };
}

/** The report of a plan that was held back (data present, over a cap...). */
export function heldBack(
  ctx: StepContext,
  plan: RemediationPlan,
  decision: ActionReport['decision'],
  detail: string
): ActionReport {
  return { ...baseReport(ctx, plan), decision, detail, ...NOT_NOTIFIED };
}
