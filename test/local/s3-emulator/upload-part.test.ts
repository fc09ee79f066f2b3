import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { uploadPart } from '../../../lambdas/local/s3-emulator/upload-part.ts';
import { additionsWithout, startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const MiB = 1024 * 1024;
const key = 'harbor/docker/registry/v2/repositories/library/big/_uploads/u1/data';

describe('S3 emulator: UploadPart bodies over 11 MiB', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('stores a 20 MiB part (the registry flushes up to 2x chunksize) and completes it', async () => {
    t = await startTestEmulator();
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: key })
    );
    const Body = randomBytes(20 * MiB);
    const part = await t.s3.send(
      new UploadPartCommand({ Bucket: t.bucket, Key: key, UploadId, PartNumber: 1, Body })
    );
    expect(part.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    await t.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      })
    );
    const obj = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    expect(Buffer.from(await obj.Body!.transformToByteArray()).equals(Body)).toBe(true);
  });

  it('answers NoSuchUpload for an unknown upload id', async () => {
    t = await startTestEmulator();
    await expect(
      t.s3.send(
        new UploadPartCommand({
          Bucket: t.bucket,
          Key: key,
          UploadId: 'x',
          PartNumber: 1,
          Body: 'a',
        })
      )
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('fauxqs alone refuses it with 413 (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(uploadPart) });
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: key })
    );
    await expect(
      t.s3.send(
        new UploadPartCommand({
          Bucket: t.bucket,
          Key: key,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(12 * MiB),
        })
      )
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 413 } });
  });
});
