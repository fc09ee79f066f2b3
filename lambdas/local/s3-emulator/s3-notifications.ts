/**
 * Gap: fauxqs sends no S3 event notifications. This turns each change the emulator store applies
 * into one SQS message in real S3 format: `Records[]` with eventVersion 2.1, `eventName` without
 * `s3:`, `eventTime`, bucket name and ARN, the object key URL-encoded form style, size and eTag on
 * creations, and a sequencer. Messages are enqueued in-process, so queue order is write order.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectChange } from './emulator-store.ts';
import type { FauxSqsStore, FauxSqsStoreClass } from './fauxqs-internals.ts';

export interface S3EventRecord {
  eventVersion: '2.1';
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer: string };
  };
}

/** S3's key encoding in notifications: form style (space is `+`), `/` kept, the rest `%XX`. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%2F', '/')
    .replaceAll('%20', '+');
}

/**
 * Sequencers: 18 hex digits, milliseconds then a counter, strictly increasing for the life of the
 * process (so per key too), and still increasing after a restart against the same state store.
 */
export function createSequencer(now: () => number = Date.now): () => string {
  let lastMs = 0;
  let counter = 0;
  return () => {
    const ms = Math.max(now(), lastMs);
    counter = ms === lastMs ? counter + 1 : 0;
    lastMs = ms;
    if (counter > 0xffffff) {
      lastMs = ms + 1;
      counter = 0;
    }
    return (
      lastMs.toString(16).toUpperCase().padStart(12, '0') +
      counter.toString(16).toUpperCase().padStart(6, '0')
    );
  };
}

export interface NotificationConfig {
  region: string;
  configurationId: string;
  /** Only keys with this prefix and suffix (S3 filter rules). */
  prefix?: string;
  suffix?: string;
}

export function s3EventRecord(
  change: ObjectChange,
  sequencer: string,
  config: NotificationConfig
): S3EventRecord {
  const object: S3EventRecord['s3']['object'] =
    change.op === 'created'
      ? {
          key: encodeEventKey(change.key),
          size: change.size,
          eTag: change.etag.replaceAll('"', ''),
          ...(change.versionId ? { versionId: change.versionId } : {}),
          sequencer,
        }
      : {
          key: encodeEventKey(change.key),
          ...(change.versionId ? { versionId: change.versionId } : {}),
          sequencer,
        };
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: config.region,
    eventTime: change.time.toISOString(),
    eventName: change.eventName,
    userIdentity: { principalId: 'AWS:PUSHGUARDLOCAL' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-amz-id-2': 'pushguard-local',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: config.configurationId,
      bucket: {
        name: change.bucket,
        ownerIdentity: { principalId: 'PUSHGUARDLOCAL' },
        arn: `arn:aws:s3:::${change.bucket}`,
      },
      object,
    },
  };
}

/** A notification destination: an SQS queue of the emulator's in-process SQS store, by ARN. */
export function sqsDestination(
  sqsStore: FauxSqsStore,
  SqsStore: FauxSqsStoreClass,
  queueArn: string
): (body: string) => void {
  return (body) => {
    // Like S3, a missing destination drops the event.
    sqsStore.getQueueByArn(queueArn)?.enqueue(SqsStore.createMessage(body));
  };
}

/** The store's change listener: filter, format, deliver (one record per message, like S3). */
export function createS3EventNotifier(
  config: NotificationConfig,
  deliver: (body: string) => void,
  nextSequencer: () => string = createSequencer()
): (change: ObjectChange) => void {
  return (change) => {
    if (config.prefix && !change.key.startsWith(config.prefix)) return;
    if (config.suffix && !change.key.endsWith(config.suffix)) return;
    const record = s3EventRecord(change, nextSequencer(), config);
    deliver(JSON.stringify({ Records: [record] }));
  };
}
