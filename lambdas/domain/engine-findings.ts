/**
 * Finding builders shared by event handling and window closing.
 */
import type { EngineConfig } from './engine.ts';
import {
  type BlobFact,
  type EngineState,
  type Evidence,
  findingId,
  iso,
  type RepoState,
  renderEvidence,
  type WebhookState,
} from './engine-state.ts';
import type { Finding, FindingKind } from './types.ts';

type Out = { findings: Finding[] };

export const DAY = 24 * 60 * 60 * 1_000;

export function trusted(fact: BlobFact | undefined, now: number, cfg: EngineConfig): boolean {
  return (
    !!fact && fact.presence === 'present' && now - fact.at <= (cfg.factTrustMs ?? cfg.windowMs)
  );
}

export function makeFinding(
  kind: FindingKind,
  repository: string,
  opts: {
    digest?: string;
    tag?: string;
    uploadId?: string;
    first: number;
    last: number;
    evidence: readonly Evidence[];
    verified: boolean;
  }
): Finding {
  const action =
    !opts.verified || kind === 'incomplete-push' || kind === 'abandoned-upload'
      ? 'notify'
      : kind === 'webhook-without-commit'
        ? 'open-ticket'
        : 'clear-cache';
  return {
    id: findingId(kind, repository, opts.digest ?? opts.uploadId),
    kind,
    repository,
    ...(opts.digest ? { digest: opts.digest } : {}),
    ...(opts.tag ? { tag: opts.tag } : {}),
    ...(opts.uploadId ? { uploadId: opts.uploadId } : {}),
    firstSeen: iso(opts.first),
    lastSeen: iso(Math.max(opts.first, opts.last)),
    evidence: opts.evidence.map(renderEvidence),
    verified: opts.verified,
    action,
  };
}

export function tagOf(
  repo: RepoState | undefined,
  digest: string,
  fact?: BlobFact,
  repository?: string
): string | undefined {
  if (repo) for (const [tag, d] of Object.entries(repo.tags)) if (d === digest) return tag;
  return repository ? fact?.tags?.[repository] : undefined;
}

/** Emits a digest-scoped finding once: the fact remembers what it reported until the data is back. */
export function reportDigest(
  state: EngineState,
  out: Out,
  kind: 'manifest-data-missing' | 'layer-data-missing',
  repository: string,
  digest: string,
  first: number,
  last: number,
  evidence: readonly Evidence[],
  verified: boolean
): void {
  const fact = state.blobs[digest];
  const id = findingId(kind, repository, digest);
  if (fact?.reported[id] !== undefined) return;
  // Last seen is the latest fact, not the time a window happened to be closed.
  const seen = Math.max(
    first,
    fact && fact.source !== 'none' ? fact.at : Number.isFinite(last) ? last : first
  );
  if (fact && verified) fact.reported[id] = seen;
  const lines: Evidence[] = [...evidence];
  if (verified) {
    lines.push(
      kind === 'manifest-data-missing'
        ? `registry cache key blobs::${digest} makes the registry skip writing the manifest data on re-push (MANIFEST_UNKNOWN on pull)`
        : `registry cache keys blobs::${digest} and repository::${repository}::blobs make pushes skip the layer ("already exists")`
    );
  }
  out.findings.push(
    makeFinding(kind, repository, {
      digest,
      tag: tagOf(state.repos[repository], digest, fact, repository),
      first,
      last: seen,
      evidence: lines,
      verified,
    })
  );
}

/** Reports every repository that links a digest whose data is proven missing. */
export function reportMissingData(
  state: EngineState,
  out: Out,
  digest: string,
  now: number,
  evidence: readonly Evidence[]
): void {
  const fact = state.blobs[digest];
  if (!fact) return;
  const first = fact.pendingRemoval?.at ?? now;
  for (const repo of fact.manifestOf)
    reportDigest(state, out, 'manifest-data-missing', repo, digest, first, now, evidence, true);
  for (const repo of fact.layerOf) {
    if (!fact.manifestOf.includes(repo))
      reportDigest(state, out, 'layer-data-missing', repo, digest, first, now, evidence, true);
  }
  // Repositories with a pending manifest that references this digest but never linked it as a layer.
  for (const [name, repo] of Object.entries(state.repos)) {
    for (const [m, ms] of Object.entries(repo.manifests)) {
      if (m === digest && !fact.manifestOf.includes(name)) {
        reportDigest(
          state,
          out,
          'manifest-data-missing',
          name,
          digest,
          ms.at,
          now,
          [...ms.evidence, ...evidence],
          true
        );
      } else if (
        ms.references?.includes(digest) &&
        !fact.layerOf.includes(name) &&
        !fact.manifestOf.includes(name)
      ) {
        reportDigest(
          state,
          out,
          'layer-data-missing',
          name,
          digest,
          ms.at,
          now,
          [...evidence, `referenced by manifest ${m}`],
          true
        );
      }
    }
  }
  fact.pendingRemoval = undefined;
}

export function webhookFinding(
  repository: string,
  digest: string,
  hook: WebhookState,
  now: number,
  verified: boolean
): Finding {
  return makeFinding('webhook-without-commit', repository, {
    digest,
    tag: hook.tag,
    first: hook.at,
    last: Number.isFinite(now) ? now : hook.at,
    evidence: [
      ...hook.evidence,
      verified
        ? `no revision link ${digest} in ${repository} was written within the window, and storage has none`
        : `no revision link ${digest} in ${repository} was seen within the window (storage not consulted)`,
    ],
    verified,
  });
}
