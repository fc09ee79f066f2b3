/** One storage event from its checked fields, the same shape whatever the envelope (S3, EventBridge). */
import type { NormalizedEvent, StorageEvent, StorageKey } from '../types.ts';
import type { SkipReason } from './types.ts';

export interface StorageEventFields {
  op: 'created' | 'removed';
  /** The S3 event name without `s3:`, e.g. `ObjectCreated:Put`. */
  eventName: string;
  bucket: string;
  key: string;
  storageKey: StorageKey;
  time: number;
  /** The event time as delivered: part of the dedupe key when no version or sequencer. */
  eventTime: string;
  size?: number;
  eTag?: string;
  versionId?: string;
  sequencer?: string;
}

/** Fields always in the same order, optional ones only when present (one object shape per mix). */
export function storageEvent(f: StorageEventFields): StorageEvent {
  const event: StorageEvent = {
    source: 'storage',
    op: f.op,
    eventName: f.eventName,
    bucket: f.bucket,
    key: f.key,
    storageKey: f.storageKey,
    time: f.time,
    dedupeKey: `s3|${f.bucket}|${f.key}|${f.versionId || f.sequencer || f.eventName + f.eventTime}`,
  };
  // -0 survives a parsed value but not its JSON text: one event, one size.
  if (f.size !== undefined) event.size = f.size === 0 ? 0 : f.size;
  if (f.eTag !== undefined) event.eTag = f.eTag;
  if (f.versionId !== undefined) event.versionId = f.versionId;
  if (f.sequencer !== undefined) event.sequencer = f.sequencer;
  return event;
}

/** Why a message whose keys are all outside the registry layout is skipped. */
export function unrelatedOnly(events: NormalizedEvent[]): { reason: SkipReason; detail: string } {
  const first = events[0] as StorageEvent;
  const sk = first.storageKey as Extract<StorageKey, { kind: 'unrelated' }>;
  return { reason: 'unrelated-only', detail: `${first.key}: ${sk.reason}` };
}
