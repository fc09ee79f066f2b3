/**
 * Clear on removal, known or not (pure). Blob data under `blobs/sha256/<hh>/<hex>/data` is removed
 * only by garbage collection, the blob DELETE API, a lifecycle rule or a person; once it is gone,
 * every registry-cache entry for that digest lies. A removal of data no repository is known to
 * link becomes a `blob-data-removed` finding at once (no window wait); the remediator checks S3
 * twice a settle delay apart and clears `blobs::<d>` (plus Harbor's manifest-bytes entry).
 *
 * Why `blobs::<d>` alone is enough: distribution 2.8's repository-scoped cache answers a blob
 * HEAD from the repository's set AND the global `blobs::<d>` descriptor; with the descriptor gone
 * it falls back to storage, which says 404, so a push uploads the data again.
 */
import { findingId, iso } from './engine-state.ts';
import { blobDataKey } from './keys.ts';
import type { Finding, StorageEvent } from './types.ts';

/** Removals of blob data per minute from which a garbage-collection sweep is assumed. */
export const DEFAULT_SWEEP_REMOVALS_PER_MINUTE = 100;

/** True for the event names that remove an object (`ObjectRemoved:*`, `LifecycleExpiration:*`). */
export function isRemoval(event: StorageEvent): boolean {
  return (
    event.op === 'removed' &&
    (event.eventName.startsWith('ObjectRemoved:') ||
      event.eventName.startsWith('LifecycleExpiration:'))
  );
}

/**
 * The finding of removed blob data no repository is known to link, once a storage check saw it
 * missing. `repository` is empty: nobody PushGuard knows links it.
 */
export function removalFinding(o: {
  digest: string;
  root: string;
  /** When the data was removed (event time). */
  at: number;
  /** The removal event and the check, rendered. */
  evidence: readonly string[];
}): Finding {
  const at = iso(o.at);
  return {
    id: findingId('blob-data-removed', '', o.digest),
    kind: 'blob-data-removed',
    repository: '',
    digest: o.digest,
    firstSeen: at,
    lastSeen: at,
    evidence: [
      ...o.evidence,
      `no repository PushGuard knows links ${o.digest}; its registry cache entry blobs::${o.digest} lies while ${blobDataKey(o.root, o.digest)} is missing`,
    ],
    verified: true,
    action: 'clear-cache',
  };
}

/** A garbage-collection sweep: many removals within a minute. */
export function isSweep(removalsLastMinute: number, threshold: number): boolean {
  return removalsLastMinute >= threshold;
}
