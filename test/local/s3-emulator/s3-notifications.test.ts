import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSequencer,
  encodeEventKey,
  type S3EventRecord,
} from '../../../lambdas/local/s3-emulator/s3-notifications.ts';
import {
  drain,
  notificationQueue,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.ts';

const R = 'harbor/docker/registry/v2';
const upload = `${R}/repositories/library/app/_uploads/u1`;
const blob = `${R}/blobs/sha256/3a/3a00/data`;

function records(bodies: string[]): S3EventRecord[] {
  return bodies.flatMap((b) => {
    const parsed = JSON.parse(b) as { Records: S3EventRecord[] };
    expect(parsed.Records).toHaveLength(1);
    return parsed.Records;
  });
}

describe('S3 emulator: event notifications', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('sends one real-format record per created or removed object, in write order', async () => {
    // Prepare
    t = await startTestEmulator();
    const queue = await notificationQueue(t);
    const Bucket = t.bucket;
    // Act: the registry's per-blob writes (Put, multipart complete, Copy, DeleteObjects).
    await t.s3.send(new PutObjectCommand({ Bucket, Key: `${upload}/startedat`, Body: 'now' }));
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket, Key: `${upload}/data` })
    );
    const part = await t.s3.send(
      new UploadPartCommand({ Bucket, Key: `${upload}/data`, UploadId, PartNumber: 1, Body: 'abc' })
    );
    await t.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: `${upload}/data`,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      })
    );
    await t.s3.send(
      new CopyObjectCommand({ Bucket, Key: blob, CopySource: `${Bucket}/${upload}/data` })
    );
    await t.s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: {
          Objects: [
            { Key: `${upload}/data` },
            { Key: `${upload}/never-existed` },
            { Key: `${upload}/startedat` },
          ],
          Quiet: false,
        },
      })
    );
    await t.s3.send(new DeleteObjectCommand({ Bucket, Key: blob }));
    await t.s3.send(new DeleteObjectCommand({ Bucket, Key: blob }));
    // Assess
    const recs = records(await drain(t, queue));
    expect(recs.map((r) => [r.eventName, r.s3.object.key])).toEqual([
      ['ObjectCreated:Put', `${upload}/startedat`],
      ['ObjectCreated:CompleteMultipartUpload', `${upload}/data`],
      ['ObjectCreated:Copy', blob],
      ['ObjectRemoved:Delete', `${upload}/data`],
      ['ObjectRemoved:Delete', `${upload}/startedat`],
      ['ObjectRemoved:Delete', blob],
    ]);
    const put = recs[0]!;
    expect(put).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: 'registry', arn: 'arn:aws:s3:::registry' },
        object: { size: 3, eTag: expect.stringMatching(/^[0-9a-f]{32}$/) },
      },
    });
    expect(new Date(put.eventTime).toISOString()).toBe(put.eventTime);
    expect(recs[1]!.s3.object).toMatchObject({ size: 3, eTag: expect.stringMatching(/-1$/) });
    expect(recs[3]!.s3.object).not.toHaveProperty('size');
    expect(recs[3]!.s3.object).not.toHaveProperty('eTag');
    const seqs = recs.map((r) => r.s3.object.sequencer);
    expect(new Set(seqs.map((s) => s.length)).size).toBe(1);
    expect([...seqs].sort()).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('URL-encodes keys form style and applies prefix and suffix filters', async () => {
    t = await startTestEmulator();
    const { QueueUrl: linksUrl } = await t.sqs.send(new CreateQueueCommand({ QueueName: 'links' }));
    const all = await notificationQueue(t, 'all');
    t.emu.notify(t.bucket, 'arn:aws:sqs:us-east-1:000000000000:links', {
      prefix: 'docker/',
      suffix: '/link',
    });
    const put = (Key: string) =>
      t!.s3.send(new PutObjectCommand({ Bucket: t!.bucket, Key, Body: 'x' }));
    await put('docker/a b+c(1)=é/link');
    await put('docker/a/data');
    await put('other/link');
    const everything = records(await drain(t, all));
    expect(everything.map((r) => r.s3.object.key)).toEqual([
      'docker/a+b%2Bc%281%29%3D%C3%A9/link',
      'docker/a/data',
      'other/link',
    ]);
    const links = records(await drain(t, linksUrl ?? ''));
    expect(links.map((r) => r.s3.object.key)).toEqual(['docker/a+b%2Bc%281%29%3D%C3%A9/link']);
    // A form-style decode gives the key back.
    const decoded = decodeURIComponent(everything[0]!.s3.object.key.replaceAll('+', ' '));
    expect(decoded).toBe('docker/a b+c(1)=é/link');
    expect(encodeEventKey('a/b c')).toBe('a/b+c');
  });

  it('sequencers keep increasing within a millisecond and across a clock step back', () => {
    let now = 1_000;
    const next = createSequencer(() => now);
    const a = next();
    const b = next();
    now = 900;
    const c = next();
    now = 2_000;
    const d = next();
    expect([a, b, c, d].every((s) => /^[0-9A-F]{18}$/.test(s))).toBe(true);
    expect(a < b && b < c && c < d).toBe(true);
  });
});
