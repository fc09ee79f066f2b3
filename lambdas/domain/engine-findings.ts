/**
 * Finding builders shared by event handling and window closing.
 */
import type { EngineConfig } from './engine-config.ts';
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

export function trusted(fact: BlobFact | undefined, now: number, cfg: EngineConfig): boolean {
  return (
    !!fact && fact.presence === 'present' && now - fact.at <= (cfg.factTrustMs ?? cfg.windowMs)
  );
}

/** The blob's data write was seen within the window (by the push that references it). */
export function writtenWithin(fact: BlobFact | undefined, now: number, cfg: EngineConfig): boolean {
  return (
    !!fact &&
    fact.presence === 'present' &&
    fact.source === 'event' &&
    now - fact.at <= cfg.windowMs
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

/** The tag a repository gave a digest: its current tags first, then the one the fact remembers. */
export function tagOf(
  repo: RepoState | undefined,
  digest: string,
  fact?: BlobFact,
  repository?: string
): string | undefined {
  if (repo) for (const [tag, d] of repo.tags) if (d === digest) return tag;
  return repository ? fact?.tags?.get(repository) : undefined;
}

/** A digest-scoped finding to report (reportDigest). */
export interface DigestReport {
  kind: 'manifest-data-missing' | 'layer-data-missing';
  repository: string;
  digest: string;
  /** When the window that found it opened. */
  first: number;
  /** Now (the latest fact's time is used when it is later). */
  last: number;
  evidence: readonly Evidence[];
  /** Storage proved the absence (false: the data's existence is unknown). */
  verified: boolean;
}

/** Emits a digest-scoped finding once: the fact remembers what it reported until the data is back. */
export function reportDigest(state: EngineState, out: Out, report: DigestReport): void {
  const { kind, repository, digest, first, last, verified } = report;
  const fact = state.blobs.get(digest);
  const id = findingId(kind, repository, digest);
  if (fact?.reported.has(id)) return;
  // Last seen is the latest fact, not the time a window happened to be closed.
  const seen = Math.max(
    first,
    fact && fact.source !== 'none' ? fact.at : Number.isFinite(last) ? last : first
  );
  if (fact && verified) fact.reported.set(id, seen);
  const lines: Evidence[] = [...report.evidence];
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
      tag: tagOf(state.repos.get(repository), digest, fact, repository),
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
  const fact = state.blobs.get(digest);
  if (!fact) return;
  const first = fact.pendingRemoval?.at ?? now;
  const missing = { digest, first, last: now, evidence, verified: true };
  for (const repository of fact.manifestOf)
    reportDigest(state, out, { ...missing, kind: 'manifest-data-missing', repository });
  for (const repository of fact.layerOf) {
    if (!fact.manifestOf.includes(repository))
      reportDigest(state, out, { ...missing, kind: 'layer-data-missing', repository });
  }
  reportPendingManifests(state, out, fact, missing);
  fact.pendingRemoval = undefined;
}

/** Repositories with a pending manifest that is, or references, the missing digest without linking it. */
function reportPendingManifests(
  state: EngineState,
  out: Out,
  fact: BlobFact,
  missing: { digest: string; last: number; evidence: readonly Evidence[] }
): void {
  const { digest, last, evidence } = missing;
  for (const [repository, repo] of state.repos) {
    for (const [m, ms] of repo.manifests) {
      const base = { repository, digest, first: ms.at, last, verified: true };
      if (m === digest && !fact.manifestOf.includes(repository)) {
        reportDigest(state, out, {
          ...base,
          kind: 'manifest-data-missing',
          evidence: [...ms.evidence, ...evidence],
        });
      } else if (
        ms.references?.includes(digest) &&
        !fact.layerOf.includes(repository) &&
        !fact.manifestOf.includes(repository)
      ) {
        reportDigest(state, out, {
          ...base,
          kind: 'layer-data-missing',
          evidence: [...evidence, `referenced by manifest ${m}`],
        });
      }
    }
  }
}

/** A webhook whose revision link never came (`verified`: storage said it has none). */
export function webhookFinding(o: {
  repository: string;
  digest: string;
  hook: WebhookState;
  now: number;
  verified: boolean;
}): Finding {
  const { repository, digest, hook, now, verified } = o;
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
