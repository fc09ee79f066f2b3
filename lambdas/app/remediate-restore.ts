/**
 * Restore when still referenced (enforce mode only), between "verified missing" and "clear":
 *  1. what to restore: a verified manifest-/layer-data-missing finding (domain/restore.ts);
 *  2. still referenced, read from the bucket now (revision link or the tag's current link for a
 *     manifest; layer link plus a linked manifest listing it for a layer); doubt → retry later;
 *  3. caps as for deletes (one object);
 *  4. sources in the configured order: each stages bytes whose sha256 equals the digest;
 *  5. the audit record (source, version id or URL, verified digest) is written first;
 *  6. the object is written with If-None-Match: * (`exists`: it reappeared, nothing overwritten);
 *  7. a notification says what was restored from where. The cache entry is true again: kept.
 * Not referenced, or no source had the bytes: the caller clears the keys, with this step's note.
 */
import pLimit from 'p-limit';
import { RetryableError } from '../domain/errors.ts';
import { blobDataKey } from '../domain/keys.ts';
import type { RemediationPlan, RemediationRecord } from '../domain/remediation.ts';
import {
  linksTo,
  MAX_REVISIONS_READ,
  type RestoreTarget,
  restoreTarget,
} from '../domain/restore.ts';
import type { StagedRestore } from '../ports.ts';
import { newAuditId } from './audit-record.ts';
import type { Caps } from './remediate-caps.ts';
import {
  baseReport,
  heldBack,
  notifyOutcome,
  type StepContext,
  type StorageEvidence,
  writeAudit,
} from './remediate-steps.ts';
import type { ActionReport, RestoreDeps } from './remediate-types.ts';

export interface RestoreStepResult {
  /** The action taken (restored, over a cap, reappeared); absent: go on and clear. */
  report?: ActionReport;
  /** Why nothing was restored, for the clear's report and notification. */
  note?: string;
}

export async function restoreIfReferenced(
  ctx: StepContext,
  plan: RemediationPlan,
  evidence: StorageEvidence[],
  caps: Caps
): Promise<RestoreStepResult> {
  const restore = ctx.deps.restore;
  if (!restore || ctx.mode !== 'enforce' || restore.sources.length === 0) return {};
  const target = restoreTarget(plan.finding, ctx.config.rootDirectory);
  if (!target) return {};
  const why = await stillReferenced(ctx, restore, target);
  if (!why.referenced) return { note: `Not restored: ${why.reason}` };
  const over = await caps.check(1);
  if (over) {
    caps.collect({ plan, keys: [`restore ${target.key}`], reason: over });
    return { report: heldBack(ctx, plan, 'over-cap', over) };
  }
  const failures: string[] = [];
  for (const source of restore.sources) {
    const attempt = await source
      .stage({
        digest: target.digest,
        key: target.key,
        repository: target.repository,
        manifest: target.manifest,
      })
      .catch((err: unknown) => ({ failed: err instanceof Error ? err.message : String(err) }));
    if ('failed' in attempt) {
      failures.push(`${source.name}: ${attempt.failed}`);
      continue;
    }
    return { report: await writeRestore(ctx, plan, evidence, attempt.staged, why.reason) };
  }
  return { note: `Not restored (${why.reason}): ${failures.join('; ')}` };
}

async function writeRestore(
  ctx: StepContext,
  plan: RemediationPlan,
  evidence: StorageEvidence[],
  staged: StagedRestore,
  referencedBy: string
): Promise<ActionReport> {
  const key = blobDataKey(ctx.config.rootDirectory, staged.verifiedDigest);
  const restored = {
    source: staged.source,
    origin: staged.origin,
    key,
    verifiedDigest: staged.verifiedDigest,
    size: staged.size,
  };
  let auditId: string;
  try {
    auditId = await writeAudit(ctx, restoreRecord(ctx, plan, evidence, restored, referencedBy));
  } catch (err) {
    await staged.discard().catch(() => undefined);
    throw err;
  }
  const written = await staged.commit();
  if (written === 'exists') {
    return {
      ...heldBack(
        ctx,
        plan,
        'data-present',
        `${key} reappeared before the restore; nothing overwritten`
      ),
      auditId,
    };
  }
  const outcome =
    `Restored ${key} (${staged.size} bytes, sha256 verified) from ${staged.source} ${staged.origin} ` +
    `(audit record ${auditId}); the registry cache entry is true again and was left in place.`;
  return {
    ...baseReport(ctx, plan),
    decision: 'restored',
    auditId,
    restored,
    detail: `still referenced: ${referencedBy}`,
    ...(await notifyOutcome(ctx, { finding: plan.finding, outcome, severity: 'warning' })),
  };
}

function restoreRecord(
  ctx: StepContext,
  plan: RemediationPlan,
  evidence: StorageEvidence[],
  restore: NonNullable<RemediationRecord['restore']>,
  referencedBy: string
): RemediationRecord {
  const { finding } = plan;
  return {
    id: newAuditId(ctx.deps.clock.now(), `restore-${finding.kind}`),
    at: ctx.iso(),
    mode: ctx.mode,
    actor: ctx.config.actor,
    version: ctx.config.version,
    reason: `${finding.kind} in ${finding.repository}@${finding.digest}: still referenced (${referencedBy}); restoring from ${restore.source} ${restore.origin}`,
    finding,
    storageEvidence: evidence,
    snapshots: [],
    decision: 'restore',
    restore,
  };
}

type Referenced = { referenced: true; reason: string } | { referenced: false; reason: string };

/** Step 2, from the bucket itself; any doubt throws RetryableError (nothing written or deleted). */
async function stillReferenced(
  ctx: StepContext,
  restore: RestoreDeps,
  t: RestoreTarget
): Promise<Referenced> {
  const read = async (key: string) => {
    const content = await restore.references.readLink(key);
    if (content === 'unknown') {
      throw new RetryableError(`cannot read ${key}; nothing restored or cleared, retry later`);
    }
    return content !== 'missing' && linksTo(content, t.digest);
  };
  if (t.manifest) {
    if (await read(t.revisionLink))
      return { referenced: true, reason: `revision link ${t.revisionLink}` };
    if (t.tagCurrentLink && (await read(t.tagCurrentLink))) {
      return { referenced: true, reason: `tag link ${t.tagCurrentLink}` };
    }
    return { referenced: false, reason: `no revision or tag link in ${t.repository} names it` };
  }
  if (!(await read(t.layerLink))) {
    return { referenced: false, reason: `no layer link in ${t.repository}` };
  }
  const lister = await linkedManifestListing(ctx, restore, t);
  return lister
    ? { referenced: true, reason: `layer link and manifest ${lister} linked in ${t.repository}` }
    : { referenced: false, reason: `no manifest linked in ${t.repository} lists it` };
}

/** A manifest with a revision link in the repository whose data lists the layer. */
async function linkedManifestListing(
  ctx: StepContext,
  restore: RestoreDeps,
  t: RestoreTarget
): Promise<string | undefined> {
  const revisions = await restore.references.listRevisions(t.repository, MAX_REVISIONS_READ);
  if (revisions === 'unknown') {
    throw new RetryableError(`cannot list the revisions of ${t.repository}; retry later`);
  }
  const limit = pLimit(8);
  let doubt = false;
  const hits = await Promise.all(
    revisions.map((m) =>
      limit(async () => {
        const got = await ctx.deps.checker.readManifest(blobDataKey(ctx.config.rootDirectory, m));
        if (got.presence === 'unknown') doubt = true;
        return got.references?.includes(t.digest) ? m : undefined;
      })
    )
  );
  const hit = hits.find((m) => m !== undefined);
  if (!hit && doubt) {
    throw new RetryableError(`could not read every manifest of ${t.repository}; retry later`);
  }
  return hit;
}
