/**
 * The remediator: clears exactly the stale cache keys of a verified finding, or opens a ticket /
 * notifies. Dry-run by default. Primary course for a plan with keys:
 *
 *  1. every key is allow-listed (requirement 5) and its store is connected;
 *  2. every `mustBeMissing` object is checked twice, `settleMs` apart (requirement 1): present →
 *     skip (`data-present`); unknown (timeout, throttling, 5xx) → RetryableError, nothing deleted;
 *  3. the cache DBs are checked to be what they claim (requirement 6);
 *  4. the keys are snapshotted (nothing cached → `nothing-cached`);
 *  5. caps per finding, per run and per hour (DeleteBudget): a finding over a cap is not touched
 *     and is collected; `endRun()` turns everything collected into ONE ticket (requirement 7);
 *  6. the write-ahead audit record (evidence + snapshots) is written FIRST; if that fails, nothing
 *     is deleted and the error is thrown (requirement 9). Dry-run stops here (`would-clear`);
 *  7. compare-and-delete: a key goes only if it still holds the snapshot (requirement 8);
 *  8. notifiers are called (retried, failures counted); they never block or undo anything.
 *
 * A plan without keys opens a ticket (action `open-ticket`) and/or notifies.
 * Dry-run ignores the per-run and per-hour caps (it deletes nothing, and its plan is complete)
 * and never reserves budget; the per-finding cap still applies.
 */
import {
  AuditLogError,
  ConfigError,
  RetryableError,
  SafetyRefusalError,
} from '../domain/errors.ts';
import { ticketBody, ticketTitle } from '../domain/messages.ts';
import {
  type CacheKeyRef,
  cacheKeyLabel,
  isAllowListed,
  type KeySnapshot,
  planRemediation,
  type RemediationPlan,
  type RemediationRecord,
} from '../domain/remediation.ts';
import type { Finding, FindingKind } from '../domain/types.ts';
import type {
  AuditLog,
  Clock,
  DeleteBudget,
  Notification,
  Notifier,
  RegistryCache,
  StorageChecker,
  TicketRef,
  TicketTracker,
  UploadActivity,
} from '../ports.ts';
import { newAuditId } from './audit-record.ts';
import { deliver } from './notify.ts';

export type RemediationMode = 'dry-run' | 'enforce';

export interface RemediatorConfig {
  /** @default 'dry-run' */
  mode?: RemediationMode;
  /** Delay between the two storage checks (ms). */
  settleMs: number;
  /** A finding needing more keys than this is not cleared (ticket instead). */
  maxKeysPerFinding: number;
  /** Keys deleted per run (until `endRun()`), across findings. */
  maxDeletesPerRun: number;
  rootDirectory: string;
  registryHost: string;
  /** Who acts, for the audit record (role ARN, user@host). */
  actor: string;
  /** PushGuard version, for the audit record. */
  version: string;
  /** Also clear Harbor core's cache-layer keys (needs `deps.cacheLayer`). */
  cacheLayer: boolean;
  /** Tries per notifier. @default 3 */
  notifyAttempts?: number;
  /** How long a finding acted on stays claimed, so redeliveries do nothing twice. @default 300 */
  claimTtlSeconds?: number;
  /** A repository with an upload session written this recently has a push in progress. @default 120000 */
  activePushMs?: number;
}

/**
 * One claim per (mode, finding) across concurrent remediators: `SET NX EX` in PushGuard's state DB
 * (lambdas/adapters/redis-dedupe.ts). Released when the action failed, so the retry can act.
 */
export interface FindingClaims {
  firstSeen(key: string, ttlSeconds: number): Promise<boolean>;
  release(key: string): Promise<void>;
}

export interface RemediatorDeps {
  checker: StorageChecker;
  registryCache: RegistryCache;
  cacheLayer?: RegistryCache;
  audit: AuditLog;
  budget: DeleteBudget;
  tickets?: TicketTracker;
  notifiers: Notifier[];
  clock: Clock;
  config: RemediatorConfig;
  /** Exactly one action per finding when findings are delivered more than once. */
  claims?: FindingClaims;
  /** When set, nothing is deleted in a repository while a push is writing to it. */
  uploads?: UploadActivity;
}

export type ActionDecision =
  | 'cleared'
  | 'would-clear'
  | 'nothing-cached'
  | 'data-present'
  | 'changed-since-plan'
  | 'over-cap'
  | 'ticket-only'
  | 'notify-only'
  | 'duplicate';

export interface ActionReport {
  findingId: string;
  kind: FindingKind;
  repository: string;
  digest?: string;
  mode: RemediationMode;
  decision: ActionDecision;
  plannedKeys: string[];
  clearedKeys: string[];
  changedKeys: string[];
  auditId?: string;
  ticket?: TicketRef;
  notified: number;
  notificationFailures: number;
  repushCommand?: string;
  /** Why: the cap that was hit, the object that is present again... */
  detail?: string;
}

export interface Remediator {
  execute(plan: RemediationPlan): Promise<ActionReport>;
  remediate(finding: Finding): Promise<ActionReport>;
  /** Ends the run: one ticket for everything over a cap (undefined when nothing was). */
  endRun(): Promise<ActionReport | undefined>;
}

interface OverCap {
  plan: RemediationPlan;
  keys: string[];
  reason: string;
}

function validate(deps: RemediatorDeps): void {
  const c = deps.config;
  const problems: string[] = [];
  const mode = c.mode ?? 'dry-run';
  if (mode !== 'dry-run' && mode !== 'enforce')
    problems.push(`mode must be dry-run or enforce, got ${mode}`);
  if (!Number.isInteger(c.settleMs) || c.settleMs < 0)
    problems.push('settleMs must be an integer ≥ 0');
  if (!Number.isInteger(c.maxKeysPerFinding) || c.maxKeysPerFinding < 1)
    problems.push('maxKeysPerFinding must be an integer ≥ 1');
  if (!Number.isInteger(c.maxDeletesPerRun) || c.maxDeletesPerRun < 0)
    problems.push('maxDeletesPerRun must be an integer ≥ 0');
  if (c.cacheLayer && !deps.cacheLayer)
    problems.push('cacheLayer is on but no cache-layer Redis is connected');
  if (problems.length > 0) throw new ConfigError(problems);
}

export function createRemediator(deps: RemediatorDeps): Remediator {
  validate(deps);
  const { config, clock } = deps;
  const mode: RemediationMode = config.mode ?? 'dry-run';
  const iso = () => new Date(clock.now()).toISOString();
  let runReserved = 0;
  let collected: OverCap[] = [];

  const notify = async (
    finding: Finding,
    outcome: string,
    severity: Notification['severity'],
    plan: { repushCommand?: string },
    ticket?: TicketRef
  ): Promise<{ notified: number; notificationFailures: number }> => {
    if (deps.notifiers.length === 0) return { notified: 0, notificationFailures: 0 };
    const report = await deliver(
      { finding, outcome, mode, repushCommand: plan.repushCommand, severity, ticket },
      deps.notifiers,
      { attempts: config.notifyAttempts ?? 3, sleep: (ms) => clock.sleep(ms) }
    );
    return { notified: report.delivered, notificationFailures: report.failed.length };
  };

  const baseReport = (plan: RemediationPlan) => ({
    findingId: plan.finding.id,
    kind: plan.finding.kind,
    repository: plan.finding.repository,
    ...(plan.finding.digest ? { digest: plan.finding.digest } : {}),
    mode,
    plannedKeys: plan.keys.map(cacheKeyLabel),
    clearedKeys: [] as string[],
    changedKeys: [] as string[],
    ...(plan.repushCommand ? { repushCommand: plan.repushCommand } : {}),
  });

  /** Two checks of every object, `settleMs` apart; any doubt throws RetryableError. */
  const verifyMissing = async (keys: readonly string[]) => {
    const evidence = keys.map((key) => ({ key, checks: [] as string[] }));
    for (let round = 0; round < 2; round++) {
      if (round === 1) await clock.sleep(config.settleMs);
      for (const e of evidence) {
        let presence: string;
        try {
          presence = await deps.checker.head(e.key);
        } catch (err) {
          throw new RetryableError(
            `storage check of ${e.key} failed; nothing deleted, retry later`,
            {
              cause: err,
            }
          );
        }
        e.checks.push(`${presence}@${iso()}`);
        if (presence === 'present') return { present: e.key, evidence };
        if (presence !== 'missing') {
          throw new RetryableError(
            `storage check ${round + 1}/2 of ${e.key} answered ${presence}; nothing deleted on doubt, retry later`
          );
        }
      }
    }
    return { present: undefined, evidence };
  };

  const keyless = async (plan: RemediationPlan): Promise<ActionReport> => {
    const { finding } = plan;
    let ticket: TicketRef | undefined;
    if (finding.action === 'open-ticket' && deps.tickets) {
      const outcome = 'Ticket opened; PushGuard does not change anything for this finding.';
      ticket = await deps.tickets.ensureTicket({
        finding,
        title: ticketTitle(finding),
        body: ticketBody({ finding, outcome, repushCommand: plan.repushCommand }),
      });
    }
    const outcome = ticket
      ? `Ticket ${ticket.id}: ${ticket.url}`
      : 'Reported; no cache key to clear.';
    const n = await notify(finding, outcome, 'warning', plan, ticket);
    return {
      ...baseReport(plan),
      decision: ticket ? 'ticket-only' : 'notify-only',
      ...(ticket ? { ticket } : {}),
      ...n,
    };
  };

  const cacheFor = (ref: CacheKeyRef): RegistryCache => {
    if (ref.store === 'registry') return deps.registryCache;
    if (!deps.cacheLayer) {
      throw new SafetyRefusalError(`plan has cache-layer key ${ref.key} but no cache-layer Redis`);
    }
    return deps.cacheLayer;
  };

  /** Whether this finding may delete `n` keys now; reserves them when it may. */
  const capCheck = async (n: number): Promise<string | undefined> => {
    if (n > config.maxKeysPerFinding) {
      return `needs ${n} keys, over the per-finding cap of ${config.maxKeysPerFinding}`;
    }
    if (mode === 'dry-run') return undefined;
    if (runReserved + n > config.maxDeletesPerRun) {
      return `would exceed the per-run cap of ${config.maxDeletesPerRun} (${runReserved} used)`;
    }
    runReserved += n; // synchronously, so concurrent executes cannot both pass
    let granted = 0;
    try {
      granted = await deps.budget.reserve(n, clock.now());
    } finally {
      if (granted < n) runReserved -= n;
    }
    if (granted < n) return `the per-hour delete budget granted ${granted} of ${n}`;
    return undefined;
  };

  const execute = async (plan: RemediationPlan): Promise<ActionReport> => {
    if (plan.keys.length === 0) return keyless(plan);
    const { finding } = plan;
    for (const ref of plan.keys) {
      if (!isAllowListed(ref)) {
        throw new SafetyRefusalError(
          `refusing a key outside the allow-list: ${cacheKeyLabel(ref)}`
        );
      }
      cacheFor(ref);
    }
    if (plan.mustBeMissing.length === 0) {
      throw new SafetyRefusalError(
        `plan for ${finding.id} has keys but no storage object to verify`
      );
    }

    if (mode === 'enforce' && deps.uploads && finding.repository) {
      const since = clock.now() - (config.activePushMs ?? 120_000);
      const active = await deps.uploads.recentUploads(finding.repository, since);
      if (active !== 0) {
        throw new RetryableError(
          active === 'unknown'
            ? `cannot tell whether a push is writing to ${finding.repository}; nothing deleted, retry later`
            : `a push is writing to ${finding.repository} (${active} upload session(s)); nothing deleted, retry later`
        );
      }
    }
    const checked = await verifyMissing(plan.mustBeMissing);
    if (checked.present) {
      return {
        ...baseReport(plan),
        decision: 'data-present',
        detail: `${checked.present} exists in storage`,
        notified: 0,
        notificationFailures: 0,
      };
    }

    const registryRefs = plan.keys.filter((k) => k.store === 'registry');
    const layerRefs = plan.keys.filter((k) => k.store === 'cache-layer');
    if (registryRefs.length > 0) await deps.registryCache.assertLooksLikeRegistryDb();
    if (layerRefs.length > 0) await cacheFor(layerRefs[0]!).assertLooksLikeRegistryDb();
    const snapshots: KeySnapshot[] = [
      ...(registryRefs.length > 0 ? await deps.registryCache.snapshot(registryRefs) : []),
      ...(layerRefs.length > 0 ? await cacheFor(layerRefs[0]!).snapshot(layerRefs) : []),
    ];
    if (snapshots.length === 0) {
      const outcome = 'Nothing is cached for it any more; re-push the image to repair it.';
      return {
        ...baseReport(plan),
        decision: 'nothing-cached',
        ...(await notify(finding, outcome, 'warning', plan)),
      };
    }

    const labels = snapshots.map(cacheKeyLabel);
    const over = await capCheck(snapshots.length);
    if (over) {
      collected.push({ plan, keys: labels, reason: over });
      return {
        ...baseReport(plan),
        decision: 'over-cap',
        detail: over,
        notified: 0,
        notificationFailures: 0,
      };
    }

    const record: RemediationRecord = {
      id: newAuditId(clock.now(), finding.kind),
      at: iso(),
      mode,
      actor: config.actor,
      version: config.version,
      reason: `${finding.kind} in ${finding.repository}${finding.digest ? `@${finding.digest}` : ''}: ${finding.evidence[0] ?? 'verified finding'}`,
      finding,
      storageEvidence: checked.evidence,
      snapshots,
      decision: mode === 'enforce' ? 'delete' : 'dry-run',
    };
    let auditId: string;
    try {
      auditId = await deps.audit.write(record);
    } catch (err) {
      if (err instanceof AuditLogError) throw err;
      throw new AuditLogError(
        'write-failed',
        `audit record ${record.id} not written; nothing deleted`,
        {
          cause: err,
        }
      );
    }

    if (mode === 'dry-run') {
      const outcome = `Dry run: would clear ${labels.length} Redis key(s): ${labels.join(', ')}`;
      return {
        ...baseReport(plan),
        decision: 'would-clear',
        auditId,
        ...(await notify(finding, outcome, 'info', plan)),
      };
    }

    const deleted: string[] = [];
    const changed: string[] = [];
    const regSnaps = snapshots.filter((s) => s.store === 'registry');
    const layerSnaps = snapshots.filter((s) => s.store === 'cache-layer');
    for (const [cache, snaps] of [
      [deps.registryCache, regSnaps],
      [deps.cacheLayer, layerSnaps],
    ] as const) {
      if (!cache || snaps.length === 0) continue;
      const res = await cache.compareAndDelete(snaps);
      deleted.push(...res.deleted);
      changed.push(...res.changed);
    }
    const decision: ActionDecision = changed.length > 0 ? 'changed-since-plan' : 'cleared';
    const outcome =
      `Cleared ${deleted.length} Redis key(s) (audit record ${auditId})` +
      (changed.length > 0 ? `; ${changed.length} changed since the plan and were kept` : '') +
      (plan.repushCommand ? `. Re-push to repair: ${plan.repushCommand}` : '.');
    return {
      ...baseReport(plan),
      decision,
      clearedKeys: deleted,
      changedKeys: changed,
      auditId,
      ...(await notify(finding, outcome, 'warning', plan)),
    };
  };

  const endRun = async (): Promise<ActionReport | undefined> => {
    const items = collected;
    if (items.length === 0) {
      runReserved = 0;
      return undefined;
    }
    const finding = summaryFinding(items, iso());
    const keyCount = items.reduce((n, i) => n + i.keys.length, 0);
    const outcome =
      `Circuit breaker: ${items.length} finding(s) needing ${keyCount} key deletion(s) were over a ` +
      'delete cap and were NOT cleared. Review them and clear them in a later run, or raise the cap.';
    const body = summaryBody(items, outcome);
    let ticket: TicketRef | undefined;
    if (deps.tickets) {
      ticket = await deps.tickets.ensureTicket({
        finding,
        title: `[PushGuard] Delete cap reached: ${items.length} finding(s), ${keyCount} key(s) not cleared`,
        body,
      });
    }
    collected = [];
    runReserved = 0;
    const n = await notify(finding, outcome, 'critical', {}, ticket);
    return {
      findingId: finding.id,
      kind: finding.kind,
      repository: finding.repository,
      mode,
      decision: 'over-cap',
      plannedKeys: items.flatMap((i) => i.keys),
      clearedKeys: [],
      changedKeys: [],
      ...(ticket ? { ticket } : {}),
      ...n,
      detail: outcome,
    };
  };

  /** Acts once per (mode, finding id) while the claim lives; a failure releases it for the retry. */
  const once = async (plan: RemediationPlan): Promise<ActionReport> => {
    if (!deps.claims) return execute(plan);
    const key = `remediate:${mode}:${plan.finding.id}`;
    if (!(await deps.claims.firstSeen(key, config.claimTtlSeconds ?? 300))) {
      return {
        ...baseReport(plan),
        decision: 'duplicate',
        detail: 'already acted on (redelivered finding)',
        notified: 0,
        notificationFailures: 0,
      };
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
    endRun,
  };
}

/** One synthetic finding naming the whole over-cap set (its ticket is deduplicated per kind/repo). */
function summaryFinding(items: OverCap[], now: string): Finding {
  const first = items[0]!.plan.finding;
  const repos = [...new Set(items.map((i) => i.plan.finding.repository))];
  const repository = repos.length === 1 ? repos[0]! : `(${repos.length} repositories)`;
  const seen = items.map((i) => i.plan.finding.firstSeen).sort();
  return {
    id: `over-cap|${first.kind}|${repository}`,
    kind: first.kind,
    repository,
    firstSeen: seen[0] ?? now,
    lastSeen: now,
    evidence: items
      .slice(0, 50)
      .map((i) => `${i.plan.finding.repository}@${i.plan.finding.digest ?? '-'}: ${i.reason}`),
    verified: true,
    action: 'open-ticket',
  };
}

function summaryBody(items: OverCap[], outcome: string): string {
  const lines = [
    outcome,
    '',
    '| Finding | Repository | Digest | Keys | Why |',
    '|---|---|---|---|---|',
  ];
  const shown = items.slice(0, 200);
  for (const i of shown) {
    const f = i.plan.finding;
    lines.push(
      `| ${f.kind} | \`${f.repository}\` | \`${f.digest ?? '-'}\` | ${i.keys.length} | ${i.reason} |`
    );
  }
  if (items.length > shown.length) lines.push('', `…and ${items.length - shown.length} more.`);
  lines.push(
    '',
    'Every one of them was verified missing from storage twice before being held back.'
  );
  return lines.join('\n');
}
