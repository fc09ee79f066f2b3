import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteObjects } from '../../../lambdas/local/s3-emulator/delete-objects.ts';
import {
  additionsWithout,
  drain,
  notificationQueue,
  raw,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.ts';

async function versioned(t: TestEmulator, key: string): Promise<string[]> {
  await t.s3.send(
    new PutBucketVersioningCommand({
      Bucket: t.bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    })
  );
  const ids: string[] = [];
  for (const Body of ['one', 'two']) {
    const out = await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body }));
    ids.push(out.VersionId ?? '');
  }
  return ids;
}

describe('S3 emulator: DeleteObjects', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('removes a version given by id, and marks a key given without one', async () => {
    t = await startTestEmulator();
    const [v1] = await versioned(t, 'k');
    const out = await t.s3.send(
      new DeleteObjectsCommand({
        Bucket: t.bucket,
        Delete: { Objects: [{ Key: 'k', VersionId: v1 }, { Key: 'k' }] },
      })
    );
    expect(out.Deleted?.[0]).toEqual({ Key: 'k', VersionId: v1 });
    expect(out.Deleted?.[1]).toMatchObject({ Key: 'k', DeleteMarker: true });
    const left = await t.s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket }));
    expect(left.Versions?.map((v) => v.VersionId)).not.toContain(v1);
    expect(left.Versions).toHaveLength(1);
    expect(left.DeleteMarkers?.[0]?.VersionId).toBe(out.Deleted?.[1]?.DeleteMarkerVersionId);
  });

  it("decodes Go's numeric character references in keys and sends one event per key", async () => {
    t = await startTestEmulator();
    const queue = await notificationQueue(t);
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'a"b', Body: 'x' }));
    await drain(t, queue);
    const body =
      '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>' +
      '<Object><Key>a&#34;b</Key></Object><Object><Key>never-there</Key></Object></Delete>';
    const res = await raw(t, 'POST', `/${t.bucket}?delete`, { body });
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('<Deleted>');
    const events = (await drain(t, queue)).map((b) => JSON.parse(b).Records[0]);
    expect(events.map((r) => [r.eventName, r.s3.object.key])).toEqual([
      ['ObjectRemoved:Delete', 'a%22b'],
    ]);
  });

  it('fauxqs alone adds a delete marker where a version was to be removed (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(deleteObjects) });
    const [v1] = await versioned(t, 'k');
    await t.s3.send(
      new DeleteObjectsCommand({
        Bucket: t.bucket,
        Delete: { Objects: [{ Key: 'k', VersionId: v1 }] },
      })
    );
    const left = await t.s3.send(new ListObjectVersionsCommand({ Bucket: t.bucket }));
    expect(left.Versions?.map((v) => v.VersionId)).toContain(v1);
    expect(left.DeleteMarkers).toHaveLength(1);
  });
});
