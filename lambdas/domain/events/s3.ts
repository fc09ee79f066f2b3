/**
 * S3 event notifications `{Records:[...]}` (the hot path: checked by hand, no schema library).
 * Each field is checked in order (object, string, optional string/size, hex sequencer) with the
 * message naming its path; the path text is only built when a check fails.
 */
import { MalformedEventError } from '../errors.ts';
import { classifyKey, decodeS3Key } from '../keys.ts';
import type { NormalizedEvent, StorageEvent } from '../types.ts';
import { at, isObject } from './fields.ts';
import { isHex } from './sequencer.ts';
import { type StorageEventFields, storageEvent, unrelatedOnly } from './storage-event.ts';
import { canonicalIsoToMs, isoToMs } from './time.ts';
import type { NormalizeOptions, NormalizeResult, Obj } from './types.ts';

/**
 * S3 event names acted on (with `s3:` or without); every other name is ignored (not an error).
 * Each maps to its op and the name as events carry it: one shared string, not a copy per event.
 */
const S3_OPS = new Map<string, { op: 'created' | 'removed'; name: string }>();
for (const [name, op] of [
  ['ObjectCreated:Put', 'created'],
  ['ObjectCreated:Post', 'created'],
  ['ObjectCreated:Copy', 'created'],
  ['ObjectCreated:CompleteMultipartUpload', 'created'],
  ['ObjectRemoved:Delete', 'removed'],
  ['ObjectRemoved:DeleteMarkerCreated', 'removed'],
  ['LifecycleExpiration:Delete', 'removed'],
  ['LifecycleExpiration:DeleteMarkerCreated', 'removed'],
] as const) {
  S3_OPS.set(name, { op, name });
  S3_OPS.set(`s3:${name}`, { op, name });
}

const EVENT_VERSION = /^(\d{1,9})\.(\d{1,9})$/;

/** Where a record sits: `Records[i]` under the notification's `Records` field. */
interface RecordAt {
  recordsField: string;
  i: number;
}

/** Throws on `Records[i]<suffix>`; the path is built here, never on the hot path. */
function fail(where: RecordAt, suffix: string, reason: string): never {
  throw new MalformedEventError(`${where.recordsField}[${where.i}]${suffix}`, reason);
}

export function normalizeS3Notification(
  value: Obj,
  prefix: string,
  opts: NormalizeOptions | undefined
): NormalizeResult {
  const records = value.Records;
  const recordsField = at(prefix, 'Records');
  if (!Array.isArray(records)) throw new MalformedEventError(recordsField, 'expected an array');
  if (records.length === 0) throw new MalformedEventError(recordsField, 'no records');
  const events: NormalizedEvent[] = [];
  let ignored: string | undefined;
  let related = false;
  for (let i = 0; i < records.length; i++) {
    const event = s3Record(records[i], { recordsField, i }, opts);
    if (typeof event === 'string') {
      ignored ??= event;
      continue;
    }
    if (event.storageKey.kind !== 'unrelated') related = true;
    events.push(event);
  }
  if (events.length === 0) {
    return { events, skipped: { reason: 'ignored-type', detail: `S3 ${ignored ?? 'event'}` } };
  }
  if (!related) return { events, skipped: unrelatedOnly(events) };
  return { events };
}

/** One record as a storage event, or the name of an event type that is not acted on. */
function s3Record(
  r: unknown,
  where: RecordAt,
  opts: NormalizeOptions | undefined
): StorageEvent | string {
  if (!isObject(r)) fail(where, '', 'expected an object');
  checkVersion(r.eventVersion, where);
  if (r.eventSource !== 'aws:s3') fail(where, '.eventSource', 'expected "aws:s3"');
  const rawName = r.eventName;
  if (typeof rawName !== 'string' || rawName === '') {
    fail(where, '.eventName', 'expected a non-empty string');
  }
  const acted = S3_OPS.get(rawName);
  if (acted === undefined) return rawName.startsWith('s3:') ? rawName.slice(3) : rawName;
  const eventTime = r.eventTime;
  let time = typeof eventTime === 'string' ? canonicalIsoToMs(eventTime) : -1;
  if (time < 0) time = isoToMs(eventTime, `${where.recordsField}[${where.i}].eventTime`);
  const { bucket, object, key } = location(r.s3, where);
  const { size, eTag, versionId, sequencer } = objectFields(object, where);
  return storageEvent({
    op: acted.op,
    eventName: acted.name,
    bucket,
    key,
    storageKey: classifyKey(key, opts),
    time,
    eventTime: eventTime as string, // isoToMs accepted it: a string
    size,
    eTag,
    versionId,
    sequencer,
  });
}

function checkVersion(version: unknown, where: RecordAt): void {
  if (typeof version !== 'string') fail(where, '.eventVersion', 'expected a string like "2.1"');
  if (version === '2.1') return;
  const vm = EVENT_VERSION.exec(version);
  if (vm === null) fail(where, '.eventVersion', 'expected major.minor');
  if (vm[1] !== '2') fail(where, '.eventVersion', `unsupported major version ${vm[1]}`);
}

/** `s3.bucket.name` and `s3.object.key` (URL-decoded only when it holds `+` or `%`). */
function location(s3: unknown, where: RecordAt): { bucket: string; object: Obj; key: string } {
  if (!isObject(s3)) fail(where, '.s3', 'expected an object');
  const bucketObj = s3.bucket;
  if (!isObject(bucketObj)) fail(where, '.s3.bucket', 'expected an object');
  const bucket = bucketObj.name;
  if (typeof bucket !== 'string' || bucket === '') {
    fail(where, '.s3.bucket.name', 'expected a non-empty string');
  }
  const object = s3.object;
  if (!isObject(object)) fail(where, '.s3.object', 'expected an object');
  const rawKey = object.key;
  if (typeof rawKey !== 'string' || rawKey === '') {
    fail(where, '.s3.object.key', 'expected a non-empty string');
  }
  const key =
    rawKey.indexOf('+') === -1 && rawKey.indexOf('%') === -1
      ? rawKey
      : decodeS3Key(rawKey, `${where.recordsField}[${where.i}].s3.object.key`);
  return { bucket, object, key };
}

type ObjectFields = Pick<StorageEventFields, 'size' | 'eTag' | 'versionId' | 'sequencer'>;

/** The optional `s3.object` fields; null is absent. */
function objectFields(object: Obj, where: RecordAt): ObjectFields {
  let size = object.size;
  if (size === null) size = undefined;
  else if (
    size !== undefined &&
    (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
  ) {
    fail(where, '.s3.object.size', 'expected a non-negative integer');
  }
  const eTag = optionalString(object.eTag, where, '.s3.object.eTag');
  const versionId = optionalString(object.versionId, where, '.s3.object.versionId');
  const sequencer = optionalString(object.sequencer, where, '.s3.object.sequencer');
  if (sequencer !== undefined && (sequencer.length > 64 || !isHex(sequencer))) {
    fail(where, '.s3.object.sequencer', 'expected a hex string');
  }
  return { size: size as number | undefined, eTag, versionId, sequencer };
}

function optionalString(v: unknown, where: RecordAt, suffix: string): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string') fail(where, suffix, 'expected a string');
  return v;
}
