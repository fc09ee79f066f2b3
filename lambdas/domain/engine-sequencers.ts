/**
 * Per-key ordering of storage events: S3 delivers at least once and in any order, and the
 * sequencer of an object key orders the events of that key only. An event no newer than the last
 * one applied for its key is a duplicate or a stale reorder, and is dropped.
 */
import type { SequencerMaps } from './engine-state.ts';
import { sequencerCompare } from './events.ts';
import type { StorageEvent, StorageKey } from './types.ts';

/** The map holding the last sequencer of an ordered key, and the name the key is kept under. */
function slotOf(seq: SequencerMaps, k: StorageKey): [Map<string, string>, string] {
  switch (k.kind) {
    case 'upload-startedat':
      return [seq.uploads, k.uploadId];
    case 'layer-link':
      return [seq.layers, k.digest];
    case 'revision-link':
      return [seq.revisions, k.digest];
    case 'tag-index-link': {
      let byDigest = seq.tagIndex.get(k.tag);
      if (!byDigest) {
        byDigest = new Map();
        seq.tagIndex.set(k.tag, byDigest);
      }
      return [byDigest, k.digest];
    }
    case 'tag-current-link':
      return [seq.tagCurrent, k.tag];
    default:
      throw new RangeError(`${k.kind} keys are not ordered`);
  }
}

/** True when the event is a duplicate or older than what was applied for its key. */
export function staleFor(seq: SequencerMaps, e: StorageEvent): boolean {
  if (!e.sequencer) return false;
  const [map, name] = slotOf(seq, e.storageKey);
  const last = map.get(name);
  if (last !== undefined && sequencerCompare(e.sequencer, last) <= 0) return true;
  map.set(name, e.sequencer);
  return false;
}
