import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MalformedEventError, PushGuardError } from '../../../lambdas/domain/errors.ts';
import {
  normalizeMessage,
  sequencerCompare,
  unwrapRecorded,
} from '../../../lambdas/domain/events.ts';
import type { StorageEvent, WebhookEvent } from '../../../lambdas/domain/types.ts';
import { thrown } from '../../support/thrown.ts';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8'));
const text = (path: string): string =>
  readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');

const M = 'sha256:d072586aa4ec0d482c731fb91a40e149586e7e89cf1cd68ae81f57daf525039a';
const CONFIG = 'sha256:6f945746a16063bf4de822d7e44d9caaeef93baa44a5b243957ff898fabf478e';
const REV_KEY = `docker/registry/v2/repositories/team-a/payments-api/_manifests/revisions/sha256/${M.slice(7)}/link`;

const storage = (e: unknown): StorageEvent => {
  expect(e).toMatchObject({ source: 'storage' });
  return e as StorageEvent;
};
const webhook = (e: unknown): WebhookEvent => {
  expect(e).toMatchObject({ source: 'harbor' });
  return e as WebhookEvent;
};

/** One S3 notification record, as S3 sends it; `over` replaces fields of `s3.object`. */
function record(
  key: string,
  eventName = 'ObjectCreated:Put',
  object: Record<string, unknown> = { size: 71, eTag: 'abc', sequencer: '00668550A7C5B3E1F2' },
  extra: Record<string, unknown> = {}
): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2024-07-03T13:16:39.812Z',
    eventName,
    userIdentity: { principalId: 'AWS:X' },
    requestParameters: { sourceIPAddress: '10.0.0.1' },
    responseElements: { 'x-amz-request-id': 'R', 'x-amz-id-2': 'I' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'c',
      bucket: { name: 'harbor-registry-prod', arn: 'arn:aws:s3:::harbor-registry-prod' },
      object: { key, ...object },
    },
    ...extra,
  };
}

function sns(message: unknown): Record<string, unknown> {
  return {
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:eu-west-1:111122223333:registry-events',
    Subject: 'Amazon S3 Notification',
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: '2024-07-03T13:16:40.000Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/x.pem',
    UnsubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
  };
}

function eventBridge(detailType: string, detail: Record<string, unknown>): Record<string, unknown> {
  const base = fixture('s3-events/eventbridge_object_created_blob_copy.json');
  return {
    ...base,
    'detail-type': detailType,
    detail: { ...(base.detail as object), ...detail },
  };
}

function malformed(body: unknown, opts?: { rootDirectory?: string }): MalformedEventError {
  const e = thrown(() => normalizeMessage(body, opts));
  expect(e).toBeInstanceOf(MalformedEventError);
  return e as MalformedEventError;
}

describe('fixtures', () => {
  it('S3 → SQS: manifest revision link Put', () => {
    const r = normalizeMessage(fixture('s3-events/s3_event_manifest_revision_link_put.json'));
    expect(r.skipped).toBeUndefined();
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toEqual({
      source: 'storage',
      op: 'created',
      eventName: 'ObjectCreated:Put',
      bucket: 'harbor-registry-prod',
      key: REV_KEY,
      storageKey: { kind: 'revision-link', root: '', repository: 'team-a/payments-api', digest: M },
      size: 71,
      eTag: '9b2cf535f27731c974343645a3985328',
      sequencer: '00668550A7C5B3E1F2',
      time: Date.parse('2024-07-03T13:16:39.812Z'),
      dedupeKey: `s3|harbor-registry-prod|${REV_KEY}|00668550A7C5B3E1F2`,
    });
  });

  it('the same body as text', () => {
    const t = text('s3-events/s3_event_manifest_revision_link_put.json');
    expect(normalizeMessage(t)).toEqual(
      normalizeMessage(fixture('s3-events/s3_event_manifest_revision_link_put.json'))
    );
  });

  it('s3:TestEvent is skipped, not an error', () => {
    expect(normalizeMessage(fixture('s3-events/s3_sqs_test_event.json'))).toEqual({
      events: [],
      skipped: { reason: 'test-event', detail: 's3:TestEvent' },
    });
  });

  it('EventBridge Object Created (CopyObject)', () => {
    const r = normalizeMessage(fixture('s3-events/eventbridge_object_created_blob_copy.json'));
    const e = storage(r.events[0]);
    expect(r.events).toHaveLength(1);
    expect(e).toMatchObject({
      op: 'created',
      eventName: 'ObjectCreated:Copy',
      bucket: 'harbor-registry-prod',
      storageKey: { kind: 'blob-data', root: '', digest: CONFIG },
      size: 401,
      eTag: '0d3c1e0a6f5b8d2a9c7e4b1f3a2d6c58',
      sequencer: '00668550A01B2C3D4E',
      time: Date.parse('2024-07-03T13:16:31Z'),
    });
    expect(e.key).toBe(`docker/registry/v2/blobs/sha256/6f/${CONFIG.slice(7)}/data`);
    expect(e.dedupeKey).toBe(`s3|harbor-registry-prod|${e.key}|00668550A01B2C3D4E`);
  });

  it('Harbor PUSH_ARTIFACT, Default format', () => {
    const r = normalizeMessage(
      fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json')
    );
    expect(r.skipped).toBeUndefined();
    const e = webhook(r.events[0]);
    expect(r.events).toHaveLength(1);
    expect(e).toEqual({
      source: 'harbor',
      type: 'PUSH_ARTIFACT',
      format: 'default',
      repository: 'team-a/payments-api',
      project: 'team-a',
      digest: M,
      tag: '1.4.2',
      operator: 'robot$team-a+ci-pusher',
      time: 1720012600_000,
      dedupeKey: `harbor|${createHash('sha256')
        .update(`PUSH_ARTIFACT|team-a/payments-api|${M}|1.4.2|1720012600`)
        .digest('hex')}`,
    });
  });

  it('Harbor PUSH_ARTIFACT, CloudEvents format: same event, same dedupe key', () => {
    const ce = normalizeMessage(
      fixture('harbor-webhooks/harbor_webhook_push_artifact_cloudevents.json')
    );
    const def = normalizeMessage(
      fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json')
    );
    expect(ce.events).toHaveLength(1);
    expect(ce.events[0]).toEqual({ ...def.events[0], format: 'cloudevents' });
  });

  it('Harbor QUOTA_EXCEED without resources: one event, no digest, details kept', () => {
    const r = normalizeMessage(fixture('harbor-webhooks/harbor_webhook_quota_exceed_default.json'));
    expect(r.events).toHaveLength(1);
    const e = webhook(r.events[0]);
    expect(e).toMatchObject({
      type: 'QUOTA_EXCEED',
      repository: 'team-a/payments-api',
      project: 'team-a',
      operator: '',
      time: 1720011912_000,
    });
    expect(e.digest).toBeUndefined();
    expect(e.tag).toBeUndefined();
    expect(e.details).toMatch(/exceed the configured upper limit of 10GiB/);
    expect(e.dedupeKey).toMatch(/^harbor\|[0-9a-f]{64}$/);
  });
});

describe('S3 notifications', () => {
  it.each([
    ['ObjectCreated:Put', 'created'],
    ['ObjectCreated:Post', 'created'],
    ['ObjectCreated:Copy', 'created'],
    ['ObjectCreated:CompleteMultipartUpload', 'created'],
    ['ObjectRemoved:Delete', 'removed'],
    ['ObjectRemoved:DeleteMarkerCreated', 'removed'],
    ['LifecycleExpiration:Delete', 'removed'],
    ['LifecycleExpiration:DeleteMarkerCreated', 'removed'],
  ])('%s → %s', (eventName, op) => {
    const r = normalizeMessage({ Records: [record(REV_KEY, eventName)] });
    expect(r.events).toHaveLength(1);
    expect(storage(r.events[0])).toMatchObject({ op, eventName });
  });

  it.each([
    'ObjectRestore:Post',
    'ObjectRestore:Completed',
    'ObjectTagging:Put',
    'ObjectAcl:Put',
    'Replication:OperationFailedReplication',
    'ReducedRedundancyLostObject',
    'IntelligentTiering',
  ])('%s is ignored, not an error', (eventName) => {
    expect(normalizeMessage({ Records: [record(REV_KEY, eventName)] })).toEqual({
      events: [],
      skipped: { reason: 'ignored-type', detail: `S3 ${eventName}` },
    });
  });

  it.each(['2.0', '2.1', '2.2', '2.3', '2.4', '2.10'])('eventVersion %s is accepted', (v) => {
    const r = normalizeMessage({
      Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { eventVersion: v })],
    });
    expect(r.events).toHaveLength(1);
  });

  it.each(['1.0', '3.0', '2', '2.x', 'two', ''])('eventVersion %j is malformed', (v) => {
    const e = malformed({
      Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { eventVersion: v })],
    });
    expect(e.field).toBe('Records[0].eventVersion');
  });

  it('an `s3:` prefix on the event name is tolerated', () => {
    const r = normalizeMessage({ Records: [record(REV_KEY, 's3:ObjectRemoved:Delete')] });
    expect(storage(r.events[0]).eventName).toBe('ObjectRemoved:Delete');
  });

  it('deletes carry no size or eTag', () => {
    const r = normalizeMessage({
      Records: [record(REV_KEY, 'ObjectRemoved:Delete', { sequencer: '0066855' })],
    });
    const e = storage(r.events[0]);
    expect(e.size).toBeUndefined();
    expect(e.eTag).toBeUndefined();
    expect(e.sequencer).toBe('0066855');
    expect(e).not.toHaveProperty('versionId');
  });

  it('dedupe key: versionId, else sequencer, else eventName + eventTime', () => {
    const withVersion = normalizeMessage({
      Records: [record(REV_KEY, 'ObjectCreated:Put', { versionId: 'v-1', sequencer: '01' })],
    });
    expect(storage(withVersion.events[0]).dedupeKey).toBe(`s3|harbor-registry-prod|${REV_KEY}|v-1`);
    expect(storage(withVersion.events[0]).versionId).toBe('v-1');
    const withSeq = normalizeMessage({
      Records: [record(REV_KEY, 'ObjectCreated:Put', { sequencer: '01' })],
    });
    expect(storage(withSeq.events[0]).dedupeKey).toBe(`s3|harbor-registry-prod|${REV_KEY}|01`);
    const bare = normalizeMessage({ Records: [record(REV_KEY, 'ObjectCreated:Put', {})] });
    expect(storage(bare.events[0]).dedupeKey).toBe(
      `s3|harbor-registry-prod|${REV_KEY}|ObjectCreated:Put2024-07-03T13:16:39.812Z`
    );
    // a redelivery has the same dedupe key
    expect(normalizeMessage({ Records: [record(REV_KEY)] })).toEqual(
      normalizeMessage({ Records: [record(REV_KEY)] })
    );
  });

  it('form-style URL-encoded keys are decoded', () => {
    const encoded = REV_KEY.replace('payments-api', 'payments%2Dapi').replace('team-a', 'team%2da');
    const r = normalizeMessage({ Records: [record(encoded)] });
    const e = storage(r.events[0]);
    expect(e.key).toBe(REV_KEY);
    expect(e.storageKey.kind).toBe('revision-link');

    const tag = 'docker/registry/v2/repositories/library/app/_manifests/tags/v1%5F0/current/link';
    expect(storage(normalizeMessage({ Records: [record(tag)] }).events[0]).storageKey).toEqual({
      kind: 'tag-current-link',
      root: '',
      repository: 'library/app',
      tag: 'v1_0',
    });

    const other = normalizeMessage({ Records: [record('notes/read+me%2B%20now.txt')] });
    expect(storage(other.events[0]).key).toBe('notes/read me+ now.txt');
    expect(other.skipped).toEqual({
      reason: 'unrelated-only',
      detail: 'notes/read me+ now.txt: no docker/registry/v2/ prefix',
    });
  });

  it('a bad escape in the key names the field', () => {
    const e = malformed({ Records: [record(REV_KEY), record(`${REV_KEY}%zz`)] });
    expect(e.field).toBe('Records[1].s3.object.key');
  });

  it('DeleteObjects-style multi-record bodies keep every record, in order', () => {
    const base = 'harbor/docker/registry/v2/repositories/library/app/_uploads/u1/';
    const keys = [
      `${base}hashstates/sha256/0`,
      `${base}hashstates/sha256/262360`,
      `${base}startedat`,
    ];
    const r = normalizeMessage({
      Records: keys.map((k, i) => record(k, 'ObjectRemoved:Delete', { sequencer: `0${i + 1}` })),
    });
    expect(r.skipped).toBeUndefined();
    expect(r.events.map((e) => storage(e).key)).toEqual(keys);
    expect(r.events.map((e) => storage(e).storageKey.kind)).toEqual([
      'upload-hashstate',
      'upload-hashstate',
      'upload-startedat',
    ]);
    expect(new Set(r.events.map((e) => e.dedupeKey)).size).toBe(3);
  });

  it('ignored records next to acted ones are dropped silently', () => {
    const r = normalizeMessage({
      Records: [record(REV_KEY, 'ObjectTagging:Put'), record(REV_KEY, 'ObjectCreated:Put')],
    });
    expect(r.events).toHaveLength(1);
    expect(r.skipped).toBeUndefined();
  });

  it('only unrelated keys: events returned and skipped unrelated-only', () => {
    const r = normalizeMessage({
      Records: [record('backups/db.sql'), record('docker/registry/v2/blobs/sha256/xx/bad/data')],
    });
    expect(r.events).toHaveLength(2);
    expect(r.events.every((e) => storage(e).storageKey.kind === 'unrelated')).toBe(true);
    expect(r.skipped?.reason).toBe('unrelated-only');
  });

  it('one related key among unrelated ones is not unrelated-only', () => {
    const r = normalizeMessage({ Records: [record('backups/db.sql'), record(REV_KEY)] });
    expect(r.events).toHaveLength(2);
    expect(r.skipped).toBeUndefined();
  });

  it('a configured root directory: keys outside it are unrelated', () => {
    const rooted = `harbor/${REV_KEY}`;
    const inside = normalizeMessage({ Records: [record(rooted)] }, { rootDirectory: '/harbor' });
    expect(storage(inside.events[0]).storageKey).toMatchObject({
      kind: 'revision-link',
      root: 'harbor',
    });
    const outside = normalizeMessage({ Records: [record(REV_KEY)] }, { rootDirectory: 'harbor' });
    expect(storage(outside.events[0]).storageKey.kind).toBe('unrelated');
    expect(outside.skipped?.reason).toBe('unrelated-only');
    const detected = normalizeMessage({ Records: [record(rooted)] });
    expect(storage(detected.events[0]).storageKey).toMatchObject({ root: 'harbor' });
  });
});

describe('SNS envelope', () => {
  it('unwraps an S3 notification', () => {
    const inner = fixture('s3-events/s3_event_manifest_revision_link_put.json');
    expect(normalizeMessage(sns(inner))).toEqual(normalizeMessage(inner));
    expect(normalizeMessage(JSON.stringify(sns(inner)))).toEqual(normalizeMessage(inner));
  });

  it('unwraps a TestEvent (skipped)', () => {
    expect(normalizeMessage(sns(fixture('s3-events/s3_sqs_test_event.json'))).skipped?.reason).toBe(
      'test-event'
    );
  });

  it('errors inside name the field under Message', () => {
    const body = {
      Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { eventSource: 'aws:sqs' })],
    };
    expect(malformed(sns(body)).field).toBe('Message.Records[0].eventSource');
    expect(malformed(sns('{not json')).field).toBe('Message');
    expect(malformed({ ...sns(body), Message: 42 }).field).toBe('Message');
    expect(malformed(sns(sns(body))).field).toBe('Message.Message');
  });

  it('subscription confirmations are ignored; unknown SNS types are malformed', () => {
    expect(normalizeMessage({ ...sns({}), Type: 'SubscriptionConfirmation' }).skipped?.reason).toBe(
      'ignored-type'
    );
    expect(malformed({ ...sns({}), Type: 'Weird' }).field).toBe('Type');
  });
});

describe('EventBridge', () => {
  it.each([
    ['Object Created', 'PutObject', undefined, 'created', 'ObjectCreated:Put'],
    ['Object Created', 'POST Object', undefined, 'created', 'ObjectCreated:Post'],
    ['Object Created', 'CopyObject', undefined, 'created', 'ObjectCreated:Copy'],
    [
      'Object Created',
      'CompleteMultipartUpload',
      undefined,
      'created',
      'ObjectCreated:CompleteMultipartUpload',
    ],
    ['Object Deleted', 'DeleteObject', 'Permanently Deleted', 'removed', 'ObjectRemoved:Delete'],
    [
      'Object Deleted',
      'DeleteObject',
      'Delete Marker Created',
      'removed',
      'ObjectRemoved:DeleteMarkerCreated',
    ],
    [
      'Object Deleted',
      'Lifecycle Expiration',
      'Permanently Deleted',
      'removed',
      'LifecycleExpiration:Delete',
    ],
    [
      'Object Deleted',
      'Lifecycle Expiration',
      'Delete Marker Created',
      'removed',
      'LifecycleExpiration:DeleteMarkerCreated',
    ],
  ])('%s / %s / %s → %s %s', (detailType, reason, deletionType, op, eventName) => {
    const detail: Record<string, unknown> = { reason };
    if (deletionType) detail['deletion-type'] = deletionType;
    const r = normalizeMessage(eventBridge(detailType, detail));
    expect(storage(r.events[0])).toMatchObject({ op, eventName });
  });

  it.each(['Object Restore Completed', 'Object Tags Added', 'Object ACL Updated'])(
    '%s is ignored',
    (dt) => {
      expect(normalizeMessage(eventBridge(dt, {}))).toEqual({
        events: [],
        skipped: { reason: 'ignored-type', detail: `EventBridge ${dt}` },
      });
    }
  );

  it('a reason that does not fit the detail-type is malformed', () => {
    expect(malformed(eventBridge('Object Deleted', { reason: 'PutObject' })).field).toBe(
      'detail.reason'
    );
    expect(malformed(eventBridge('Object Created', { reason: 'Teleport' })).field).toBe(
      'detail.reason'
    );
  });

  it('keys are decoded defensively, and version-id wins the dedupe key', () => {
    const plain = `docker/registry/v2/repositories/library/app/_manifests/tags/v1/current/link`;
    const ev = eventBridge('Object Created', {
      reason: 'PutObject',
      object: { key: plain.replace('tags/v1', 'tags/v%31'), size: 71, 'version-id': 'v9' },
    });
    const e = storage(normalizeMessage(ev).events[0]);
    expect(e.key).toBe(plain);
    expect(e.storageKey.kind).toBe('tag-current-link');
    expect(e.dedupeKey).toBe(`s3|harbor-registry-prod|${plain}|v9`);
    // a literal '+' in an unrelated key stays as sent
    const other = storage(
      normalizeMessage(
        eventBridge('Object Created', { reason: 'PutObject', object: { key: 'x/a+b%zz' } })
      ).events[0]
    );
    expect(other.key).toBe('x/a+b%zz');
  });

  it('malformed envelopes name the field', () => {
    const ok = fixture('s3-events/eventbridge_object_created_blob_copy.json');
    expect(malformed({ ...ok, time: 'yesterday' }).field).toBe('time');
    expect(malformed({ ...ok, source: 'aws.ec2' }).field).toBe('source');
    expect(malformed({ ...ok, detail: { ...(ok.detail as object), bucket: {} } }).field).toBe(
      'detail.bucket.name'
    );
    expect(
      malformed({ ...ok, detail: { ...(ok.detail as object), object: { key: 42 } } }).field
    ).toBe('detail.object.key');
    expect(
      malformed({
        ...ok,
        detail: { ...(ok.detail as object), object: { key: 'k', sequencer: 'zz' } },
      }).field
    ).toBe('detail.object.sequencer');
  });
});

describe('Harbor webhooks', () => {
  const push = () => fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json');
  const pushCe = () => fixture('harbor-webhooks/harbor_webhook_push_artifact_cloudevents.json');
  const data = (b: Record<string, unknown>) => (b.event_data ?? b.data) as Record<string, unknown>;

  it('a tag holding a digest (push by digest) is no tag', () => {
    const b = push();
    (data(b).resources as Record<string, unknown>[])[0]!.tag = M;
    const e = webhook(normalizeMessage(b).events[0]);
    expect(e.digest).toBe(M);
    expect(e.tag).toBeUndefined();
  });

  it('one event per resource', () => {
    const b = pushCe();
    data(b).resources = [
      { digest: M, tag: 'v1' },
      { digest: CONFIG, tag: 'v2' },
    ];
    const r = normalizeMessage(b);
    expect(r.events.map((e) => [webhook(e).digest, webhook(e).tag])).toEqual([
      [M, 'v1'],
      [CONFIG, 'v2'],
    ]);
    expect(new Set(r.events.map((e) => e.dedupeKey)).size).toBe(2);
  });

  it.each([
    ['DELETE_ARTIFACT', 'harbor.artifact.deleted'],
    ['QUOTA_WARNING', 'harbor.quota.warned'],
    ['QUOTA_EXCEED', 'harbor.quota.exceeded'],
  ])('%s is acted on (both formats)', (type, ceType) => {
    const d = normalizeMessage({ ...push(), type });
    const c = normalizeMessage({ ...pushCe(), type: ceType });
    expect(webhook(d.events[0])).toMatchObject({ type, digest: M, format: 'default' });
    expect(webhook(c.events[0])).toMatchObject({ type, digest: M, format: 'cloudevents' });
  });

  it.each([
    ['PULL_ARTIFACT', 'harbor.artifact.pulled'],
    ['SCANNING_COMPLETED', 'harbor.scan.completed'],
    ['SCANNING_FAILED', 'harbor.scan.failed'],
    ['SCANNING_STOPPED', 'harbor.scan.stopped'],
    ['REPLICATION', 'harbor.replication.status.changed'],
    ['TAG_RETENTION', 'harbor.tag_retention.finished'],
  ])('%s is recognised and ignored (both formats)', (type, ceType) => {
    expect(normalizeMessage({ ...push(), type })).toEqual({
      events: [],
      skipped: { reason: 'ignored-type', detail: `Harbor ${type}` },
    });
    expect(normalizeMessage({ ...pushCe(), type: ceType }).skipped).toEqual({
      reason: 'ignored-type',
      detail: `Harbor ${type}`,
    });
  });

  it.each(['UPLOAD_CHART', 'DELETE_CHART', 'DOWNLOAD_CHART'])(
    '%s (Default format only: no CloudEvents type) is recognised and ignored',
    (type) => {
      expect(normalizeMessage({ ...push(), type })).toEqual({
        events: [],
        skipped: { reason: 'ignored-type', detail: `Harbor ${type}` },
      });
    }
  );

  it('unknown types are malformed', () => {
    expect(malformed({ ...push(), type: 'CREATE_TAG' }).field).toBe('type');
    expect(malformed({ ...pushCe(), type: 'harbor.artifact.labeled' }).field).toBe('type');
    expect(malformed({ ...pushCe(), type: 'com.example.other' }).field).toBe('type');
  });

  it('malformed webhooks name the field', () => {
    const bad = (mutate: (b: Record<string, unknown>) => void, ce = false) => {
      const b = ce ? pushCe() : push();
      mutate(b);
      return malformed(b).field;
    };
    expect(bad((b) => delete b.occur_at)).toBe('occur_at');
    expect(bad((b) => (b.occur_at = '1720012600'))).toBe('occur_at');
    expect(bad((b) => (b.occur_at = -1))).toBe('occur_at');
    expect(bad((b) => (b.event_data = 'x'))).toBe('event_data');
    expect(
      bad((b) => ((data(b).repository as Record<string, unknown>).repo_full_name = 'Team/X'))
    ).toBe('event_data.repository.repo_full_name');
    expect(
      bad((b) => ((data(b).repository as Record<string, unknown>).repo_full_name = 'a/*'))
    ).toBe('event_data.repository.repo_full_name');
    expect(bad((b) => delete data(b).repository)).toBe('event_data.repository');
    expect(bad((b) => (data(b).resources = []))).toBe('event_data.resources');
    expect(bad((b) => (data(b).resources = [{ tag: 'v1' }]))).toBe(
      'event_data.resources[0].digest'
    );
    expect(bad((b) => (data(b).resources = [{ digest: 'sha256:nope' }]))).toBe(
      'event_data.resources[0].digest'
    );
    expect(bad((b) => (data(b).resources = [{ digest: M, tag: 'v 1' }]))).toBe(
      'event_data.resources[0].tag'
    );
    expect(bad((b) => (data(b).resources = [{ digest: M }, { digest: 7 }]))).toBe(
      'event_data.resources[1].digest'
    );
    expect(bad((b) => (b.time = 'soon'), true)).toBe('time');
    expect(bad((b) => (b.specversion = '0.3'), true)).toBe('specversion');
    expect(
      bad((b) => ((data(b).repository as Record<string, unknown>).repo_full_name = ''), true)
    ).toBe('data.repository.repo_full_name');
  });

  it('a missing namespace falls back to the first name component', () => {
    const b = push();
    delete (data(b).repository as Record<string, unknown>).namespace;
    expect(webhook(normalizeMessage(b).events[0]).project).toBe('team-a');
  });

  it('redeliveries share the dedupe key; another occur_at does not', () => {
    const a = normalizeMessage(push()).events[0]!;
    expect(normalizeMessage(push()).events[0]!.dedupeKey).toBe(a.dedupeKey);
    expect(normalizeMessage({ ...push(), occur_at: 1720012601 }).events[0]!.dedupeKey).not.toBe(
      a.dedupeKey
    );
  });
});

describe('bodies that are not events', () => {
  it.each([
    ['{not json', 'body'],
    ['', 'body'],
    ['42', 'body'],
    ['[]', 'body'],
    ['null', 'body'],
    ['{}', 'body'],
    ['{"hello":"world"}', 'body'],
  ])('%j → MalformedEventError(%s)', (body, field) => {
    const e = malformed(body);
    expect(e.field).toBe(field);
    expect(e).toBeInstanceOf(PushGuardError);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  it.each(
    [
      [{ Records: 'x' }, 'Records'],
      [{ Records: [] }, 'Records'],
      [{ Records: [null] }, 'Records[0]'],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { eventSource: 'aws:sqs' })] },
        'Records[0].eventSource',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { eventName: 7 })] },
        'Records[0].eventName',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { eventTime: 'noon' })] },
        'Records[0].eventTime',
      ],
      [
        {
          Records: [
            record(REV_KEY, 'ObjectCreated:Put', {}, { eventTime: '2024-13-45T99:00:00Z' }),
          ],
        },
        'Records[0].eventTime',
      ],
      [{ Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { s3: null })] }, 'Records[0].s3'],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { s3: { object: { key: 'k' } } })] },
        'Records[0].s3.bucket',
      ],
      [
        {
          Records: [
            record(
              REV_KEY,
              'ObjectCreated:Put',
              {},
              { s3: { bucket: { name: '' }, object: { key: 'k' } } }
            ),
          ],
        },
        'Records[0].s3.bucket.name',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', {}, { s3: { bucket: { name: 'b' } } })] },
        'Records[0].s3.object',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', { key: undefined })] },
        'Records[0].s3.object.key',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', { key: 42 })] },
        'Records[0].s3.object.key',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', { size: '71' })] },
        'Records[0].s3.object.size',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', { size: -1 })] },
        'Records[0].s3.object.size',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', { eTag: 5 })] },
        'Records[0].s3.object.eTag',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', { versionId: {} })] },
        'Records[0].s3.object.versionId',
      ],
      [
        { Records: [record(REV_KEY, 'ObjectCreated:Put', { sequencer: 'xyz' })] },
        'Records[0].s3.object.sequencer',
      ],
      [
        { Records: [record(REV_KEY), record(REV_KEY, 'ObjectCreated:Put', { key: '' })] },
        'Records[1].s3.object.key',
      ],
    ].map(([body, field]) => [field, body]) as [string, unknown][]
  )('case %# → %s', (field, body) => {
    expect(malformed(body).field).toBe(field);
  });
});

describe('sequencerCompare', () => {
  it.each([
    ['0055', '0055', 0],
    ['0055', '005500', 0],
    ['005500', '0055', 0],
    ['0055', '0056', -1],
    ['0056', '0055', 1],
    ['00668550A7', '00668550A7C5', -1],
    ['00668550A7C5', '00668550A7', 1],
    ['00668550a7c5', '00668550A7C5', 0],
    ['0A', '09', 1],
    ['0a', '0B', -1],
    ['1', '0FFFFFFFFFFF', 1],
    ['', '00', 0],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(sequencerCompare(a, b))).toBe(sign);
    expect(Math.sign(sequencerCompare(b, a))).toBe(sign === 0 ? 0 : -sign);
  });

  it('sorts a shuffled list of one key’s sequencers into order', () => {
    const ordered = [
      '0000000000000001',
      '000000000000000A',
      '0000000000000010',
      '00000000000001',
      '00000000000002',
    ];
    // '00000000000001' pads to '0000000000000100'
    const sorted = [...ordered].reverse().sort(sequencerCompare);
    expect(sorted).toEqual(ordered);
  });
});

describe('unwrapRecorded', () => {
  const inner = { Records: [record(REV_KEY)] };
  it('unwraps {receivedAt, body}', () => {
    expect(unwrapRecorded({ receivedAt: '2026-11-25T19:55:04.455Z', body: inner })).toEqual({
      receivedAt: Date.parse('2026-11-25T19:55:04.455Z'),
      body: inner,
    });
    expect(
      unwrapRecorded(JSON.stringify({ receivedAt: '2026-11-25T19:55:04Z', body: inner }))
    ).toEqual({
      receivedAt: Date.parse('2026-11-25T19:55:04Z'),
      body: inner,
    });
    expect(unwrapRecorded({ body: 'raw text' })).toEqual({ body: 'raw text' });
  });

  it('anything else is the body itself', () => {
    expect(unwrapRecorded(inner)).toEqual({ body: inner });
    const withExtra = { receivedAt: '2026-11-25T19:55:04Z', body: inner, other: 1 };
    expect(unwrapRecorded(withExtra)).toEqual({ body: withExtra });
    expect(unwrapRecorded(42)).toEqual({ body: 42 });
  });

  it('a bad receivedAt or line names the field', () => {
    expect(() => unwrapRecorded({ receivedAt: 'later', body: inner })).toThrow(
      expect.objectContaining({ field: 'receivedAt' })
    );
    expect(() => unwrapRecorded('{oops')).toThrow(MalformedEventError);
  });

  it('a wrapped body normalises like the bare one', () => {
    const { body } = unwrapRecorded({ receivedAt: '2026-11-25T19:55:04Z', body: inner });
    expect(normalizeMessage(body)).toEqual(normalizeMessage(inner));
  });
});

describe('Function: normalizeMessage — one event whatever the transport', () => {
  it('a size of -0 (a parsed value) and of 0 (its JSON text) give the same event', async () => {
    const { normalizeMessage: normalize } = await import('../../../lambdas/domain/events.ts');
    const body = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventTime: '2026-11-25T10:00:00.000Z',
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: 'harbor' },
            object: {
              key: 'docker/registry/v2/blobs/sha256/aa/' + 'a'.repeat(64) + '/data',
              size: -0,
              sequencer: '01',
            },
          },
        },
      ],
    };
    const fromValue = normalize(body);
    const fromText = normalize(JSON.stringify(body));
    expect(
      Object.is(fromValue.events[0]!.source === 'storage' ? fromValue.events[0]!.size : NaN, 0)
    ).toBe(true);
    expect(fromValue).toEqual(fromText);
  });
});
