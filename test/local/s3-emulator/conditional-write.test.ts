import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { putObject } from '../../../lambdas/local/s3-emulator/put-object.ts';
import {
  additionsWithout,
  credentials,
  drain,
  notificationQueue,
  raw,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.ts';

const Key = 'pushguard/audit/2026/12/05/record-1.json';

async function text(t: TestEmulator, key = Key): Promise<string> {
  const out = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

describe('S3 emulator: conditional writes (If-None-Match / If-Match)', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('PutObject with IfNoneMatch * writes a new key, then answers 412 and keeps the first', async () => {
    t = await startTestEmulator();
    const queue = await notificationQueue(t);
    const put = (Body: string) =>
      t!.s3.send(new PutObjectCommand({ Bucket: t!.bucket, Key, Body, IfNoneMatch: '*' }));
    const first = await put('first');
    expect(first.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    await expect(put('second')).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    expect(await text(t)).toBe('first');
    // The refused write is no write: one event, for the first Put only.
    expect(await drain(t, queue)).toHaveLength(1);
  });

  it("answers S3's documented error document, with the condition that failed", async () => {
    t = await startTestEmulator();
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'x' }));
    const res = await raw(t, 'PUT', `/${t.bucket}/${Key}`, {
      headers: { 'if-none-match': '*' },
      body: 'y',
    });
    expect(res.status).toBe(412);
    expect(res.body).toContain('<Code>PreconditionFailed</Code>');
    expect(res.body).toContain('<Condition>If-None-Match</Condition>');
  });

  it('a key whose object was deleted can be written again with IfNoneMatch *', async () => {
    t = await startTestEmulator();
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'old' }));
    await t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key }));
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'new', IfNoneMatch: '*' }));
    expect(await text(t)).toBe('new');
  });

  it('If-Match writes only over the ETag it names; a missing key is NoSuchKey', async () => {
    t = await startTestEmulator();
    const { ETag } = await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'a' }));
    await expect(
      t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'b', IfMatch: '"0"' }))
    ).rejects.toMatchObject({ name: 'PreconditionFailed' });
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'c', IfMatch: ETag }));
    expect(await text(t)).toBe('c');
    await expect(
      t.s3.send(
        new PutObjectCommand({ Bucket: t.bucket, Key: `${Key}.2`, Body: 'd', IfMatch: ETag })
      )
    ).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('CopyObject with IfNoneMatch * refuses to overwrite the destination', async () => {
    t = await startTestEmulator();
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'src', Body: 'source' }));
    const copy = () =>
      t!.s3.send(
        new CopyObjectCommand({
          Bucket: t!.bucket,
          Key,
          CopySource: `${t!.bucket}/src`,
          IfNoneMatch: '*',
        })
      );
    await copy();
    expect(await text(t)).toBe('source');
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'src', Body: 'changed' }));
    await expect(copy()).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect(await text(t)).toBe('source');
  });

  it('CompleteMultipartUpload with IfNoneMatch * answers 412 when the key appeared meanwhile', async () => {
    t = await startTestEmulator();
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key })
    );
    const part = await t.s3.send(
      new UploadPartCommand({ Bucket: t.bucket, Key, UploadId, PartNumber: 1, Body: 'parts' })
    );
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'appeared' }));
    const complete = new CompleteMultipartUploadCommand({
      Bucket: t.bucket,
      Key,
      UploadId,
      IfNoneMatch: '*',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    });
    await expect(t.s3.send(complete)).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    expect(await text(t)).toBe('appeared');
    await t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key }));
    // The upload is still there: the same request now completes.
    await t.s3.send(complete);
    expect(await text(t)).toBe('parts');
  });

  it('works with a default SDK client too (flexible checksums, aws-chunked body)', async () => {
    t = await startTestEmulator();
    const s3 = new S3Client({
      endpoint: t.emu.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    try {
      await s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'one', IfNoneMatch: '*' }));
      await expect(
        s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'two', IfNoneMatch: '*' }))
      ).rejects.toMatchObject({ name: 'PreconditionFailed' });
    } finally {
      s3.destroy();
    }
    expect(await text(t)).toBe('one');
  });

  it('fauxqs alone overwrites (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(putObject) });
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'first' }));
    await t.s3.send(
      new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'second', IfNoneMatch: '*' })
    );
    expect(await text(t)).toBe('second');
  });
});
