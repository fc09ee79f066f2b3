/**
 * When each scope of the engine's state needs attention next: what a store indexes so that a
 * scheduled poll closes windows on time.
 */
import { type EngineConfig, factRetentionMs } from './engine-config.ts';
import type { BlobFact, EngineState, RepoState } from './engine-state.ts';

/** Earliest time anything in this repository's state needs attention. */
export function repoDeadline(repo: RepoState, W: number): number {
  let d = repo.lastEvent + W;
  const a = repo.activity;
  if (a && (repo.lastCommit === undefined || a.last > repo.lastCommit)) d = Math.min(d, a.last + W);
  for (const u of repo.uploads.values()) d = Math.min(d, u.last + W);
  for (const m of repo.manifests.values()) d = Math.min(d, m.deadline);
  for (const h of repo.webhooks.values()) d = Math.min(d, h.deadline);
  for (const l of repo.layers.values()) d = Math.min(d, l.deadline);
  return d;
}

/** When a blob fact needs attention: its pending removal's deadline, else its retention's end. */
export function factDeadline(fact: BlobFact, retentionMs: number): number {
  return fact.pendingRemoval ? fact.pendingRemoval.deadline : fact.touched + retentionMs;
}

/** Earliest deadline of each repository and digest scope (epoch ms), for a deadline index. */
export function deadlinesOf(
  state: EngineState,
  cfg?: Pick<EngineConfig, 'windowMs' | 'factRetentionMs'>
): { repositories: Map<string, number>; digests: Map<string, number> } {
  const W = cfg?.windowMs ?? 10 * 60_000;
  const retention = factRetentionMs(cfg);
  const repositories = new Map<string, number>();
  const digests = new Map<string, number>();
  for (const [name, repo] of state.repos) repositories.set(name, repoDeadline(repo, W));
  for (const [d, f] of state.blobs) digests.set(d, factDeadline(f, retention));
  return { repositories, digests };
}
