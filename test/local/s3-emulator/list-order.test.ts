import { ListObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { startS3Emulator } from '../../../lambdas/local/s3-emulator/emulator.ts';
import { compareUtf8 } from '../../../lambdas/local/s3-emulator/list-order.ts';
import { s3ClientFor, startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const tags = 'harbor/docker/registry/v2/repositories/library/h/_manifests/tags';
// Scenario h of registry-on-s3-emulator.md: tags v1 and v1.0 share a prefix.
const keys = [
  `${tags}/v1/current/link`,
  `${tags}/v1/index/sha256/aa/link`,
  `${tags}/v1.0/current/link`,
  `${tags}/v1.0/index/sha256/bb/link`,
  `${tags}/V2/current/link`,
  `${tags}/v1_0/current/link`,
];
/** S3 (UTF-8 byte) order: '.'(2E) < '/'(2F) < '_'(5F); 'V'(56) < 'v'(76). */
const s3Order = [keys[4], keys[2], keys[3], keys[0], keys[1], keys[5]];

async function seed(t: TestEmulator) {
  for (const Key of keys) {
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body: 'sha256:x' }));
  }
}

describe('S3 emulator: listing order', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('ListObjects v1 lists in UTF-8 binary order, so tags/v1.0/ comes before tags/v1/', async () => {
    t = await startTestEmulator();
    await seed(t);
    const out = await t.s3.send(new ListObjectsCommand({ Bucket: t.bucket, Prefix: `${tags}/` }));
    expect(out.Contents?.map((c) => c.Key)).toEqual(s3Order);
    // The driver's Delete("…/tags/v1") lists the prefix without a slash: v1.0 comes first.
    const del = await t.s3.send(new ListObjectsCommand({ Bucket: t.bucket, Prefix: `${tags}/v1` }));
    expect(del.Contents?.[0]?.Key).toBe(`${tags}/v1.0/current/link`);
  });

  it('ListObjectsV2 pages in the same order, with delimiters', async () => {
    t = await startTestEmulator();
    await seed(t);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await t.s3.send(
        new ListObjectsV2Command({
          Bucket: t.bucket,
          Prefix: `${tags}/`,
          MaxKeys: 2,
          ContinuationToken: token,
        })
      );
      seen.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    expect(seen).toEqual(s3Order);
    const dirs = await t.s3.send(
      new ListObjectsV2Command({ Bucket: t.bucket, Prefix: `${tags}/`, Delimiter: '/' })
    );
    expect(dirs.CommonPrefixes?.map((p) => p.Prefix)).toEqual(
      ['V2', 'v1.0', 'v1', 'v1_0'].map((d) => `${tags}/${d}/`)
    );
  });

  it('compares by code point, as UTF-8 bytes do (not UTF-16 units, not locale)', () => {
    const words = ['\u{1F600}', '\uFFFD', 'a', 'B', 'é', '_', '-', '.'];
    const byBytes = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...words].sort(compareUtf8)).toEqual(byBytes);
    expect(compareUtf8('ab', 'a')).toBeGreaterThan(0);
  });

  it('fauxqs alone lists in locale order (the gap)', async () => {
    const emu = await startS3Emulator({ port: 0, buckets: ['b'] });
    const s3 = s3ClientFor(emu.endpoint);
    try {
      // The bare fauxqs store: the emulator store's parent class.
      const bare = Object.getPrototypeOf(Object.getPrototypeOf(emu.store));
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'b', Key, Body: 'x' }));
      const listed = bare.listObjects.call(emu.store, 'b', { prefix: `${tags}/` });
      expect(listed.objects.map((o: { key: string }) => o.key)).not.toEqual(s3Order);
    } finally {
      s3.destroy();
      await emu.close();
    }
  });
});
