/**
 * What the engine learns from one storage event: blob data written or removed, and the
 * repository keys of a push (upload sessions, layer links, revision links, tag links).
 */
import type { EngineConfig, EngineOutput } from './engine-config.ts';
import { reportDigest, trusted } from './engine-findings.ts';
import { staleFor } from './engine-sequencers.ts';
import {
  addUnique,
  type EngineState,
  factOf,
  pushEvidence,
  type RepoState,
  rememberTag,
  removeValue,
  repoOf,
  type S3Evidence,
} from './engine-state.ts';
import { sequencerCompare } from './events.ts';
import { blobDataKey } from './keys.ts';
import { isRemoval } from './removal.ts';
import type { Check, StorageEvent, StorageKey } from './types.ts';

/** What every step of one storage event is given. */
interface Step<K extends StorageKey = StorageKey> {
  state: EngineState;
  e: StorageEvent;
  k: K;
  now: number;
  cfg: EngineConfig;
  out: EngineOutput;
}

type KeyOf<Kind extends StorageKey['kind']> = Extract<StorageKey, { kind: Kind }>;

/** The event as evidence, rendered to `s3 <name> <key> seq=<seq> at <ISO>` only in a finding. */
export function describe(e: StorageEvent): S3Evidence {
  return e.sequencer ? [e.time, e.eventName, e.key, e.sequencer] : [e.time, e.eventName, e.key];
}

function rootOf(e: StorageEvent): string {
  return e.storageKey.kind === 'unrelated' ? '' : e.storageKey.root;
}

function markActivity(repo: RepoState, e: StorageEvent): void {
  const a =
    repo.activity && (repo.lastCommit === undefined || repo.activity.last > repo.lastCommit)
      ? repo.activity
      : undefined;
  if (!a) repo.activity = { first: e.time, last: e.time, evidence: [describe(e)] };
  else {
    a.first = Math.min(a.first, e.time);
    a.last = Math.max(a.last, e.time);
    if (a.evidence.length <= 12) pushEvidence(a.evidence, describe(e));
  }
}

/** `blobs/<alg>/<hh>/<hex>/data` written or removed. */
export function onBlobData(
  state: EngineState,
  e: StorageEvent,
  now: number,
  cfg: EngineConfig,
  out: EngineOutput
): void {
  if (e.storageKey.kind !== 'blob-data') return;
  const digest = e.storageKey.digest;
  const fact = factOf(state, digest, now);
  if (e.sequencer) {
    if (fact.seq !== undefined && sequencerCompare(e.sequencer, fact.seq) <= 0) return;
    fact.seq = e.sequencer;
  } else if (fact.source === 'event' && e.time < fact.at) {
    return;
  }
  fact.at = e.time;
  fact.source = 'event';
  if (e.op === 'created') {
    fact.presence = 'present';
    fact.pendingRemoval = undefined;
    fact.reported = new Map();
    return;
  }
  fact.presence = 'missing';
  // Known or not: storage is asked at once; the answer reports every repository linking the
  // digest, or a removal of data nobody is known to link (engine-checks.ts onMissingData).
  if (fact.manifestOf.length + fact.layerOf.length > 0 || isRemoval(e)) {
    fact.pendingRemoval = {
      at: e.time,
      deadline: e.time + cfg.windowMs,
      attempts: 0,
      evidence: [describe(e)],
    };
    out.checks.push({ type: 'blob-data', digest, key: blobDataKey(rootOf(e), digest) });
  }
}

/** `_uploads/<id>/{startedat,data,hashstates/...}`: sessions opened, written, closed. */
function onUploadKey(
  repo: RepoState,
  e: StorageEvent,
  k: KeyOf<'upload-startedat' | 'upload-data' | 'upload-hashstate'>
): void {
  const u = repo.uploads.get(k.uploadId);
  if (e.op === 'created') {
    if (u?.closed) return; // a leftover write after the session was cleaned up
    markActivity(repo, e);
    if (!u) {
      const session = { started: e.time, last: e.time, closed: false, evidence: [describe(e)] };
      repo.uploads.set(k.uploadId, session);
    } else {
      u.started = Math.min(u.started, e.time);
      u.last = Math.max(u.last, e.time);
      if (u.evidence.length < 3) pushEvidence(u.evidence, describe(e), 3);
    }
  } else if (k.kind === 'upload-startedat') {
    if (u) {
      u.closed = true;
      u.evidence.length = 0; // a closed session is never reported: its evidence is dead weight
    } else
      repo.uploads.set(k.uploadId, { started: e.time, last: e.time, closed: true, evidence: [] });
  }
}

/** `_layers/<alg>/<hex>/link`: a layer linked into (or unlinked from) a repository. */
function onLayerLink(repo: RepoState, { state, e, k, now, cfg, out }: Step<KeyOf<'layer-link'>>) {
  const fact = factOf(state, k.digest, now);
  if (e.op !== 'created') {
    removeValue(fact.layerOf, k.repository);
    repo.layers.delete(k.digest);
    return;
  }
  markActivity(repo, e);
  addUnique(fact.layerOf, k.repository);
  const key = blobDataKey(k.root, k.digest);
  if (!trusted(fact, now, cfg) && !repo.layers.has(k.digest)) {
    const deadline = e.time + cfg.windowMs;
    repo.layers.set(k.digest, { at: e.time, deadline, attempts: 0, evidence: [describe(e)] });
    out.checks.push({ type: 'blob-data', digest: k.digest, key, repository: k.repository });
  }
  if (fact.presence === 'missing' && !fact.pendingRemoval && fact.source === 'check') {
    reportDigest(state, out, {
      kind: 'layer-data-missing',
      repository: k.repository,
      digest: k.digest,
      first: e.time,
      last: now,
      evidence: [describe(e), `check: ${key} is missing`],
      verified: true,
    });
  }
}

/** `_manifests/revisions/<alg>/<hex>/link`: a manifest committed; its data must exist. */
function onRevisionLink(
  repo: RepoState,
  { state, e, k, now, cfg, out }: Step<KeyOf<'revision-link'>>
) {
  const fact = factOf(state, k.digest, now);
  if (e.op !== 'created') {
    removeValue(fact.manifestOf, k.repository);
    repo.manifests.delete(k.digest);
    return;
  }
  addUnique(fact.manifestOf, k.repository);
  repo.lastCommit = Math.max(repo.lastCommit ?? e.time, e.time);
  // Activity up to this commit is settled: nothing reads it again (markActivity replaces it,
  // closeRepo drops it, deadlines ignore it), so it leaves the state now.
  if (repo.activity && repo.activity.last <= repo.lastCommit) repo.activity = undefined;
  repo.webhooks.delete(k.digest);
  const existing = repo.manifests.get(k.digest);
  if (existing) {
    pushEvidence(existing.evidence, describe(e));
    // Each commit is checked, a re-push within the window too: its data may have gone since.
    existing.referencesChecked = false;
    out.checks.push(manifestCheck(k));
    return;
  }
  repo.manifests.set(k.digest, {
    at: e.time,
    deadline: e.time + cfg.windowMs,
    referencesChecked: false,
    attempts: 0,
    evidence: [describe(e)],
  });
  // Every commit is read, its data write seen or not: its blobs must exist too (engine-checks.ts).
  out.checks.push(manifestCheck(k));
}

function manifestCheck(k: KeyOf<'revision-link'>): Check {
  const key = blobDataKey(k.root, k.digest);
  return { type: 'manifest', digest: k.digest, key, repository: k.repository };
}

/** Any key under `repositories/<name>/`. */
export function onRepoKey(
  state: EngineState,
  e: StorageEvent,
  now: number,
  cfg: EngineConfig,
  out: EngineOutput
): void {
  const k = e.storageKey;
  if (k.kind === 'unrelated' || k.kind === 'blob-data') return;
  const repo = repoOf(state, k.repository, now);
  // Order matters only where a removal can follow a write; upload scratch writes are idempotent.
  const ordered = k.kind !== 'upload-hashstate' && k.kind !== 'upload-data';
  if (ordered && staleFor(repo.sequencers, e)) return;
  repo.lastEvent = Math.max(repo.lastEvent, e.time);
  switch (k.kind) {
    case 'upload-startedat':
    case 'upload-hashstate':
    case 'upload-data':
      onUploadKey(repo, e, k);
      return;
    case 'layer-link':
      onLayerLink(repo, { state, e, k, now, cfg, out });
      return;
    case 'revision-link':
      onRevisionLink(repo, { state, e, k, now, cfg, out });
      return;
    case 'tag-index-link':
      if (e.op === 'created') {
        repo.tags.set(k.tag, k.digest);
        rememberTag(factOf(state, k.digest, now), k.repository, k.tag);
      }
      return;
    case 'tag-current-link':
      return;
  }
}
