/**
 * Window closing: what the engine decides once a deadline has passed. Live (reportUnverified
 * false): an unknown fact asks storage again, a bounded number of times; replay: it is reported
 * unverified. One function per kind of pending window, in the order closeRepo runs them.
 */
import { type EngineConfig, type EngineOutput, factRetentionMs } from './engine-config.ts';
import { repoDeadline } from './engine-deadlines.ts';
import { makeFinding, reportDigest, reportMissingData, webhookFinding } from './engine-findings.ts';
import {
  type EngineState,
  findingId,
  iso,
  newSequencers,
  type RepoState,
  type SequencerMaps,
} from './engine-state.ts';
import { blobDataKey, revisionLinkKey } from './keys.ts';

const retryMs = (cfg: EngineConfig) => Math.min(cfg.windowMs, 30_000);
const maxAttempts = (cfg: EngineConfig) => cfg.maxCheckAttempts ?? 10;
const MAX_SEQ_ENTRIES = 5_000;
const SWEEP_MS = 60_000;

/** What every closing step of one repository is given. */
interface Closing {
  state: EngineState;
  name: string;
  repo: RepoState;
  now: number;
  cfg: EngineConfig;
  out: EngineOutput;
}

/** Upload activity with no revision link within the window: incomplete-push. */
function closeActivity({ name, repo, now, cfg, out }: Closing): void {
  const W = cfg.windowMs;
  const a = repo.activity;
  if (!a) return;
  if (repo.lastCommit !== undefined && a.last <= repo.lastCommit) {
    repo.activity = undefined;
    return;
  }
  if (now < a.last + W) return;
  const open = [...repo.uploads]
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
  repo.reported.set(findingId('incomplete-push', name, undefined), now);
  repo.activity = undefined;
}

/** Upload sessions idle for a window: abandoned-upload when still open; dropped either way. */
function closeUploads({ name, repo, now, cfg, out }: Closing): void {
  const W = cfg.windowMs;
  for (const [id, u] of repo.uploads) {
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
    repo.uploads.delete(id);
  }
}

/** Revision links whose data is proven missing (or never proven, at the last attempt). */
function closeManifests({ state, name, repo, now, cfg, out }: Closing): void {
  for (const [digest, ms] of repo.manifests) {
    if (now < ms.deadline) continue;
    const fact = state.blobs.get(digest);
    const report = { kind: 'manifest-data-missing', repository: name, digest } as const;
    if (fact?.presence === 'present') {
      repo.manifests.delete(digest);
    } else if (fact?.presence === 'missing') {
      const how = fact.source === 'event' ? 'removed, never rewritten' : 'storage check';
      reportDigest(state, out, {
        ...report,
        first: ms.at,
        last: now,
        evidence: [...ms.evidence, `${blobDataKey(cfg.rootDirectory, digest)} is absent (${how})`],
        verified: true,
      });
      repo.manifests.delete(digest);
    } else if (cfg.reportUnverified || ms.attempts >= maxAttempts(cfg)) {
      const unknown =
        'manifest data existence unknown: no data write seen and storage not consulted';
      reportDigest(state, out, {
        ...report,
        first: ms.at,
        last: now,
        evidence: [...ms.evidence, unknown],
        verified: false,
      });
      repo.manifests.delete(digest);
    } else {
      ms.attempts += 1;
      ms.deadline = now + retryMs(cfg);
      const key = blobDataKey(cfg.rootDirectory, digest);
      out.checks.push({ type: 'manifest', digest, key, repository: name });
    }
  }
}

/** Layer links whose data is proven missing; an unknown one asks storage again. */
function closeLayers({ state, name, repo, now, cfg, out }: Closing): void {
  for (const [digest, l] of repo.layers) {
    if (now < l.deadline) continue;
    const fact = state.blobs.get(digest);
    const key = blobDataKey(cfg.rootDirectory, digest);
    if (fact?.presence === 'unknown' && !cfg.reportUnverified && l.attempts < maxAttempts(cfg)) {
      l.attempts += 1;
      l.deadline = now + retryMs(cfg);
      out.checks.push({ type: 'blob-data', digest, key, repository: name });
      continue;
    }
    if (fact?.presence === 'missing') {
      reportDigest(state, out, {
        kind: 'layer-data-missing',
        repository: name,
        digest,
        first: l.at,
        last: now,
        evidence: [...l.evidence, `${key} is absent`],
        verified: true,
      });
    }
    repo.layers.delete(digest);
  }
}

/** Webhooks whose revision link never came: webhook-without-commit. */
function closeWebhooks({ name, repo, now, cfg, out }: Closing): void {
  for (const [digest, hook] of repo.webhooks) {
    if (now < hook.deadline) continue;
    if (hook.linkCheck === 'present') {
      repo.webhooks.delete(digest);
    } else if (
      hook.linkCheck === 'missing' ||
      cfg.reportUnverified ||
      hook.attempts >= maxAttempts(cfg)
    ) {
      const verified = hook.linkCheck === 'missing';
      out.findings.push(webhookFinding({ repository: name, digest, hook, now, verified }));
      repo.webhooks.delete(digest);
    } else {
      hook.attempts += 1;
      hook.deadline = now + retryMs(cfg);
      const key = revisionLinkKey(cfg.rootDirectory, name, digest);
      out.checks.push({ type: 'revision-link', repository: name, digest, key });
    }
  }
}

/** Forgets sequencers past a bound, and dedupe keys and reports older than a window. */
function pruneRepo({ repo, now, cfg }: Closing): void {
  const W = cfg.windowMs;
  if (sequencerEntries(repo.sequencers) > MAX_SEQ_ENTRIES) repo.sequencers = newSequencers();
  for (const [k, t] of repo.seen) if (now >= t + W) repo.seen.delete(k);
  for (const [k, t] of repo.reported) if (now >= t + W) repo.reported.delete(k);
}

/** Ordered keys remembered in a repository's sequencer maps. */
function sequencerEntries(seq: SequencerMaps): number {
  let n = seq.uploads.size + seq.layers.size + seq.revisions.size + seq.tagCurrent.size;
  for (const byDigest of seq.tagIndex.values()) n += byDigest.size;
  return n;
}

function repoIdle(repo: RepoState, now: number, W: number): boolean {
  const pending =
    repo.activity !== undefined ||
    repo.uploads.size > 0 ||
    repo.manifests.size > 0 ||
    repo.webhooks.size > 0 ||
    repo.layers.size > 0;
  return !pending && now >= repo.lastEvent + W;
}

/** Closes every due window of one repository, each concern in turn. */
function closeRepo(closing: Closing): void {
  closeActivity(closing);
  closeUploads(closing);
  closeManifests(closing);
  closeLayers(closing);
  closeWebhooks(closing);
  pruneRepo(closing);
}

/** Pending removals past their deadline, retention of old facts, and the bound on their number. */
function closeFacts(state: EngineState, now: number, cfg: EngineConfig, out: EngineOutput): void {
  const retention = factRetentionMs(cfg);
  // Facts are many: sweep their retention at most once per sweep interval (event time).
  const sweep =
    state.sweptAt === undefined || now >= state.sweptAt + SWEEP_MS || !Number.isFinite(now);
  let count = 0;
  for (const [digest, fact] of state.blobs) {
    count += 1;
    const p = fact.pendingRemoval;
    if (p && now >= p.deadline) {
      if (fact.presence === 'missing') {
        reportMissingData(state, out, digest, now, [
          ...p.evidence,
          `${blobDataKey(cfg.rootDirectory, digest)} removed and not rewritten within ${cfg.windowMs / 1000}s`,
        ]);
      } else fact.pendingRemoval = undefined;
    }
    if (sweep && !fact.pendingRemoval && now >= fact.touched + retention)
      state.blobs.delete(digest);
  }
  if (sweep) {
    const max = cfg.maxBlobFacts ?? 200_000;
    state.sweptAt = now;
    if (count > max * 1.1) evictFacts(state, max);
  }
}

/** Closes every window due at `now`; drops state that is no longer needed. */
export function closeDue(state: EngineState, now: number, cfg: EngineConfig): EngineOutput {
  const out: EngineOutput = { findings: [], checks: [] };
  const W = cfg.windowMs;
  for (const [name, repo] of state.repos) {
    if (now < repoDeadline(repo, W)) continue;
    closeRepo({ state, name, repo, now, cfg, out });
    if (repoIdle(repo, now, W)) state.repos.delete(name);
  }
  closeFacts(state, now, cfg, out);
  return out;
}

/** Keeps at most `max` blob facts: the least recently touched without pending work go first. */
function evictFacts(state: EngineState, max: number): void {
  const victims = [...state.blobs]
    .filter(([, f]) => !f.pendingRemoval)
    .sort(([, x], [, y]) => x.touched - y.touched)
    .slice(0, state.blobs.size - max);
  for (const [digest] of victims) state.blobs.delete(digest);
}
