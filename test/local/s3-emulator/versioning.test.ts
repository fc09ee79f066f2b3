import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { objectVersion } from '../../../lambdas/local/s3-emulator/object-version.ts';
import {
  additionsWithout,
  drain,
  notificationQueue,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.ts';

const Key = 'harbor/docker/registry/v2/blobs/sha256/82/8253/data';

async function enable(t: TestEmulator): Promise<void> {
  await t.s3.send(
    new PutBucketVersioningCommand({
      Bucket: t.bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    })
  );
}

async function put(t: TestEmulator, Body: string, key = Key): Promise<string> {
  const out = await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body }));
  return out.VersionId ?? '';
}

async function read(t: TestEmulator, VersionId?: string): Promise<string> {
  const out = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key, VersionId }));
  return (await out.Body?.transformToString()) ?? '';
}

type Entry = { key: string; id: string; latest: boolean; marker: boolean };

function entries(out: ListObjectVersionsCommandOutput): Entry[] {
  const versions = (out.Versions ?? []).map((v) => ({ ...v, marker: false }));
  const markers = (out.DeleteMarkers ?? []).map((m) => ({ ...m, marker: true }));
  return [...versions, ...markers].map((v) => ({
    key: v.Key ?? '',
    id: v.VersionId ?? '',
    latest: v.IsLatest ?? false,
    marker: v.marker,
  }));
}

describe('S3 emulator: bucket versioning', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('GetBucketVersioning has no status until PutBucketVersioning sets one', async () => {
    t = await startTestEmulator();
    const before = await t.s3.send(new GetBucketVersioningCommand({ Bucket: t.bucket }));
    expect(before.Status).toBeUndefined();
    await enable(t);
    const after = await t.s3.send(new GetBucketVersioningCommand({ Bucket: t.bucket }));
    expect(after.Status).toBe('Enabled');
  });

  it('keeps each overwritten object as a noncurrent version, readable by version id', async () => {
    t = await startTestEmulator();
    await enable(t);
    const v1 = await put(t, 'first');
    const v2 = await put(t, 'second');
    expect(v1).toMatch(/^[\w-]{32}$/);
    expect(v2).not.toBe(v1);
    expect(await read(t)).toBe('second');
    expect(await read(t, v1)).toBe('first');
    const head = await t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key, VersionId: v1 }));
    expect(head).toMatchObject({ ContentLength: 5, VersionId: v1 });
    const current = await t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key }));
    expect(current.VersionId).toBe(v2);
    const ranged = await t.s3.send(
      new GetObjectCommand({ Bucket: t.bucket, Key, VersionId: v1, Range: 'bytes=1-3' })
    );
    expect(await ranged.Body?.transformToString()).toBe('irs');
  });

  it('DeleteObject creates a delete marker; restore = CopyObject from the newest noncurrent version', async () => {
    t = await startTestEmulator();
    await enable(t);
    const v1 = await put(t, 'first');
    const v2 = await put(t, 'second');
    const del = await t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key }));
    expect(del.DeleteMarker).toBe(true);
    await expect(read(t)).rejects.toMatchObject({ name: 'NoSuchKey' });
    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket: t.bucket }));
    expect(listed.KeyCount).toBe(0);
    const versions = await t.s3.send(
      new ListObjectVersionsCommand({ Bucket: t.bucket, Prefix: Key })
    );
    expect(entries(versions)).toEqual([
      { key: Key, id: v2, latest: false, marker: false },
      { key: Key, id: v1, latest: false, marker: false },
      { key: Key, id: del.VersionId, latest: true, marker: true },
    ]);
    await expect(read(t, del.VersionId)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 405 },
    });
    const newest = versions.Versions?.find((v) => !v.IsLatest);
    const copy = await t.s3.send(
      new CopyObjectCommand({
        Bucket: t.bucket,
        Key,
        CopySource: `${t.bucket}/${Key}?versionId=${newest?.VersionId}`,
        IfNoneMatch: '*',
      })
    );
    expect(copy.CopySourceVersionId).toBe(v2);
    expect(await read(t)).toBe('second');
    // The marker stays as a noncurrent version: nothing was deleted.
    const after = await t.s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket }));
    expect(after.DeleteMarkers?.map((m) => m.VersionId)).toEqual([del.VersionId]);
    expect(after.Versions?.map((v) => v.VersionId).slice(1)).toEqual([v2, v1]);
  });

  it('deleting a version for good makes the next newest current again', async () => {
    t = await startTestEmulator();
    await enable(t);
    const v1 = await put(t, 'first');
    const { VersionId: marker } = await t.s3.send(
      new DeleteObjectCommand({ Bucket: t.bucket, Key })
    );
    const out = await t.s3.send(
      new DeleteObjectCommand({ Bucket: t.bucket, Key, VersionId: marker })
    );
    expect(out).toMatchObject({ DeleteMarker: true, VersionId: marker });
    expect(await read(t)).toBe('first');
    await t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key, VersionId: v1 }));
    await expect(read(t)).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(read(t, v1)).rejects.toMatchObject({ name: 'NoSuchVersion' });
  });

  it('CompleteMultipartUpload and DeleteObjects keep the previous versions too', async () => {
    t = await startTestEmulator();
    await enable(t);
    const v1 = await put(t, 'first');
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key })
    );
    const part = await t.s3.send(
      new UploadPartCommand({ Bucket: t.bucket, Key, UploadId, PartNumber: 1, Body: 'parts' })
    );
    const done = await t.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      })
    );
    expect(done.VersionId).toBeDefined();
    await t.s3.send(new DeleteObjectsCommand({ Bucket: t.bucket, Delete: { Objects: [{ Key }] } }));
    const out = entries(await t.s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket })));
    expect(out.map((e) => [e.id, e.latest, e.marker])).toEqual([
      [done.VersionId, false, false],
      [v1, false, false],
      [expect.any(String), true, true],
    ]);
  });

  it('pages ListObjectVersions with key and version-id markers, in S3 key order', async () => {
    t = await startTestEmulator();
    await enable(t);
    const made: string[] = [];
    for (const key of ['b', 'a', 'a/x', 'b']) made.push(`${key}@${await put(t, key, key)}`);
    await t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: 'a' }));
    const seen: Entry[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const out = await t.s3.send(
        new ListObjectVersionsCommand({ Bucket: t.bucket, MaxKeys: 2, KeyMarker, VersionIdMarker })
      );
      pages++;
      seen.push(...entries(out).sort((x, y) => (x.key === y.key ? 0 : x.key < y.key ? -1 : 1)));
      if (!out.IsTruncated) break;
      KeyMarker = out.NextKeyMarker;
      VersionIdMarker = out.NextVersionIdMarker;
    }
    expect(pages).toBe(3);
    expect(seen.map((e) => e.key)).toEqual(['a', 'a', 'a/x', 'b', 'b']);
    expect(
      seen
        .filter((e) => !e.marker)
        .map((e) => `${e.key}@${e.id}`)
        .sort()
    ).toEqual(made.sort());
    expect(seen.filter((e) => e.latest).map((e) => e.key)).toEqual(['a', 'a/x', 'b']);
  });

  it('sends events with version ids, and DeleteMarkerCreated for a marker', async () => {
    t = await startTestEmulator();
    const queue = await notificationQueue(t);
    await enable(t);
    const v1 = await put(t, 'first');
    const { VersionId: marker } = await t.s3.send(
      new DeleteObjectCommand({ Bucket: t.bucket, Key })
    );
    await t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key, VersionId: v1 }));
    const records = (await drain(t, queue)).map((b) => JSON.parse(b).Records[0]);
    expect(records.map((r) => [r.eventName, r.s3.object.versionId])).toEqual([
      ['ObjectCreated:Put', v1],
      ['ObjectRemoved:DeleteMarkerCreated', marker],
      ['ObjectRemoved:Delete', v1],
    ]);
  });

  it('Suspended: writes replace the one null version and keep the older versioned ones', async () => {
    t = await startTestEmulator();
    await enable(t);
    const v1 = await put(t, 'versioned');
    await t.s3.send(
      new PutBucketVersioningCommand({
        Bucket: t.bucket,
        VersioningConfiguration: { Status: 'Suspended' },
      })
    );
    expect(await put(t, 'null one')).toBe('null');
    expect(await put(t, 'null two')).toBe('null');
    const out = entries(await t.s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket })));
    expect(out.map((e) => [e.id, e.latest])).toEqual([
      ['null', true],
      [v1, false],
    ]);
    expect(await read(t)).toBe('null two');
  });

  it('an unversioned bucket lists each object once as version null and deletes for good', async () => {
    t = await startTestEmulator();
    const id = await put(t, 'only');
    expect(id).toBe('');
    const out = await t.s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket }));
    expect(entries(out)).toEqual([{ key: Key, id: 'null', latest: true, marker: false }]);
    const del = await t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key }));
    expect(del.DeleteMarker).toBeUndefined();
    const after = await t.s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket }));
    expect(entries(after)).toEqual([]);
  });

  it('fauxqs alone serves the current object whatever version id is asked (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(objectVersion) });
    await enable(t);
    const v1 = await put(t, 'first');
    await put(t, 'second');
    expect(await read(t, v1)).toBe('second');
  });
});
