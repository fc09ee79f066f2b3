import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { listMultipartUploads } from '../../../lambdas/local/s3-emulator/list-multipart-uploads.ts';
import { additionsWithout, startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const uploads = 'harbor/docker/registry/v2/repositories/library/app/_uploads';

describe('S3 emulator: ListMultipartUploads', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('lists the open uploads under a prefix, as the s3aws writer resumes them', async () => {
    // Prepare: two uploads under the prefix, one elsewhere.
    t = await startTestEmulator();
    const create = async (Key: string) =>
      (await t!.s3.send(new CreateMultipartUploadCommand({ Bucket: t!.bucket, Key }))).UploadId;
    const a = await create(`${uploads}/u1/data`);
    const b = await create(`${uploads}/u2/data`);
    await create('elsewhere/data');
    // Act: the driver's call (Prefix = the exact key).
    const one = await t.s3.send(
      new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: `${uploads}/u1/data` })
    );
    const all = await t.s3.send(
      new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: uploads })
    );
    // Assess
    expect(one.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([[`${uploads}/u1/data`, a]]);
    expect(one.IsTruncated).toBe(false);
    expect(all.Uploads?.map((u) => u.UploadId)).toEqual([a, b]);
    expect(all.Uploads?.[0]?.Initiated).toBeInstanceOf(Date);
  });

  it('pages with max-uploads and key/upload-id markers', async () => {
    t = await startTestEmulator();
    const ids: string[] = [];
    for (const k of ['k1', 'k2', 'k3']) {
      const out = await t.s3.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: k }));
      ids.push(out.UploadId ?? '');
    }
    const first = await t.s3.send(
      new ListMultipartUploadsCommand({ Bucket: t.bucket, MaxUploads: 2 })
    );
    expect(first.IsTruncated).toBe(true);
    expect(first.Uploads?.map((u) => u.Key)).toEqual(['k1', 'k2']);
    const next = await t.s3.send(
      new ListMultipartUploadsCommand({
        Bucket: t.bucket,
        KeyMarker: first.NextKeyMarker,
        UploadIdMarker: first.NextUploadIdMarker,
      })
    );
    expect(next.Uploads?.map((u) => u.UploadId)).toEqual([ids[2]]);
  });

  it('fauxqs alone answers with a ListBucketResult and no uploads (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(listMultipartUploads) });
    await t.s3.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: 'k1' }));
    const out = await t.s3.send(
      new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: 'k1' })
    );
    expect(out.Uploads ?? []).toEqual([]);
  });
});
