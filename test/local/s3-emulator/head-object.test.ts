import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';

describe('S3 emulator: HeadObject (what the storage checker calls)', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('answers 200 with length and ETag for an object and 404 NotFound for a missing one', async () => {
    t = await startTestEmulator();
    const Key = 'harbor/docker/registry/v2/blobs/sha256/82/8253/data';
    const put = await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: '{"a":1}' }));
    const head = await t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key }));
    expect(head.ContentLength).toBe(7);
    expect(head.ETag).toBe(put.ETag);
    await expect(
      t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: `${Key}.missing` }))
    ).rejects.toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
  });
});
