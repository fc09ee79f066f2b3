/**
 * Window closing: what the engine decides once a deadline has passed, and the deadlines a store
 * indexes. Live (reportUnverified false): an unknown fact asks storage again, a bounded number of
 * times; replay: it is reported unverified.
 */
import type { EngineConfig, EngineOutput } from './engine.ts';
import {
  DAY,
  makeFinding,
  reportDigest,
  reportMissingData,
  webhookFinding,
} from './engine-findings.ts';
import {
  type BlobFact,
  type EngineState,
  findingId,
  iso,
  type RepoState,
  type SeqMaps,
} from './engine-state.ts';
import { blobDataKey, revisionLinkKey } from './keys.ts';

const retryMs = (cfg: EngineConfig) => Math.min(cfg.windowMs, 30_000);
const maxAttempts = (cfg: EngineConfig) => cfg.maxCheckAttempts ?? 10;
const MAX_SEQ_ENTRIES = 5_000;
const SWEEP_MS = 60_000;

function closeRepo(
  state: EngineState,
  name: string,
  repo: RepoState,
  now: number,
  cfg: EngineConfig,
  out: EngineOutput
): void {
  const W = cfg.windowMs;
  const a = repo.activity;
  if (a && (repo.lastCommit === undefined || a.last > repo.lastCommit)) {
    if (now >= a.last + W) {
      const open = Object.entries(repo.uploads)
        .filter(([, u]) => !u.closed)
        .map(([id]) => `upload session ${id} still open`);
      out.findings.push(
        makeFinding('incomplete-push', name, {
          first: a.first,
          last: a.last,
          evidence: [
            ...a.evidence,
            ...open,
            `no manifest revision link written in ${name} within ${W / 1000}s of the last upload activity (${iso(a.last)})`,
          ],
          verified: true,
        })
      );
      repo.reported[findingId('incomplete-push', name, undefined)] = now;
      repo.activity = undefined;
    }
  } else if (a) {
    repo.activity = undefined;
  }
  for (const [id, u] of Object.entries(repo.uploads)) {
    if (now < u.last + W) continue;
    if (!u.closed) {
      out.findings.push(
        makeFinding('abandoned-upload', name, {
          uploadId: id,
          first: u.started,
          last: u.last,
          evidence: [
            ...u.evidence,
            `upload session ${id} neither committed nor removed within ${W / 1000}s`,
          ],
          verified: true,
        })
      );
    }
    delete repo.uploads[id];
  }
  for (const [digest, ms] of Object.entries(repo.manifests)) {
    if (now < ms.deadline) continue;
    const fact = state.blobs[digest];
    if (fact?.presence === 'present') {
      delete repo.manifests[digest];
    } else if (fact?.presence === 'missing') {
      reportDigest(
        state,
        out,
        'manifest-data-missing',
        name,
        digest,
        ms.at,
        now,
        [
          ...ms.evidence,
          `${blobDataKey(cfg.rootDirectory, digest)} is absent (${fact.source === 'event' ? 'removed, never rewritten' : 'storage check'})`,
        ],
        true
      );
      delete repo.manifests[digest];
    } else if (cfg.reportUnverified || ms.attempts >= maxAttempts(cfg)) {
      reportDigest(
        state,
        out,
        'manifest-data-missing',
        name,
        digest,
        ms.at,
        now,
        [
          ...ms.evidence,
          'manifest data existence unknown: no data write seen and storage not consulted',
        ],
        false
      );
      delete repo.manifests[digest];
    } else {
      ms.attempts += 1;
      ms.deadline = now + retryMs(cfg);
      out.checks.push({
        type: 'manifest',
        digest,
        key: keyFromEvidence(cfg, digest),
        repository: name,
      });
    }
  }
  for (const [digest, l] of Object.entries(repo.layers)) {
    if (now < l.deadline) continue;
    const fact = state.blobs[digest];
    if (fact?.presence === 'unknown' && !cfg.reportUnverified && l.attempts < maxAttempts(cfg)) {
      l.attempts += 1;
      l.deadline = now + retryMs(cfg);
      out.checks.push({
        type: 'blob-data',
        digest,
        key: blobDataKey(cfg.rootDirectory, digest),
        repository: name,
      });
      continue;
    }
    if (fact?.presence === 'missing') {
      reportDigest(
        state,
        out,
        'layer-data-missing',
        name,
        digest,
        l.at,
        now,
        [...l.evidence, `${blobDataKey(cfg.rootDirectory, digest)} is absent`],
        true
      );
    }
    delete repo.layers[digest];
  }
  for (const [digest, hook] of Object.entries(repo.webhooks)) {
    if (now < hook.deadline) continue;
    if (hook.linkCheck === 'present') {
      delete repo.webhooks[digest];
    } else if (
      hook.linkCheck === 'missing' ||
      cfg.reportUnverified ||
      hook.attempts >= maxAttempts(cfg)
    ) {
      out.findings.push(webhookFinding(name, digest, hook, now, hook.linkCheck === 'missing'));
      delete repo.webhooks[digest];
    } else {
      hook.attempts += 1;
      hook.deadline = now + retryMs(cfg);
      out.checks.push({
        type: 'revision-link',
        repository: name,
        digest,
        key: revisionLinkKey(cfg.rootDirectory, name, digest),
      });
    }
  }
  if (seqEntries(repo.seq) > MAX_SEQ_ENTRIES) repo.seq = {};
  for (const [k, t] of Object.entries(repo.seen)) if (now >= t + W) delete repo.seen[k];
  for (const [k, t] of Object.entries(repo.reported)) if (now >= t + W) delete repo.reported[k];
}

/** Ordered keys remembered in a repository's sequencer maps. */
function seqEntries(seq: SeqMaps): number {
  let n = 0;
  for (const map of [seq.u, seq.l, seq.r, seq.c]) if (map) n += Object.keys(map).length;
  if (seq.i) for (const tag in seq.i) n += Object.keys(seq.i[tag]!).length;
  return n;
}

/** Root-aware data key of a manifest pending in a repository (the root is global per deployment). */
function keyFromEvidence(cfg: EngineConfig, digest: string): string {
  return blobDataKey(cfg.rootDirectory, digest);
}

function repoIdle(repo: RepoState, now: number, W: number): boolean {
  const pendingActivity = repo.activity !== undefined;
  const pending =
    pendingActivity ||
    Object.keys(repo.uploads).length > 0 ||
    Object.keys(repo.manifests).length > 0 ||
    Object.keys(repo.webhooks).length > 0 ||
    Object.keys(repo.layers).length > 0;
  return !pending && now >= repo.lastEvent + W;
}

/** Earliest time anything in this repository's state needs attention. */
export function repoDeadline(repo: RepoState, W: number): number {
  let d = repo.lastEvent + W;
  const a = repo.activity;
  if (a && (repo.lastCommit === undefined || a.last > repo.lastCommit)) d = Math.min(d, a.last + W);
  for (const id in repo.uploads) d = Math.min(d, repo.uploads[id]!.last + W);
  for (const m in repo.manifests) d = Math.min(d, repo.manifests[m]!.deadline);
  for (const h in repo.webhooks) d = Math.min(d, repo.webhooks[h]!.deadline);
  for (const l in repo.layers) d = Math.min(d, repo.layers[l]!.deadline);
  return d;
}

/** Closes every window due at `now`; drops state that is no longer needed. */
export function closeDue(state: EngineState, now: number, cfg: EngineConfig): EngineOutput {
  const out: EngineOutput = { findings: [], checks: [] };
  const W = cfg.windowMs;
  for (const name in state.repos) {
    const repo = state.repos[name]!;
    if (now < repoDeadline(repo, W)) continue;
    closeRepo(state, name, repo, now, cfg, out);
    if (repoIdle(repo, now, W)) delete state.repos[name];
  }
  const retention = cfg.factRetentionMs ?? 7 * DAY;
  // Facts are many: sweep their retention at most once per sweep interval (event time).
  const sweep =
    state.sweptAt === undefined || now >= state.sweptAt + SWEEP_MS || !Number.isFinite(now);
  let count = 0;
  for (const digest in state.blobs) {
    const fact = state.blobs[digest]!;
    count += 1;
    const p = fact.pendingRemoval;
    if (p && now >= p.deadline) {
      if (fact.presence === 'missing') {
        reportMissingData(state, out, digest, now, [
          ...p.evidence,
          `${blobDataKey(cfg.rootDirectory, digest)} removed and not rewritten within ${W / 1000}s`,
        ]);
      } else fact.pendingRemoval = undefined;
    }
    if (sweep && !fact.pendingRemoval && now >= fact.touched + retention)
      delete state.blobs[digest];
  }
  if (sweep) {
    state.sweptAt = now;
    if (count > (cfg.maxBlobFacts ?? 200_000) * 1.1) evictFacts(state, cfg.maxBlobFacts ?? 200_000);
  }
  return out;
}

/** Keeps at most `max` blob facts: the least recently touched without pending work go first. */
function evictFacts(state: EngineState, max: number): void {
  const keys = Object.keys(state.blobs);
  const victims = keys
    .filter((k) => !state.blobs[k]!.pendingRemoval)
    .sort((x, y) => state.blobs[x]!.touched - state.blobs[y]!.touched)
    .slice(0, keys.length - max);
  for (const k of victims) delete state.blobs[k];
}

/** Earliest deadline of each repository and digest scope (epoch ms), for a deadline index. */
export function deadlinesOf(
  state: EngineState,
  cfg?: Pick<EngineConfig, 'windowMs' | 'factRetentionMs'>
): {
  repositories: Record<string, number>;
  digests: Record<string, number>;
} {
  const W = cfg?.windowMs ?? 10 * 60_000;
  const retention = cfg?.factRetentionMs ?? 7 * DAY;
  const repositories: Record<string, number> = {};
  const digests: Record<string, number> = {};
  for (const [name, repo] of Object.entries(state.repos))
    repositories[name] = repoDeadline(repo, W);
  for (const [d, f] of Object.entries(state.blobs)) digests[d] = factDeadline(f, retention);
  return { repositories, digests };
}

/** When a blob fact needs attention: its pending removal's deadline, else its retention's end. */
export function factDeadline(fact: BlobFact, retentionMs: number): number {
  return fact.pendingRemoval ? fact.pendingRemoval.deadline : fact.touched + retentionMs;
}

/** How long blob facts are kept (factRetentionMs, default 7 days). */
export function factRetentionMs(cfg?: Pick<EngineConfig, 'factRetentionMs'>): number {
  return cfg?.factRetentionMs ?? 7 * DAY;
}
