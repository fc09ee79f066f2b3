/**
 * Event normalisers (pure): every delivered message body PushGuard accepts becomes zero or more
 * `NormalizedEvent`s, or a typed `MalformedEventError` naming the offending field by dotted path.
 * One module per envelope in ./events/, behind one dispatch (./events/dispatch.ts):
 * - S3 event notification `{Records:[...]}` (s3.ts, the hot path: checked by hand),
 * - the `s3:TestEvent` sent when a notification configuration is saved (skipped),
 * - an SNS envelope (`Type: 'Notification'`, `Message` string) around either of the above (sns.ts),
 * - EventBridge `aws.s3` "Object Created" / "Object Deleted" (eventbridge.ts),
 * - Harbor webhooks in the Default and CloudEvents formats (harbor.ts).
 */
export { normalizeMessage } from './events/dispatch.ts';
export { unwrapRecorded } from './events/recorded.ts';
export { sequencerCompare } from './events/sequencer.ts';
export type { NormalizeOptions, NormalizeResult, SkipReason } from './events/types.ts';
