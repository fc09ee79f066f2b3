/**
 * Event normalisers (pure): every delivered message body PushGuard accepts becomes zero or more
 * `NormalizedEvent`s, or a typed `MalformedEventError` naming the offending field by dotted path.
 *
 * Accepted shapes, detected automatically (harbor-internals.md §2 and §5):
 * - S3 event notification `{Records:[...]}` (the hot path: checked by hand, no schema library),
 * - the `s3:TestEvent` sent when a notification configuration is saved (skipped),
 * - an SNS envelope (`Type: 'Notification'`, `Message` string) around either of the above,
 * - EventBridge `aws.s3` "Object Created" / "Object Deleted",
 * - Harbor webhooks in the Default and CloudEvents formats.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { MalformedEventError } from './errors.ts';
import {
  classifyKey,
  decodeS3Key,
  isValidRepositoryName,
  isValidTag,
  parseDigest,
} from './keys.ts';
import type {
  HarborEventType,
  NormalizedEvent,
  StorageEvent,
  StorageKey,
  WebhookEvent,
} from './types.ts';

export interface NormalizeOptions {
  /** Configured root directory; when absent it is detected from each key. */
  rootDirectory?: string;
}

export type SkipReason = 'test-event' | 'ignored-type' | 'unrelated-only';

export interface NormalizeResult {
  events: NormalizedEvent[];
  skipped?: { reason: SkipReason; detail: string };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Joins a field prefix and a path: `at('Message', 'Records[0].s3')`, `at('', 'occur_at')`. */
function at(prefix: string, field: string): string {
  if (prefix === '') return field;
  if (field === '') return prefix;
  return field.charCodeAt(0) === 91 /* [ */ ? `${prefix}${field}` : `${prefix}.${field}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function zodError(prefix: string, error: z.ZodError): MalformedEventError {
  const issue = error.issues[0];
  if (issue === undefined) return new MalformedEventError(prefix || 'body', 'invalid');
  return new MalformedEventError(at(prefix, formatPath(issue.path)) || 'body', issue.message);
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new MalformedEventError(field, `not JSON: ${(e as Error).message}`);
  }
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Days per month, 1-based (February handled apart). */
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), as Date.UTC counts them
 * (H. Hinnant's days_from_civil), in plain integer arithmetic.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * Fast path for the form S3 sends, `YYYY-MM-DDTHH:MM:SS[.sss]Z`; -1 when `v` is not exactly
 * that (then Date.parse decides, with the same result for every input this accepts).
 */
function canonicalIsoToMs(v: string): number {
  const n = v.length;
  if ((n !== 20 && n !== 24) || v.charCodeAt(n - 1) !== 90 /* Z */) return -1;
  if (v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':') return -1;
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 2);
  const day = digits(v, 8, 2);
  const hour = digits(v, 11, 2);
  const minute = digits(v, 14, 2);
  const second = digits(v, 17, 2);
  let ms = 0;
  if (n === 24) {
    if (v[19] !== '.') return -1;
    ms = digits(v, 20, 3);
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1) return -1;
  if (
    day >
    (month === 2
      ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
        ? 29
        : 28
      : DAYS[month]!)
  ) {
    return -1;
  }
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) {
    return -1;
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms
  );
}

/** ISO-8601 date-time with a zone → epoch ms. */
function isoToMs(v: unknown, field: string): number {
  if (typeof v !== 'string') throw new MalformedEventError(field, 'expected an ISO-8601 time');
  const fast = canonicalIsoToMs(v);
  if (fast >= 0) return fast;
  if (!ISO_8601.test(v)) throw new MalformedEventError(field, 'not an ISO-8601 date-time');
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new MalformedEventError(field, 'not a valid date-time');
  return ms;
}

/**
 * Orders two S3 sequencers of the same key: right-pad the shorter with '0', compare as text
 * (hex case-insensitive). Negative when `a` is older.
 */
export function sequencerCompare(a: string, b: string): number {
  // Fast path, no allocation: ASCII text compared code by code, a-z folded, the shorter padded.
  const la = a.length;
  const lb = b.length;
  const n = Math.max(la, lb);
  for (let i = 0; i < n; i++) {
    let ca = i < la ? a.charCodeAt(i) : 48;
    let cb = i < lb ? b.charCodeAt(i) : 48;
    if (ca > 127 || cb > 127) return sequencerCompareText(a, b);
    if (ca >= 97 && ca <= 122) ca -= 32;
    if (cb >= 97 && cb <= 122) cb -= 32;
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

/** The definition, for any text: upper-case both, right-pad the shorter with '0', compare. */
function sequencerCompareText(a: string, b: string): number {
  const x = a.toUpperCase();
  const y = b.toUpperCase();
  const n = Math.max(x.length, y.length);
  const px = x.length < n ? x.padEnd(n, '0') : x;
  const py = y.length < n ? y.padEnd(n, '0') : y;
  return px < py ? -1 : px > py ? 1 : 0;
}

/**
 * Replay lines may be wrapped as `{"receivedAt":"<ISO-8601>","body":{...}}`; otherwise the line
 * itself is the body. A string line is parsed as JSON first.
 */
export function unwrapRecorded(line: unknown): { receivedAt?: number; body: unknown } {
  const value = typeof line === 'string' ? parseJson(line, 'line') : line;
  if (!isObject(value) || !('body' in value)) return { body: value };
  for (const k of Object.keys(value)) {
    if (k !== 'body' && k !== 'receivedAt') return { body: value };
  }
  if (value.receivedAt === undefined) return { body: value.body };
  return { receivedAt: isoToMs(value.receivedAt, 'receivedAt'), body: value.body };
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/**
 * Normalises one delivered message body (parsed JSON or its text). Throws MalformedEventError
 * naming the field for anything that is not a supported shape; never another error type.
 */
export function normalizeMessage(body: unknown, opts?: NormalizeOptions): NormalizeResult {
  const value = typeof body === 'string' ? parseJson(body, 'body') : body;
  return dispatch(value, '', opts, 0);
}

function dispatch(
  value: unknown,
  prefix: string,
  opts: NormalizeOptions | undefined,
  depth: number
): NormalizeResult {
  const here = prefix || 'body';
  if (!isObject(value)) throw new MalformedEventError(here, 'expected a JSON object');
  if ('Records' in value) return normalizeS3Notification(value, prefix, opts);
  if (value.Event === 's3:TestEvent') {
    return { events: [], skipped: { reason: 'test-event', detail: 's3:TestEvent' } };
  }
  if (typeof value.Type === 'string' && ('Message' in value || 'TopicArn' in value)) {
    return normalizeSns(value, prefix, opts, depth);
  }
  if ('detail-type' in value || value.source === 'aws.s3') {
    return normalizeEventBridge(value, prefix, opts);
  }
  if ('specversion' in value) return normalizeCloudEvent(value, prefix);
  if (typeof value.type === 'string' && ('event_data' in value || 'occur_at' in value)) {
    return normalizeHarborDefault(value, prefix);
  }
  throw new MalformedEventError(
    here,
    'unrecognised message: expected an S3 notification, SNS envelope, EventBridge event or Harbor webhook'
  );
}

// ---------------------------------------------------------------------------------------------
// SNS envelope
// ---------------------------------------------------------------------------------------------

function normalizeSns(
  value: Obj,
  prefix: string,
  opts: NormalizeOptions | undefined,
  depth: number
): NormalizeResult {
  const type = value.Type as string;
  if (type === 'SubscriptionConfirmation' || type === 'UnsubscribeConfirmation') {
    return { events: [], skipped: { reason: 'ignored-type', detail: `SNS ${type}` } };
  }
  if (type !== 'Notification') {
    throw new MalformedEventError(at(prefix, 'Type'), `unknown SNS message type ${type}`);
  }
  const field = at(prefix, 'Message');
  if (depth > 0) throw new MalformedEventError(field, 'nested SNS envelope');
  if (typeof value.Message !== 'string') throw new MalformedEventError(field, 'expected a string');
  return dispatch(parseJson(value.Message, field), field, opts, depth + 1);
}

// ---------------------------------------------------------------------------------------------
// S3 notifications (hot path)
// ---------------------------------------------------------------------------------------------

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
const HEX = /^[0-9A-Fa-f]+$/;

/** HEX.test without the regex machinery (the hot path's sequencers). */
function isHex(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The last bucket name seen: events of one bucket share one string. */
let lastBucket = '';

/** `Records[i]<suffix>` under `recordsField`: built only for an error (the hot path builds none). */
function recordField(recordsField: string, i: number, suffix: string): string {
  return `${recordsField}[${i}]${suffix}`;
}

function normalizeS3Notification(
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
    // Each field is checked in order (object, string, optional string/size, hex sequencer) with
    // the message naming its path; the path text is only built when a check fails.
    const r = records[i];
    if (!isObject(r)) {
      throw new MalformedEventError(recordField(recordsField, i, ''), 'expected an object');
    }

    const version = r.eventVersion;
    if (typeof version !== 'string') {
      throw new MalformedEventError(
        recordField(recordsField, i, '.eventVersion'),
        'expected a string like "2.1"'
      );
    }
    if (version !== '2.1') {
      const vf = recordField(recordsField, i, '.eventVersion');
      const vm = EVENT_VERSION.exec(version);
      if (vm === null) throw new MalformedEventError(vf, 'expected major.minor');
      if (vm[1] !== '2') {
        throw new MalformedEventError(vf, `unsupported major version ${vm[1]}`);
      }
    }
    if (r.eventSource !== 'aws:s3') {
      throw new MalformedEventError(
        recordField(recordsField, i, '.eventSource'),
        'expected "aws:s3"'
      );
    }
    const rawName = r.eventName;
    if (typeof rawName !== 'string' || rawName === '') {
      throw new MalformedEventError(
        recordField(recordsField, i, '.eventName'),
        'expected a non-empty string'
      );
    }
    const acted = S3_OPS.get(rawName);
    if (acted === undefined) {
      ignored ??= rawName.startsWith('s3:') ? rawName.slice(3) : rawName;
      continue;
    }
    const { op, name: eventName } = acted;

    const rawTime = r.eventTime;
    let time = typeof rawTime === 'string' ? canonicalIsoToMs(rawTime) : -1;
    if (time < 0) time = isoToMs(rawTime, recordField(recordsField, i, '.eventTime'));
    const eventTime = rawTime as string; // isoToMs accepted it: a string
    const s3 = r.s3;
    if (!isObject(s3)) {
      throw new MalformedEventError(recordField(recordsField, i, '.s3'), 'expected an object');
    }
    const bucketObj = s3.bucket;
    if (!isObject(bucketObj)) {
      throw new MalformedEventError(
        recordField(recordsField, i, '.s3.bucket'),
        'expected an object'
      );
    }
    const rawBucket = bucketObj.name;
    if (typeof rawBucket !== 'string' || rawBucket === '') {
      throw new MalformedEventError(
        recordField(recordsField, i, '.s3.bucket.name'),
        'expected a non-empty string'
      );
    }
    const object = s3.object;
    if (!isObject(object)) {
      throw new MalformedEventError(
        recordField(recordsField, i, '.s3.object'),
        'expected an object'
      );
    }
    const rawKey = object.key;
    if (typeof rawKey !== 'string' || rawKey === '') {
      throw new MalformedEventError(
        recordField(recordsField, i, '.s3.object.key'),
        'expected a non-empty string'
      );
    }
    if (rawBucket !== lastBucket) lastBucket = rawBucket;
    const bucket = lastBucket;
    const key =
      rawKey.indexOf('+') === -1 && rawKey.indexOf('%') === -1
        ? rawKey
        : decodeS3Key(rawKey, recordField(recordsField, i, '.s3.object.key'));
    let size = object.size;
    if (size === null) size = undefined;
    else if (
      size !== undefined &&
      (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    ) {
      throw new MalformedEventError(
        recordField(recordsField, i, '.s3.object.size'),
        'expected a non-negative integer'
      );
    }
    // -0 survives a parsed value but not its JSON text: one event, one size.
    if (size === 0) size = 0;
    let eTag = object.eTag;
    if (eTag === null) eTag = undefined;
    else if (eTag !== undefined && typeof eTag !== 'string') {
      throw new MalformedEventError(
        recordField(recordsField, i, '.s3.object.eTag'),
        'expected a string'
      );
    }
    let versionId = object.versionId;
    if (versionId === null) versionId = undefined;
    else if (versionId !== undefined && typeof versionId !== 'string') {
      throw new MalformedEventError(
        recordField(recordsField, i, '.s3.object.versionId'),
        'expected a string'
      );
    }
    let sequencer = object.sequencer;
    if (sequencer === null) sequencer = undefined;
    else if (sequencer !== undefined) {
      if (typeof sequencer !== 'string') {
        throw new MalformedEventError(
          recordField(recordsField, i, '.s3.object.sequencer'),
          'expected a string'
        );
      }
      if (sequencer.length > 64 || !isHex(sequencer)) {
        throw new MalformedEventError(
          recordField(recordsField, i, '.s3.object.sequencer'),
          'expected a hex string'
        );
      }
    }

    const storageKey = classifyKey(key, opts);
    if (storageKey.kind !== 'unrelated') related = true;
    const dedupeKey = `s3|${bucket}|${key}|${(versionId as string | undefined) || (sequencer as string | undefined) || eventName + eventTime}`;
    let event: StorageEvent;
    // The two usual shapes (a Put with size, ETag and sequencer; a delete with a sequencer) as
    // whole literals; any other one field by field. Same fields in the same order either way.
    if (versionId === undefined && typeof sequencer === 'string') {
      if (typeof size === 'number' && typeof eTag === 'string') {
        event = {
          source: 'storage',
          op,
          eventName,
          bucket,
          key,
          storageKey,
          time,
          dedupeKey,
          size,
          eTag,
          sequencer,
        };
      } else if (size === undefined && eTag === undefined) {
        event = {
          source: 'storage',
          op,
          eventName,
          bucket,
          key,
          storageKey,
          time,
          dedupeKey,
          sequencer,
        };
      } else
        event = storageEvent(
          op,
          eventName,
          bucket,
          key,
          storageKey,
          time,
          dedupeKey,
          size,
          eTag,
          versionId,
          sequencer
        );
    } else
      event = storageEvent(
        op,
        eventName,
        bucket,
        key,
        storageKey,
        time,
        dedupeKey,
        size,
        eTag,
        versionId,
        sequencer
      );
    events.push(event);
  }
  if (events.length === 0) {
    return { events, skipped: { reason: 'ignored-type', detail: `S3 ${ignored ?? 'event'}` } };
  }
  if (!related) return { events, skipped: unrelatedOnly(events) };
  return { events };
}

function storageEvent(
  op: 'created' | 'removed',
  eventName: string,
  bucket: string,
  key: string,
  storageKey: StorageKey,
  time: number,
  dedupeKey: string,
  size: unknown,
  eTag: unknown,
  versionId: unknown,
  sequencer: unknown
): StorageEvent {
  const event: StorageEvent = {
    source: 'storage',
    op,
    eventName,
    bucket,
    key,
    storageKey,
    time,
    dedupeKey,
  };
  if (size !== undefined) event.size = size as number;
  if (eTag !== undefined) event.eTag = eTag as string;
  if (versionId !== undefined) event.versionId = versionId as string;
  if (sequencer !== undefined) event.sequencer = sequencer as string;
  return event;
}

function unrelatedOnly(events: NormalizedEvent[]): { reason: SkipReason; detail: string } {
  const first = events[0] as StorageEvent;
  const sk = first.storageKey as Extract<StorageKey, { kind: 'unrelated' }>;
  return { reason: 'unrelated-only', detail: `${first.key}: ${sk.reason}` };
}

// ---------------------------------------------------------------------------------------------
// EventBridge
// ---------------------------------------------------------------------------------------------

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

const EB_CREATED = new Map<string, string>([
  ['PutObject', 'ObjectCreated:Put'],
  ['POST Object', 'ObjectCreated:Post'],
  ['CopyObject', 'ObjectCreated:Copy'],
  ['CompleteMultipartUpload', 'ObjectCreated:CompleteMultipartUpload'],
]);

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

function normalizeEventBridge(
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
  const d = e.detail;
  const reason = d.reason ?? '';
  const reasonField = at(prefix, 'detail.reason');
  const marker = d['deletion-type'] === 'Delete Marker Created';
  let eventName: string | undefined;
  let op: 'created' | 'removed';
  if (e['detail-type'] === 'Object Created') {
    op = 'created';
    eventName = EB_CREATED.get(reason);
  } else {
    op = 'removed';
    if (reason === 'DeleteObject') {
      eventName = marker ? 'ObjectRemoved:DeleteMarkerCreated' : 'ObjectRemoved:Delete';
    } else if (reason === 'Lifecycle Expiration') {
      eventName = marker ? 'LifecycleExpiration:DeleteMarkerCreated' : 'LifecycleExpiration:Delete';
    }
  }
  if (eventName === undefined) {
    throw new MalformedEventError(
      reasonField,
      `unknown reason ${JSON.stringify(reason)} for ${e['detail-type']}`
    );
  }
  const time = isoToMs(e.time, at(prefix, 'time'));
  const bucket = d.bucket.name;
  const [key, storageKey] = eventBridgeKey(d.object.key, opts);
  const versionId = d.object['version-id'] ?? undefined;
  const sequencer = d.object.sequencer ?? undefined;
  const event: StorageEvent = {
    source: 'storage',
    op,
    eventName,
    bucket,
    key,
    storageKey,
    time,
    dedupeKey: `s3|${bucket}|${key}|${versionId || sequencer || eventName + e.time}`,
  };
  if (d.object.size != null) event.size = d.object.size === 0 ? 0 : d.object.size; // -0 → 0
  if (d.object.etag != null) event.eTag = d.object.etag;
  if (versionId !== undefined) event.versionId = versionId;
  if (sequencer !== undefined) event.sequencer = sequencer;
  const events: NormalizedEvent[] = [event];
  if (storageKey.kind === 'unrelated') return { events, skipped: unrelatedOnly(events) };
  return { events };
}

// ---------------------------------------------------------------------------------------------
// Harbor webhooks
// ---------------------------------------------------------------------------------------------

const HARBOR_TYPES = new Set<HarborEventType>([
  'PUSH_ARTIFACT',
  'DELETE_ARTIFACT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
  'PULL_ARTIFACT',
  'SCANNING_FAILED',
  'SCANNING_STOPPED',
  'SCANNING_COMPLETED',
  'REPLICATION',
  'TAG_RETENTION',
  'UPLOAD_CHART',
  'DELETE_CHART',
  'DOWNLOAD_CHART',
]);

const ACTED_ON = new Set<HarborEventType>([
  'PUSH_ARTIFACT',
  'DELETE_ARTIFACT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
]);

/** CloudEvents `type` (after `harbor.`) → Harbor event type. */
const CLOUDEVENT_TYPES = new Map<string, HarborEventType>([
  ['artifact.pushed', 'PUSH_ARTIFACT'],
  ['artifact.deleted', 'DELETE_ARTIFACT'],
  ['artifact.pulled', 'PULL_ARTIFACT'],
  ['quota.exceeded', 'QUOTA_EXCEED'],
  ['quota.warned', 'QUOTA_WARNING'],
  ['scan.completed', 'SCANNING_COMPLETED'],
  ['scan.failed', 'SCANNING_FAILED'],
  ['scan.stopped', 'SCANNING_STOPPED'],
  ['replication.status.changed', 'REPLICATION'],
  ['tag_retention.finished', 'TAG_RETENTION'],
]);

const HarborDefaultEnvelope = z.object({
  type: z.string(),
  occur_at: z.number().int().nonnegative().max(253402300799),
  operator: z.string().nullish(),
  event_data: z.looseObject({}),
});

const CloudEventEnvelope = z.object({
  specversion: z.literal('1.0'),
  type: z.string(),
  time: z.string(),
  operator: z.string().nullish(),
  data: z.looseObject({}),
});

const ActedEventData = z.object({
  resources: z
    .array(
      z.object({
        digest: z.string().nullish(),
        tag: z.string().nullish(),
      })
    )
    .nullish(),
  repository: z.object({
    repo_full_name: z.string(),
    namespace: z.string().nullish(),
  }),
  custom_attributes: z.record(z.string(), z.unknown()).nullish(),
});

interface HarborCommon {
  type: HarborEventType;
  format: 'default' | 'cloudevents';
  operator: string;
  /** Epoch ms. */
  time: number;
  /** Unix seconds, as in `occur_at`. */
  occurAt: number;
  data: Obj;
  /** Field path of the event data (`event_data` or `data`), prefix included. */
  dataField: string;
}

function normalizeHarborDefault(value: Obj, prefix: string): NormalizeResult {
  const parsed = HarborDefaultEnvelope.safeParse(value);
  if (!parsed.success) throw zodError(prefix, parsed.error);
  const e = parsed.data;
  if (!HARBOR_TYPES.has(e.type as HarborEventType)) {
    throw new MalformedEventError(at(prefix, 'type'), `unknown Harbor event type ${e.type}`);
  }
  return harborEvents({
    type: e.type as HarborEventType,
    format: 'default',
    operator: e.operator ?? '',
    time: e.occur_at * 1000,
    occurAt: e.occur_at,
    data: e.event_data,
    dataField: at(prefix, 'event_data'),
  });
}

function normalizeCloudEvent(value: Obj, prefix: string): NormalizeResult {
  const parsed = CloudEventEnvelope.safeParse(value);
  if (!parsed.success) throw zodError(prefix, parsed.error);
  const e = parsed.data;
  const type = e.type.startsWith('harbor.') ? CLOUDEVENT_TYPES.get(e.type.slice(7)) : undefined;
  if (type === undefined) {
    throw new MalformedEventError(at(prefix, 'type'), `unknown Harbor CloudEvents type ${e.type}`);
  }
  const time = isoToMs(e.time, at(prefix, 'time'));
  return harborEvents({
    type,
    format: 'cloudevents',
    operator: e.operator ?? '',
    time,
    occurAt: Math.floor(time / 1000),
    data: e.data,
    dataField: at(prefix, 'data'),
  });
}

function harborDedupeKey(
  type: string,
  repository: string,
  digest: string,
  tag: string,
  occurAt: number
): string {
  const h = createHash('sha256');
  h.update(`${type}|${repository}|${digest}|${tag}|${occurAt}`);
  return `harbor|${h.digest('hex')}`;
}

function harborEvents(c: HarborCommon): NormalizeResult {
  if (!ACTED_ON.has(c.type)) {
    return { events: [], skipped: { reason: 'ignored-type', detail: `Harbor ${c.type}` } };
  }
  const parsed = ActedEventData.safeParse(c.data);
  if (!parsed.success) throw zodError(c.dataField, parsed.error);
  const data = parsed.data;
  const repository = data.repository.repo_full_name;
  if (!isValidRepositoryName(repository)) {
    throw new MalformedEventError(
      `${c.dataField}.repository.repo_full_name`,
      'not a valid repository name'
    );
  }
  const slash = repository.indexOf('/');
  const project =
    data.repository.namespace || (slash === -1 ? repository : repository.slice(0, slash));
  const quota = c.type === 'QUOTA_EXCEED' || c.type === 'QUOTA_WARNING';
  let details: string | undefined;
  if (quota) {
    const d = data.custom_attributes?.Details;
    if (typeof d === 'string') details = d;
  }
  const base = (): WebhookEvent => {
    const ev: WebhookEvent = {
      source: 'harbor',
      type: c.type,
      format: c.format,
      repository,
      project,
      operator: c.operator,
      time: c.time,
      dedupeKey: '',
    };
    if (details !== undefined) ev.details = details;
    return ev;
  };

  const resources = data.resources ?? [];
  if (resources.length === 0) {
    if (!quota) {
      throw new MalformedEventError(`${c.dataField}.resources`, 'expected at least one resource');
    }
    const ev = base();
    ev.dedupeKey = harborDedupeKey(c.type, repository, '', '', c.occurAt);
    return { events: [ev] };
  }
  const events: NormalizedEvent[] = [];
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i]!;
    const rf = `${c.dataField}.resources[${i}]`;
    const rawDigest = r.digest ?? '';
    if (rawDigest === '') {
      if (!quota) throw new MalformedEventError(`${rf}.digest`, 'required');
    } else if (parseDigest(rawDigest) === undefined) {
      throw new MalformedEventError(`${rf}.digest`, 'not a valid digest');
    }
    const rawTag = r.tag ?? '';
    let tag: string | undefined;
    if (rawTag !== '' && parseDigest(rawTag) === undefined) {
      if (!isValidTag(rawTag)) throw new MalformedEventError(`${rf}.tag`, 'not a valid tag');
      tag = rawTag;
    }
    const ev = base();
    if (rawDigest !== '') ev.digest = rawDigest;
    if (tag !== undefined) ev.tag = tag;
    ev.dedupeKey = harborDedupeKey(c.type, repository, rawDigest, rawTag, c.occurAt);
    events.push(ev);
  }
  return { events };
}
