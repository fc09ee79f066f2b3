/** The seeded world the audit tests share: a registry DB with healthy, stale and decoy keys. */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { blobDataKey } from '../../lambdas/domain/keys.ts';
import type { TestAws } from '../support/fauxqs.ts';
import { digestOf, seedBlob, seedImage, seedManifest } from '../support/seed-registry-cache.ts';

export const BUCKET = 'registry';
export const ROOT = 'harbor';

/** A registry DB with healthy images, stale keys and decoys; data objects for the healthy ones. */
export async function seedAuditWorld(client: Redis, aws: TestAws) {
  const put = (digest: string) =>
    aws.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: blobDataKey(ROOT, digest), Body: digest })
    );
  // Healthy: one image (3 blobs + manifest) whose data is all in S3.
  const app = await seedImage(client, 'library/app', { layers: 2 });
  for (const d of [...app.blobs, app.manifest]) await put(d);
  // Healthy layer shared by two repositories.
  const shared = digestOf('shared-layer');
  await seedBlob(client, 'team-a/payments-api', { digest: shared, size: 10 });
  await seedBlob(client, 'team-b/search', { digest: shared, size: 10 });
  await put(shared);
  // Stale manifest: blobs:: only, data gone (e2 of the recorded traces).
  const staleManifest = digestOf('stale-manifest');
  await seedManifest(client, { digest: staleManifest, size: 528 });
  // Stale layer listed by two repositories.
  const staleLayer = digestOf('stale-layer');
  await seedBlob(client, 'team-b/search', { digest: staleLayer, size: 99 });
  await seedBlob(client, 'team-a/payments-api', { digest: staleLayer, size: 99 });
  // Decoys in other key families: none is a blobs::sha256:<hex> hash.
  const decoyHex = digestOf('decoy').slice('sha256:'.length);
  await client.hset(`blobs::sha256:${decoyHex}::extra`, 'digest', 'x');
  await client.hset(`blobs::sha512:${'a'.repeat(128)}`, 'digest', 'y');
  await client.set(`pushguard-decoy:blobs::sha256:${decoyHex}`, 'z');
  await client.set('repository::team-c/x::blobs', 'not a set');
  return { app, shared, staleManifest, staleLayer };
}
