/**
 * Which repository and digest scopes an event reads or writes: what a store loads before running
 * the engine on a batch.
 */
import type { RepoState } from './engine-state.ts';
import type { CheckResultEvent, NormalizedEvent } from './types.ts';

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
    ...repo.manifests.keys(),
    ...repo.layers.keys(),
    ...repo.webhooks.keys(),
  ]);
  for (const m of repo.manifests.values()) for (const r of m.references ?? []) out.add(r);
  return [...out];
}
