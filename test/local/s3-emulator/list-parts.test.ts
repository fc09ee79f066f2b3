import { randomBytes } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { listParts } from '../../../lambdas/local/s3-emulator/list-parts.ts';
import { additionsWithout, startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const MiB = 1024 * 1024;
const key = 'harbor/docker/registry/v2/repositories/library/app/_uploads/u1/data';

async function uploadWithParts(t: TestEmulator, sizes: number[]) {
  const { UploadId } = await t.s3.send(
    new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: key })
  );
  const etags: string[] = [];
  // Out of order on purpose: ListParts sorts by part number.
  for (const [i, size] of [...sizes.entries()].reverse()) {
    const out = await t.s3.send(
      new UploadPartCommand({
        Bucket: t.bucket,
        Key: key,
        UploadId,
        PartNumber: i + 1,
        Body: randomBytes(size),
      })
    );
    etags[i] = out.ETag ?? '';
  }
  return { uploadId: UploadId ?? '', etags };
}

describe('S3 emulator: ListParts', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('lists each part with number, size and ETag, in part order', async () => {
    t = await startTestEmulator();
    const { uploadId, etags } = await uploadWithParts(t, [5 * MiB, 1234]);
    const out = await t.s3.send(
      new ListPartsCommand({ Bucket: t.bucket, Key: key, UploadId: uploadId })
    );
    expect(out.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 5 * MiB, etags[0]],
      [2, 1234, etags[1]],
    ]);
    expect(out.IsTruncated).toBe(false);
  });

  it('pages with max-parts and part-number-marker, as the driver loops on IsTruncated', async () => {
    t = await startTestEmulator();
    const { uploadId } = await uploadWithParts(t, [10, 20, 30]);
    const first = await t.s3.send(
      new ListPartsCommand({ Bucket: t.bucket, Key: key, UploadId: uploadId, MaxParts: 2 })
    );
    expect(first.IsTruncated).toBe(true);
    expect(first.NextPartNumberMarker).toBe('2');
    const rest = await t.s3.send(
      new ListPartsCommand({
        Bucket: t.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumberMarker: first.NextPartNumberMarker,
      })
    );
    expect(rest.Parts?.map((p) => p.Size)).toEqual([30]);
  });

  it('answers NoSuchUpload for an unknown upload id', async () => {
    t = await startTestEmulator();
    await expect(
      t.s3.send(new ListPartsCommand({ Bucket: t.bucket, Key: key, UploadId: 'nope' }))
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('fauxqs alone treats it as GetObject: 404 NoSuchKey (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(listParts) });
    const { uploadId } = await uploadWithParts(t, [10]);
    await expect(
      t.s3.send(new ListPartsCommand({ Bucket: t.bucket, Key: key, UploadId: uploadId }))
    ).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
