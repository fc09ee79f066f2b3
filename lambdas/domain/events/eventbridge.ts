/** EventBridge `aws.s3` "Object Created" / "Object Deleted" events (checked by a zod schema). */
import * as z from 'zod';
import { MalformedEventError } from '../errors.ts';
import { classifyKey, decodeS3Key } from '../keys.ts';
import type { NormalizedEvent, StorageKey } from '../types.ts';
import { at, zodError } from './fields.ts';
import { HEX } from './sequencer.ts';
import { storageEvent, unrelatedOnly } from './storage-event.ts';
import { isoToMs } from './time.ts';
import type { NormalizeOptions, NormalizeResult, Obj } from './types.ts';

const EventBridgeEnvelope = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.string(),
  time: z.string(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().nullish(),
      etag: z.string().nullish(),
      'version-id': z.string().nullish(),
      sequencer: z.string().max(64).regex(HEX, 'expected a hex string').nullish(),
    }),
    reason: z.string().nullish(),
    'deletion-type': z.string().nullish(),
  }),
});
type EventBridgeEvent = z.infer<typeof EventBridgeEnvelope>;

const EB_CREATED = new Map<string, string>([
  ['PutObject', 'ObjectCreated:Put'],
  ['POST Object', 'ObjectCreated:Post'],
  ['CopyObject', 'ObjectCreated:Copy'],
  ['CompleteMultipartUpload', 'ObjectCreated:CompleteMultipartUpload'],
]);

export function isEventBridgeEvent(value: Obj): boolean {
  return 'detail-type' in value || value.source === 'aws.s3';
}

/** EventBridge keys are probably not URL-encoded; decode only when that makes a layout key. */
function eventBridgeKey(raw: string, opts: NormalizeOptions | undefined): [string, StorageKey] {
  const direct = classifyKey(raw, opts);
  if (direct.kind !== 'unrelated' || (raw.indexOf('%') === -1 && raw.indexOf('+') === -1)) {
    return [raw, direct];
  }
  let decoded: string;
  try {
    decoded = decodeS3Key(raw);
  } catch {
    return [raw, direct];
  }
  const sk = classifyKey(decoded, opts);
  return sk.kind === 'unrelated' ? [raw, direct] : [decoded, sk];
}

/** The S3 event name and op a detail-type and reason stand for. */
function s3EventName(
  e: EventBridgeEvent,
  prefix: string
): { op: 'created' | 'removed'; eventName: string } {
  const reason = e.detail.reason ?? '';
  const marker = e.detail['deletion-type'] === 'Delete Marker Created';
  let eventName: string | undefined;
  if (e['detail-type'] === 'Object Created') {
    eventName = EB_CREATED.get(reason);
  } else if (reason === 'DeleteObject') {
    eventName = marker ? 'ObjectRemoved:DeleteMarkerCreated' : 'ObjectRemoved:Delete';
  } else if (reason === 'Lifecycle Expiration') {
    eventName = marker ? 'LifecycleExpiration:DeleteMarkerCreated' : 'LifecycleExpiration:Delete';
  }
  if (eventName === undefined) {
    throw new MalformedEventError(
      at(prefix, 'detail.reason'),
      `unknown reason ${JSON.stringify(reason)} for ${e['detail-type']}`
    );
  }
  return { op: e['detail-type'] === 'Object Created' ? 'created' : 'removed', eventName };
}

export function normalizeEventBridge(
  value: Obj,
  prefix: string,
  opts: NormalizeOptions | undefined
): NormalizeResult {
  const detailType = value['detail-type'];
  if (
    value.source === 'aws.s3' &&
    typeof detailType === 'string' &&
    detailType !== 'Object Created' &&
    detailType !== 'Object Deleted'
  ) {
    return { events: [], skipped: { reason: 'ignored-type', detail: `EventBridge ${detailType}` } };
  }
  const parsed = EventBridgeEnvelope.safeParse(value);
  if (!parsed.success) throw zodError(prefix, parsed.error);
  const e = parsed.data;
  const { op, eventName } = s3EventName(e, prefix);
  const time = isoToMs(e.time, at(prefix, 'time'));
  const object = e.detail.object;
  const [key, storageKey] = eventBridgeKey(object.key, opts);
  const event = storageEvent({
    op,
    eventName,
    bucket: e.detail.bucket.name,
    key,
    storageKey,
    time,
    eventTime: e.time,
    size: object.size ?? undefined,
    eTag: object.etag ?? undefined,
    versionId: object['version-id'] ?? undefined,
    sequencer: object.sequencer ?? undefined,
  });
  const events: NormalizedEvent[] = [event];
  if (storageKey.kind === 'unrelated') return { events, skipped: unrelatedOnly(events) };
  return { events };
}
