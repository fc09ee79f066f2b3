/**
 * `blob-data-removed` findings, after their data was verified missing twice: clear the digest's
 * cache entries under the removal budget (its own caps, apart from the per-run and per-hour caps
 * real findings need). Removals are counted across remediators (RemovalRate): from
 * `sweepRemovalsPerMinute` on, this is a garbage-collection sweep, cleared in bulk with no
 * notification per blob and ONE notification per sweep (claimed per 10 minutes); never a ticket.
 */

import type { RemediationPlan } from '../domain/remediation.ts';
import { DEFAULT_SWEEP_REMOVALS_PER_MINUTE, isSweep } from '../domain/removal.ts';
import type { Caps } from './remediate-caps.ts';
import { clearKeys } from './remediate-clear.ts';
import { notifyOutcome, type StepContext, type StorageEvidence } from './remediate-steps.ts';
import type { ActionReport } from './remediate-types.ts';

const SWEEP_NOTICE_MS = 10 * 60 * 1000;

export async function clearRemoval(
  ctx: StepContext,
  plan: RemediationPlan,
  evidence: StorageEvidence[],
  caps: Caps
): Promise<ActionReport> {
  const now = ctx.deps.clock.now();
  const threshold = ctx.config.sweepRemovalsPerMinute ?? DEFAULT_SWEEP_REMOVALS_PER_MINUTE;
  // A rate that cannot be read counts as a sweep: the quieter choice (no notification storm).
  const removals = ctx.deps.removal
    ? await ctx.deps.removal.rate.record(now).catch(() => threshold)
    : 0;
  const sweep = isSweep(removals, threshold);
  if (sweep) await noticeOncePerSweep(ctx, plan, removals, now);
  const report = await clearKeys(ctx, plan, evidence, {
    caps,
    notify: !sweep,
    notifyNothingCached: false,
  });
  return sweep ? { ...report, sweep: true } : report;
}

/** A garbage-collection sweep is going on (data-missing findings then clear quietly too). */
export async function sweepInProgress(ctx: StepContext): Promise<boolean> {
  if (!ctx.deps.removal) return false;
  const threshold = ctx.config.sweepRemovalsPerMinute ?? DEFAULT_SWEEP_REMOVALS_PER_MINUTE;
  const now = ctx.deps.clock.now();
  return isSweep(await ctx.deps.removal.rate.current(now).catch(() => threshold), threshold);
}

async function noticeOncePerSweep(
  ctx: StepContext,
  plan: RemediationPlan,
  removals: number,
  now: number
): Promise<void> {
  const bucket = Math.floor(now / SWEEP_NOTICE_MS);
  const claim = `remediate:sweep-notice:${ctx.mode}:${bucket}`;
  const claims = ctx.deps.claims;
  // Without shared claims, the removal that crossed the threshold is the one that tells.
  const first = claims
    ? await claims.firstSeen(claim, SWEEP_NOTICE_MS / 1000)
    : removals === (ctx.config.sweepRemovalsPerMinute ?? DEFAULT_SWEEP_REMOVALS_PER_MINUTE);
  if (!first) return;
  const outcome =
    `Garbage-collection sweep: ${removals} blob data removals in the last minute. PushGuard ` +
    "clears each removed blob's cache entry under its own removal budget, with no notification " +
    'or ticket per blob; this is the one notice for this sweep.';
  await notifyOutcome(ctx, {
    finding: { ...plan.finding, id: `sweep|${bucket}`, evidence: [outcome] },
    outcome,
    severity: 'info',
  });
}
