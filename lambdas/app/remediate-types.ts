/**
 * The remediator's vocabulary: its configuration, its dependencies (ports) and what it reports
 * for each finding. The steps themselves live in remediate-steps.ts, the caps in
 * remediate-caps.ts, restores in remediate-restore.ts, removals in remediate-removal.ts.
 */
import type { RemediationPlan } from '../domain/remediation.ts';
import type { Finding, FindingKind } from '../domain/types.ts';
import type {
  AuditLog,
  Clock,
  DeleteBudget,
  Notifier,
  ReferenceReader,
  RegistryCache,
  RemovalRate,
  RestoreSource,
  StorageChecker,
  TicketRef,
  TicketTracker,
  UploadActivity,
} from '../ports.ts';

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
  /** Removals of blob data per minute from which a garbage-collection sweep is assumed. @default 100 */
  sweepRemovalsPerMinute?: number;
  /** Keys cleared per run for removals (their own cap, apart from maxDeletesPerRun). @default 1000 */
  maxRemovalClearsPerRun?: number;
}

/**
 * One claim per (mode, finding) across concurrent remediators: `SET NX EX` in PushGuard's state DB
 * (lambdas/adapters/redis-dedupe.ts). Released when the action failed, so the retry can act.
 */
export interface FindingClaims {
  firstSeen(key: string, ttlSeconds: number): Promise<boolean>;
  release(key: string): Promise<void>;
}

/** Putting lost data back (enforce mode only): where from, and how "still referenced" is read. */
export interface RestoreDeps {
  /** Tried in this order; the first that yields verified bytes wins. */
  sources: RestoreSource[];
  /** Reads links and manifests in the bucket at action time (never PushGuard's memory). */
  references: ReferenceReader;
}

/** Clearing on removal: its own budget and a rate that tells a GC sweep from a lone removal. */
export interface RemovalDeps {
  budget: DeleteBudget;
  rate: RemovalRate;
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
  /** When set (and enforce), data still referenced is put back instead of clearing its keys. */
  restore?: RestoreDeps;
  /** Budget and sweep detection of `blob-data-removed` findings; without it they use `budget`. */
  removal?: RemovalDeps;
}

export type ActionDecision =
  | 'cleared'
  | 'would-clear'
  | 'restored'
  | 'nothing-cached'
  | 'data-present'
  | 'changed-since-plan'
  | 'over-cap'
  | 'ticket-only'
  | 'notify-only'
  | 'duplicate';

export interface RestoreReport {
  /** `s3-versions`, `registry`, `cache-layer`. */
  source: string;
  /** Version id or URL the bytes came from. */
  origin: string;
  key: string;
  verifiedDigest: string;
  size: number;
}

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
  /** Why: the cap that was hit, the object that is present again, why a restore failed... */
  detail?: string;
  /** What was put back, from where (decision `restored`). */
  restored?: RestoreReport;
  /** The removal was one of many (a garbage-collection sweep): notified once per sweep. */
  sweep?: boolean;
}

export interface Remediator {
  execute(plan: RemediationPlan): Promise<ActionReport>;
  remediate(finding: Finding): Promise<ActionReport>;
  /** Ends the run: one ticket for everything over a cap (undefined when nothing was). */
  endRun(): Promise<ActionReport | undefined>;
}
