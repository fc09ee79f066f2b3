/**
 * The one entry point: a delivered message body (parsed JSON or its text) goes to the normaliser
 * of its envelope, detected by shape (harbor-internals.md §2 and §5). Throws MalformedEventError
 * naming the field for anything that is not a supported shape; never another error type.
 */
import { MalformedEventError } from '../errors.ts';
import { isEventBridgeEvent, normalizeEventBridge } from './eventbridge.ts';
import { isObject, parseJson } from './fields.ts';
import {
  isCloudEvent,
  isHarborDefault,
  normalizeCloudEvent,
  normalizeHarborDefault,
} from './harbor.ts';
import { normalizeS3Notification } from './s3.ts';
import { isSnsEnvelope, normalizeSns } from './sns.ts';
import type { NormalizeOptions, NormalizeResult } from './types.ts';

export function normalizeMessage(body: unknown, opts?: NormalizeOptions): NormalizeResult {
  const value = typeof body === 'string' ? parseJson(body, 'body') : body;
  return dispatch(value, '', opts, 0);
}

/** Envelopes are told apart by their marker fields, tried in this order; the first match wins. */
function dispatch(
  value: unknown,
  prefix: string,
  opts: NormalizeOptions | undefined,
  depth: number
): NormalizeResult {
  if (!isObject(value)) throw new MalformedEventError(prefix || 'body', 'expected a JSON object');
  if ('Records' in value) return normalizeS3Notification(value, prefix, opts);
  if (value.Event === 's3:TestEvent') {
    return { events: [], skipped: { reason: 'test-event', detail: 's3:TestEvent' } };
  }
  if (isSnsEnvelope(value)) {
    return normalizeSns(value, prefix, depth, (inner, field, d) => dispatch(inner, field, opts, d));
  }
  if (isEventBridgeEvent(value)) return normalizeEventBridge(value, prefix, opts);
  if (isCloudEvent(value)) return normalizeCloudEvent(value, prefix);
  if (isHarborDefault(value)) return normalizeHarborDefault(value, prefix);
  throw new MalformedEventError(
    prefix || 'body',
    'unrecognised message: expected an S3 notification, SNS envelope, EventBridge event or Harbor webhook'
  );
}
