import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parseCopyRange,
  uploadPartCopy,
} from '../../../lambdas/local/s3-emulator/upload-part-copy.ts';
import { additionsWithout, startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const MiB = 1024 * 1024;
const src = 'harbor/docker/registry/v2/repositories/library/big/_uploads/u1/data';
const dst = 'harbor/docker/registry/v2/blobs/sha256/fd/big/data';

describe('S3 emulator: UploadPartCopy', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('copies x-amz-copy-source-range slices into parts, as the multipart Move does', async () => {
    // Prepare: a source object and a multipart upload on the destination.
    t = await startTestEmulator();
    const data = randomBytes(8 * MiB + 4321);
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: src, Body: data }));
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: dst })
    );
    // Act: the driver's CopySource is `bucket/key` (no leading slash, not escaped).
    const ranges = [`bytes=0-${5 * MiB - 1}`, `bytes=${5 * MiB}-${data.length - 1}`];
    const parts = [];
    for (const [i, CopySourceRange] of ranges.entries()) {
      const out = await t.s3.send(
        new UploadPartCopyCommand({
          Bucket: t.bucket,
          Key: dst,
          UploadId,
          PartNumber: i + 1,
          CopySource: `${t.bucket}/${src}`,
          CopySourceRange,
        })
      );
      parts.push({ PartNumber: i + 1, ETag: out.CopyPartResult?.ETag });
    }
    await t.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.bucket,
        Key: dst,
        UploadId,
        MultipartUpload: { Parts: parts },
      })
    );
    // Assess: the copy is byte-identical and complete.
    const obj = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: dst }));
    const copied = Buffer.from(await obj.Body!.transformToByteArray());
    expect(copied.length).toBe(data.length);
    expect(copied.equals(data)).toBe(true);
    expect(parts.every((p) => /^"[0-9a-f]{32}"$/.test(p.ETag ?? ''))).toBe(true);
  });

  it('refuses a range outside the source and a missing source', async () => {
    t = await startTestEmulator();
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: src, Body: 'abc' }));
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: dst })
    );
    const copy = (CopySource: string, CopySourceRange?: string) =>
      t!.s3.send(
        new UploadPartCopyCommand({
          Bucket: t!.bucket,
          Key: dst,
          UploadId,
          PartNumber: 1,
          CopySource,
          CopySourceRange,
        })
      );
    await expect(copy(`${t.bucket}/${src}`, 'bytes=0-3')).rejects.toMatchObject({
      name: 'InvalidArgument',
    });
    await expect(copy(`${t.bucket}/missing`)).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect(parseCopyRange('bytes=1-2', 3)).toEqual({ start: 1, end: 2 });
  });

  it('fauxqs alone fails it with a 500 (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(uploadPartCopy) });
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: src, Body: 'abc' }));
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: dst })
    );
    await expect(
      t.s3.send(
        new UploadPartCopyCommand({
          Bucket: t.bucket,
          Key: dst,
          UploadId,
          PartNumber: 1,
          CopySource: `${t.bucket}/${src}`,
        })
      )
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });
});
