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

/** The finding of a removed blob data object; `repository` is empty (no repository is known). */
export function removalFinding(event: StorageEvent, digest: string, root: string): Finding {
  const at = iso(event.time);
  return {
    id: findingId('blob-data-removed', '', digest),
    kind: 'blob-data-removed',
    repository: '',
    digest,
    firstSeen: at,
    lastSeen: at,
    evidence: [
      `s3 ${event.eventName} ${event.key}${event.sequencer ? ` seq=${event.sequencer}` : ''} at ${at}`,
      `no repository PushGuard knows links ${digest}: its cache entries (blobs::${digest}) are cleared once ${blobDataKey(root, digest)} is verified missing`,
    ],
    verified: true,
    action: 'clear-cache',
  };
}

/** A garbage-collection sweep: many removals within a minute. */
export function isSweep(removalsLastMinute: number, threshold: number): boolean {
  return removalsLastMinute >= threshold;
}
