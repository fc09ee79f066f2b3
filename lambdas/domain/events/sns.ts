/** SNS envelopes (`Type: 'Notification'`, `Message` string) around one other accepted message. */
import { MalformedEventError } from '../errors.ts';
import { at, parseJson } from './fields.ts';
import type { InnerDispatch, NormalizeResult, Obj } from './types.ts';

export function isSnsEnvelope(value: Obj): boolean {
  return typeof value.Type === 'string' && ('Message' in value || 'TopicArn' in value);
}

/** `inner` normalises the parsed `Message` (passed in, so this module does not import dispatch). */
export function normalizeSns(
  value: Obj,
  prefix: string,
  depth: number,
  inner: InnerDispatch
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
  return inner(parseJson(value.Message, field), field, depth + 1);
}
