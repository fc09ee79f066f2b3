/**
 * Correlation engine: a pure function of (state, event, now) that returns findings and the storage
 * checks it needs. Primary course:
 *   1. drop duplicates and stale reorders (per-key sequencer, or the event's dedupe key);
 *   2. learn facts: which blobs exist, which repositories link them, uploads and commits per repository;
 *   3. ask storage (checks) when a decision rests on a fact the events do not prove;
 *   4. report at once when storage proves an absence, otherwise when a window closes.
 * The engine mutates the state it is given (callers own it) and never does I/O.
 */

import { reportDigest, reportMissingData, trusted, webhookFinding } from './engine-findings.ts';
import {
  addUnique,
  type BlobFact,
  createState,
  type EngineState,
  type Evidence,
  iso,
  newFact,
  newMap,
  newRepo,
  pushEvidence,
  type RepoState,
  removeValue,
  type S3Evidence,
  type SeqMaps,
} from './engine-state.ts';
import { sequencerCompare } from './events.ts';
import { blobDataKey } from './keys.ts';
import type {
  Check,
  CheckResultEvent,
  Finding,
  NormalizedEvent,
  StorageEvent,
  StorageKey,
  WebhookEvent,
} from './types.ts';

export interface EngineConfig {
  /** Correlation window in ms (1 s .. 2 h). */
  windowMs: number;
  /**
   * Report findings whose storage facts are still unknown when their window closes (replay
   * without storage access) as `verified: false`. When false (live), storage is asked again.
   */
  reportUnverified: boolean;
  /** Root directory used to build object keys for checks on webhook-only scopes. */
  rootDirectory: string;
  /** How long a fact learned from an event is trusted without asking storage. Default: the window. */
  factTrustMs?: number;
  /** How long blob facts (which repositories link a digest) are kept. Default 7 days. */
  factRetentionMs?: number;
  /** Upper bound on blob facts kept in memory; the least recently touched go first. Default 200k. */
  maxBlobFacts?: number;
  /** Checks at a deadline before an unknown fact is reported unverified. Default 10. */
  maxCheckAttempts?: number;
}

export interface EngineOutput {
  findings: Finding[];
  checks: Check[];
}

export type { BlobFact, EngineState, RepoState };
export { createState };

export const MIN_WINDOW_MS = 1_000;
export const MAX_WINDOW_MS = 2 * 60 * 60 * 1_000;

type Out = EngineOutput;

/** What applyEvent returns when an event yields nothing (most do): shared, frozen. */
const NOTHING: EngineOutput = Object.freeze({
  findings: Object.freeze([]) as unknown as Finding[],
  checks: Object.freeze([]) as unknown as Check[],
});

/** applyEvent's output under construction (the engine is synchronous: one at a time). */
const pending: Out = { findings: [], checks: [] };

/** Repositories and digests whose state an event reads or writes (for partial loading). */
export function scopesOf(event: NormalizedEvent | CheckResultEvent): {
  repositories: string[];
  digests: string[];
} {
  const repositories: string[] = [];
  const digests: string[] = [];
  forEachScope(
    event,
    (r) => repositories.push(r),
    (d) => digests.push(d)
  );
  return { repositories, digests };
}

/**
 * scopesOf without the arrays: calls `repository` then `digest` for each scope, in the order
 * scopesOf lists them (the stores' hot path, once per event).
 */
export function forEachScope(
  event: NormalizedEvent | CheckResultEvent,
  repository: (name: string) => void,
  digest: (digest: string) => void
): void {
  if (event.source === 'storage') {
    const k = event.storageKey;
    switch (k.kind) {
      case 'unrelated':
        return;
      case 'blob-data':
        digest(k.digest);
        return;
      case 'layer-link':
      case 'revision-link':
      case 'tag-index-link':
        repository(k.repository);
        digest(k.digest);
        return;
      default:
        repository(k.repository);
        return;
    }
  }
  if (event.source === 'harbor') {
    repository(event.repository);
    if (event.digest) digest(event.digest);
    return;
  }
  const c = event.check;
  if (c.type !== 'blob-data') repository(c.repository);
  else if (c.repository) repository(c.repository);
  digest(c.digest);
  for (const r of event.references ?? []) digest(r);
}

/** Digests a repository's state refers to (load their facts together with it). */
export function digestsOfRepo(repo: RepoState): string[] {
  const out = new Set<string>([
    ...Object.keys(repo.manifests),
    ...Object.keys(repo.layers),
    ...Object.keys(repo.webhooks),
  ]);
  for (const m of Object.values(repo.manifests)) for (const r of m.references ?? []) out.add(r);
  return [...out];
}

function repoOf(state: EngineState, name: string, now: number): RepoState {
  let r = state.repos[name];
  if (!r) {
    r = newRepo(now);
    state.repos[name] = r;
  }
  return r;
}

function factOf(state: EngineState, digest: string, now: number): BlobFact {
  let f = state.blobs[digest];
  if (!f) {
    f = newFact(now);
    state.blobs[digest] = f;
  }
  f.touched = Math.max(f.touched, now);
  return f;
}

/** The event as evidence, rendered to `s3 <name> <key> seq=<seq> at <ISO>` only in a finding. */
function describe(e: StorageEvent): S3Evidence {
  return e.sequencer ? [e.time, e.eventName, e.key, e.sequencer] : [e.time, e.eventName, e.key];
}

/**
 * The map holding the last sequencer of an ordered key: one entry per object key of the
 * repository, kept under the upload id, digest or tag the key is made of (seqName).
 */
function seqMap(seq: SeqMaps, k: StorageKey): Record<string, string> {
  switch (k.kind) {
    case 'upload-startedat':
      seq.u ??= newMap();
      return seq.u;
    case 'layer-link':
      seq.l ??= newMap();
      return seq.l;
    case 'revision-link':
      seq.r ??= newMap();
      return seq.r;
    case 'tag-index-link': {
      seq.i ??= newMap();
      const byTag = seq.i[k.tag] ?? newMap();
      seq.i[k.tag] = byTag;
      return byTag;
    }
    case 'tag-current-link':
      seq.c ??= newMap();
      return seq.c;
    default:
      throw new RangeError(`${k.kind} keys are not ordered`);
  }
}

function seqName(k: StorageKey): string {
  switch (k.kind) {
    case 'upload-startedat':
      return k.uploadId;
    case 'layer-link':
    case 'revision-link':
    case 'tag-index-link':
      return k.digest;
    case 'tag-current-link':
      return k.tag;
    default:
      throw new RangeError(`${k.kind} keys are not ordered`);
  }
}

/** True when the event is a duplicate or older than what was applied for its key. */
function staleFor(seq: SeqMaps, e: StorageEvent): boolean {
  if (!e.sequencer) return false;
  const map = seqMap(seq, e.storageKey);
  const name = seqName(e.storageKey);
  const last = map[name];
  if (last !== undefined && sequencerCompare(e.sequencer, last) <= 0) return true;
  map[name] = e.sequencer;
  return false;
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

function onBlobData(
  state: EngineState,
  e: StorageEvent,
  digest: string,
  now: number,
  cfg: EngineConfig,
  out: Out
): void {
  const fact = factOf(state, digest, now);
  if (e.sequencer) {
    if (fact.seq !== undefined && sequencerCompare(e.sequencer, fact.seq) <= 0) return;
    fact.seq = e.sequencer;
  } else if (fact.source === 'event' && e.time < fact.at) {
    return;
  }
  if (e.op === 'created') {
    fact.presence = 'present';
    fact.at = e.time;
    fact.source = 'event';
    fact.pendingRemoval = undefined;
    fact.reported = newMap();
    return;
  }
  fact.presence = 'missing';
  fact.at = e.time;
  fact.source = 'event';
  if (fact.manifestOf.length + fact.layerOf.length > 0) {
    fact.pendingRemoval = {
      at: e.time,
      deadline: e.time + cfg.windowMs,
      attempts: 0,
      evidence: [describe(e)],
    };
    out.checks.push({ type: 'blob-data', digest, key: blobDataKey(rootOf(e), digest) });
  }
}

function rootOf(e: StorageEvent): string {
  return e.storageKey.kind === 'unrelated' ? '' : e.storageKey.root;
}

function onRepoKey(
  state: EngineState,
  e: StorageEvent,
  now: number,
  cfg: EngineConfig,
  out: Out
): void {
  const k = e.storageKey;
  if (k.kind === 'unrelated' || k.kind === 'blob-data') return;
  const repo = repoOf(state, k.repository, now);
  // Order matters only where a removal can follow a write; upload scratch writes are idempotent.
  const ordered = k.kind !== 'upload-hashstate' && k.kind !== 'upload-data';
  if (ordered && staleFor(repo.seq, e)) return;
  repo.lastEvent = Math.max(repo.lastEvent, e.time);
  const created = e.op === 'created';
  switch (k.kind) {
    case 'upload-startedat':
    case 'upload-hashstate':
    case 'upload-data': {
      const u = repo.uploads[k.uploadId];
      if (created) {
        if (u?.closed) return; // a leftover write after the session was cleaned up
        markActivity(repo, e);
        if (!u)
          repo.uploads[k.uploadId] = {
            started: e.time,
            last: e.time,
            closed: false,
            evidence: [describe(e)],
          };
        else {
          u.started = Math.min(u.started, e.time);
          u.last = Math.max(u.last, e.time);
          if (u.evidence.length < 3) pushEvidence(u.evidence, describe(e), 3);
        }
      } else if (k.kind === 'upload-startedat') {
        if (u) {
          u.closed = true;
          u.evidence.length = 0; // a closed session is never reported: its evidence is dead weight
        } else
          repo.uploads[k.uploadId] = { started: e.time, last: e.time, closed: true, evidence: [] };
      }
      return;
    }
    case 'layer-link': {
      const fact = factOf(state, k.digest, now);
      if (!created) {
        removeValue(fact.layerOf, k.repository);
        delete repo.layers[k.digest];
        return;
      }
      markActivity(repo, e);
      addUnique(fact.layerOf, k.repository);
      if (!trusted(fact, now, cfg) && !repo.layers[k.digest]) {
        repo.layers[k.digest] = {
          at: e.time,
          deadline: e.time + cfg.windowMs,
          attempts: 0,
          evidence: [describe(e)],
        };
        out.checks.push({
          type: 'blob-data',
          digest: k.digest,
          key: blobDataKey(k.root, k.digest),
          repository: k.repository,
        });
      }
      if (fact.presence === 'missing' && !fact.pendingRemoval && fact.source === 'check') {
        reportDigest(
          state,
          out,
          'layer-data-missing',
          k.repository,
          k.digest,
          e.time,
          now,
          [describe(e), `check: ${blobDataKey(k.root, k.digest)} is missing`],
          true
        );
      }
      return;
    }
    case 'revision-link': {
      const fact = factOf(state, k.digest, now);
      if (!created) {
        removeValue(fact.manifestOf, k.repository);
        delete repo.manifests[k.digest];
        return;
      }
      addUnique(fact.manifestOf, k.repository);
      repo.lastCommit = Math.max(repo.lastCommit ?? e.time, e.time);
      // Activity up to this commit is settled: nothing reads it again (markActivity replaces it,
      // closeRepo drops it, deadlines ignore it), so it leaves the state now.
      if (repo.activity && repo.activity.last <= repo.lastCommit) repo.activity = undefined;
      const hook = repo.webhooks[k.digest];
      if (hook) delete repo.webhooks[k.digest];
      const existing = repo.manifests[k.digest];
      if (existing) {
        pushEvidence(existing.evidence, describe(e));
        return;
      }
      repo.manifests[k.digest] = {
        at: e.time,
        deadline: e.time + cfg.windowMs,
        referencesChecked: false,
        attempts: 0,
        evidence: [describe(e)],
      };
      if (!trusted(fact, now, cfg)) {
        out.checks.push({
          type: 'manifest',
          digest: k.digest,
          key: blobDataKey(k.root, k.digest),
          repository: k.repository,
        });
      }
      return;
    }
    case 'tag-index-link':
      if (created) {
        repo.tags[k.tag] = k.digest;
        rememberTag(factOf(state, k.digest, now), k.repository, k.tag);
      }
      return;
    case 'tag-current-link':
      return;
  }
}

function onWebhook(state: EngineState, e: WebhookEvent, now: number, cfg: EngineConfig): void {
  const repo = repoOf(state, e.repository, now);
  if (repo.seen[e.dedupeKey] !== undefined) return;
  repo.seen[e.dedupeKey] = e.time;
  repo.lastEvent = Math.max(repo.lastEvent, e.time);
  if (!e.digest) {
    if (repo.activity)
      pushEvidence(
        repo.activity.evidence,
        `harbor ${e.type}${e.details ? `: ${e.details}` : ''} at ${iso(e.time)}`
      );
    return;
  }
  if (e.tag) {
    repo.tags[e.tag] = e.digest;
    rememberTag(factOf(state, e.digest, now), e.repository, e.tag);
  }
  if (e.type === 'DELETE_ARTIFACT') {
    delete repo.webhooks[e.digest];
    return;
  }
  if (e.type !== 'PUSH_ARTIFACT' || repo.manifests[e.digest] || repo.webhooks[e.digest]) return;
  repo.webhooks[e.digest] = {
    at: e.time,
    deadline: e.time + cfg.windowMs,
    tag: e.tag,
    attempts: 0,
    evidence: [
      `harbor PUSH_ARTIFACT ${e.repository}@${e.digest}${e.tag ? ` tag ${e.tag}` : ''} at ${iso(e.time)} (${e.format})`,
    ],
  };
}

function onCheck(
  state: EngineState,
  e: CheckResultEvent,
  now: number,
  cfg: EngineConfig,
  out: Out
): void {
  const c = e.check;
  const line: Evidence = `check ${c.type} ${c.key} → ${e.presence} at ${iso(e.time)}`;
  if (c.type === 'revision-link') {
    const repo = state.repos[c.repository];
    const hook = repo?.webhooks[c.digest];
    if (!repo || !hook || e.presence === 'unknown') return;
    hook.linkCheck = e.presence;
    pushEvidence(hook.evidence, line);
    if (e.presence === 'missing' && hook.attempts > 0) {
      out.findings.push(webhookFinding(c.repository, c.digest, hook, now, true));
      delete repo.webhooks[c.digest];
    }
    return;
  }
  if (e.presence === 'unknown') return; // never "missing" on doubt; asked again at the deadline
  const fact = factOf(state, c.digest, now);
  if (!(fact.source === 'event' && fact.at > e.time)) {
    fact.presence = e.presence;
    fact.at = e.time;
    fact.source = 'check';
  }
  if (c.type === 'manifest' && e.presence === 'present') {
    const ms = state.repos[c.repository]?.manifests[c.digest];
    if (ms && !ms.referencesChecked) {
      ms.referencesChecked = true;
      ms.references = e.references ?? [];
      for (const ref of ms.references) {
        const rf = factOf(state, ref, now);
        if (rf.presence === 'missing' && rf.source === 'check') {
          reportDigest(
            state,
            out,
            'layer-data-missing',
            c.repository,
            ref,
            ms.at,
            now,
            [
              ...ms.evidence,
              `referenced by manifest ${c.digest}`,
              `${blobDataKey(cfg.rootDirectory, ref)} is missing`,
            ],
            true
          );
        } else if (!trusted(rf, now, cfg)) {
          out.checks.push({
            type: 'blob-data',
            digest: ref,
            key: siblingKey(c.key, ref),
            repository: c.repository,
          });
        }
      }
    }
  }
  if (e.presence === 'present') {
    fact.pendingRemoval = undefined;
    fact.reported = newMap();
    return;
  }
  reportMissingData(state, out, c.digest, now, [line]);
  const repoName = c.repository;
  if (repoName) {
    const repo = state.repos[repoName];
    if (repo?.layers[c.digest] && !fact.layerOf.includes(repoName)) {
      reportDigest(
        state,
        out,
        'layer-data-missing',
        repoName,
        c.digest,
        repo.layers[c.digest]!.at,
        now,
        [...repo.layers[c.digest]!.evidence, line],
        true
      );
    }
  }
}

/** The blob data key of `digest` next to another blob data key (same root). */
function siblingKey(blobKey: string, digest: string): string {
  const cut = blobKey.lastIndexOf('docker/registry/v2/');
  const root = cut > 0 ? blobKey.slice(0, cut - 1) : '';
  return blobDataKey(root, digest);
}

/** The latest tag a repository gave a digest, kept with the digest's facts (outlives the window). */
function rememberTag(fact: BlobFact, repository: string, tag: string): void {
  fact.tags ??= newMap();
  fact.tags[repository] = tag;
}

/**
 * Applies one event; mutates `state` and returns findings and checks (read-only: an event that
 * yields nothing returns one shared, frozen output).
 */
export function applyEvent(
  state: EngineState,
  event: NormalizedEvent | CheckResultEvent,
  now: number,
  cfg: EngineConfig
): EngineOutput {
  const out = pending;
  // left over only if a previous call threw half-way
  if (out.findings.length > 0) out.findings = [];
  if (out.checks.length > 0) out.checks = [];
  if (event.source === 'harbor') onWebhook(state, event, now, cfg);
  else if (event.source === 'check') onCheck(state, event, now, cfg, out);
  else if (event.storageKey.kind === 'blob-data')
    onBlobData(state, event, event.storageKey.digest, now, cfg, out);
  else onRepoKey(state, event, now, cfg, out);
  if (out.findings.length === 0 && out.checks.length === 0) return NOTHING;
  const result: EngineOutput = { findings: out.findings, checks: out.checks };
  out.findings = out.findings.length > 0 ? [] : out.findings;
  out.checks = out.checks.length > 0 ? [] : out.checks;
  return result;
}

export {
  closeDue,
  deadlinesOf,
  factDeadline,
  factRetentionMs,
  repoDeadline,
} from './engine-close.ts';
