/**
 * The remediator: clears exactly the stale cache keys of a verified finding, puts lost data back
 * when it is still referenced, or opens a ticket / notifies. Dry-run by default. Primary course
 * for a plan with keys (one named step each, lambdas/app/remediate-steps.ts):
 *
 *  0. `once`: one claim per (mode, finding), so a redelivered finding acts once;
 *  1. `assertPlanSafe`: every key is allow-listed (requirement 5) and its store is connected;
 *     `refuseWhilePushing`: nothing while a push writes to the repository (enforce);
 *  2. `verifyMissing`: every `mustBeMissing` object is checked twice, `settleMs` apart
 *     (requirement 1): present → skip (`data-present`); unknown → RetryableError, nothing changed;
 *  2b. `restoreIfReferenced` (remediate-restore.ts, enforce only): data the bucket still
 *     references is put back from a verified copy, and its cache entry is kept (`restored`);
 *     `blob-data-removed` findings go to `clearRemoval` (remediate-removal.ts, own budget, GC
 *     sweeps); during a sweep, data-missing findings clear on that budget too, unnotified;
 *  3. `snapshotKeys`: the cache DBs are checked to be what they claim (requirement 6), and
 *  4. the keys are snapshotted (nothing cached → `nothing-cached`);
 *  5. `caps.check` (remediate-caps.ts): caps per finding, per run and per hour; a finding over a
 *     cap is not touched and is collected; `endRun()` turns them into ONE ticket (requirement 7);
 *  6. `writeAudit`: the write-ahead audit record (evidence + snapshots) is written FIRST; if that
 *     fails nothing is deleted and the error is thrown (requirement 9). Dry-run stops here;
 *  7. `compareAndDelete`: a key goes only if it still holds the snapshot (requirement 8);
 *  8. `notifyOutcome`: notifiers are called (retried, failures counted); they never block or undo.
 * Steps 3–8 run in `clearKeys` (remediate-clear.ts).
 *
 * A plan without keys opens a ticket (action `open-ticket`) and/or notifies (`keyless`).
 */
import { ConfigError } from '../domain/errors.ts';
import { ticketBody, ticketTitle } from '../domain/messages.ts';
import { planRemediation, type RemediationPlan } from '../domain/remediation.ts';
import type { TicketRef } from '../ports.ts';
import { type Caps, createCaps, overCapSummary } from './remediate-caps.ts';
import { clearKeys } from './remediate-clear.ts';
import { clearRemoval, sweepInProgress } from './remediate-removal.ts';
import { restoreIfReferenced } from './remediate-restore.ts';
import {
  assertPlanSafe,
  baseReport,
  heldBack,
  notifyOutcome,
  refuseWhilePushing,
  type StepContext,
  verifyMissing,
} from './remediate-steps.ts';
import type {
  ActionReport,
  RemediationMode,
  Remediator,
  RemediatorDeps,
} from './remediate-types.ts';

export type {
  ActionDecision,
  ActionReport,
  FindingClaims,
  RemediationMode,
  Remediator,
  RemediatorConfig,
  RemediatorDeps,
  RemovalDeps,
  RestoreDeps,
  RestoreReport,
} from './remediate-types.ts';

function validate(deps: RemediatorDeps): void {
  const c = deps.config;
  const problems: string[] = [];
  const mode = c.mode ?? 'dry-run';
  const int = (v: number | undefined, min: number) =>
    v === undefined || (Number.isInteger(v) && v >= min);
  if (mode !== 'dry-run' && mode !== 'enforce')
    problems.push(`mode must be dry-run or enforce, got ${mode}`);
  if (!int(c.settleMs, 0) || c.settleMs === undefined)
    problems.push('settleMs must be an integer ≥ 0');
  if (!int(c.maxKeysPerFinding, 1) || c.maxKeysPerFinding === undefined)
    problems.push('maxKeysPerFinding must be an integer ≥ 1');
  if (!int(c.maxDeletesPerRun, 0) || c.maxDeletesPerRun === undefined)
    problems.push('maxDeletesPerRun must be an integer ≥ 0');
  if (!int(c.sweepRemovalsPerMinute, 1))
    problems.push('sweepRemovalsPerMinute must be an integer ≥ 1');
  if (!int(c.maxRemovalClearsPerRun, 0))
    problems.push('maxRemovalClearsPerRun must be an integer ≥ 0');
  if (c.cacheLayer && !deps.cacheLayer)
    problems.push('cacheLayer is on but no cache-layer Redis is connected');
  if (problems.length > 0) throw new ConfigError(problems);
}

export function createRemediator(deps: RemediatorDeps): Remediator {
  validate(deps);
  const { config, clock } = deps;
  const mode: RemediationMode = config.mode ?? 'dry-run';
  const ctx: StepContext = { deps, config, mode, iso: () => new Date(clock.now()).toISOString() };
  const caps = createCaps({
    mode,
    perFinding: config.maxKeysPerFinding,
    perRun: config.maxDeletesPerRun,
    budget: deps.budget,
    now: () => clock.now(),
  });
  const removalCaps: Caps = createCaps({
    mode,
    perFinding: config.maxKeysPerFinding,
    perRun: config.maxRemovalClearsPerRun ?? 1000,
    budget: deps.removal?.budget ?? deps.budget,
    now: () => clock.now(),
  });

  const execute = async (plan: RemediationPlan): Promise<ActionReport> => {
    if (plan.keys.length === 0) return keyless(ctx, plan);
    assertPlanSafe(ctx, plan);
    await refuseWhilePushing(ctx, plan.finding);
    const checked = await verifyMissing(ctx, plan.mustBeMissing);
    if (checked.present) {
      return heldBack(ctx, plan, 'data-present', `${checked.present} exists in storage`);
    }
    if (plan.finding.kind === 'blob-data-removed') {
      return clearRemoval(ctx, plan, checked.evidence, removalCaps);
    }
    const restored = await restoreIfReferenced(ctx, plan, checked.evidence, caps);
    if (restored.report) return restored.report;
    // During a GC sweep the data-missing findings it causes clear quietly, on the removal budget.
    const sweep = await sweepInProgress(ctx);
    const report = await clearKeys(ctx, plan, checked.evidence, {
      caps: sweep ? removalCaps : caps,
      notify: !sweep,
      note: restored.note,
    });
    return sweep ? { ...report, sweep } : report;
  };

  /** Acts once per (mode, finding id) while the claim lives; a failure releases it for the retry. */
  const once = async (plan: RemediationPlan): Promise<ActionReport> => {
    if (!deps.claims) return execute(plan);
    const key = `remediate:${mode}:${plan.finding.id}`;
    if (!(await deps.claims.firstSeen(key, config.claimTtlSeconds ?? 300))) {
      return heldBack(ctx, plan, 'duplicate', 'already acted on (redelivered finding)');
    }
    try {
      return await execute(plan);
    } catch (err) {
      await deps.claims.release(key).catch(() => undefined);
      throw err;
    }
  };

  return {
    execute: once,
    remediate: (finding) =>
      once(
        planRemediation(finding, {
          rootDirectory: config.rootDirectory,
          registryHost: config.registryHost,
          cacheLayer: config.cacheLayer,
        })
      ),
    endRun: () => endRun(ctx, [...caps.endRun(), ...removalCaps.endRun()]),
  };
}

/** A plan without keys: a ticket when the finding asks for one, and a notification. */
async function keyless(ctx: StepContext, plan: RemediationPlan): Promise<ActionReport> {
  const { finding } = plan;
  let ticket: TicketRef | undefined;
  if (finding.action === 'open-ticket' && ctx.deps.tickets) {
    const outcome = 'Ticket opened; PushGuard does not change anything for this finding.';
    ticket = await ctx.deps.tickets.ensureTicket({
      finding,
      title: ticketTitle(finding),
      body: ticketBody({ finding, outcome, repushCommand: plan.repushCommand }),
    });
  }
  const outcome = ticket
    ? `Ticket ${ticket.id}: ${ticket.url}`
    : 'Reported; no cache key to clear.';
  const n = await notifyOutcome(ctx, {
    finding,
    outcome,
    severity: 'warning',
    repushCommand: plan.repushCommand,
    ticket,
  });
  return {
    ...baseReport(ctx, plan),
    decision: ticket ? 'ticket-only' : 'notify-only',
    ...(ticket ? { ticket } : {}),
    ...n,
  };
}

/** Ends a run: one ticket and one critical notification for everything over a cap. */
async function endRun(
  ctx: StepContext,
  items: Parameters<typeof overCapSummary>[0]
): Promise<ActionReport | undefined> {
  if (items.length === 0) return undefined;
  const summary = overCapSummary(items, ctx.iso());
  const { finding } = summary;
  const ticket = ctx.deps.tickets
    ? await ctx.deps.tickets.ensureTicket({ finding, title: summary.title, body: summary.body })
    : undefined;
  const n = await notifyOutcome(ctx, {
    finding,
    outcome: summary.outcome,
    severity: 'critical',
    ticket,
  });
  return {
    findingId: finding.id,
    kind: finding.kind,
    repository: finding.repository,
    mode: ctx.mode,
    decision: 'over-cap',
    plannedKeys: summary.keys,
    clearedKeys: [],
    changedKeys: [],
    ...(ticket ? { ticket } : {}),
    ...n,
    detail: summary.outcome,
  };
}
