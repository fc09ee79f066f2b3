import { createServer, type Socket } from 'node:net';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRegistryCache } from '../../lambdas/adapters/redis-registry-cache.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { type AuditProgress, runAudit, type StaleEntry } from '../../lambdas/app/audit.ts';
import { blobDataKey } from '../../lambdas/domain/keys.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import { connectFailFast, dumpDb } from '../support/seed-registry-cache.ts';
import { BUCKET, ROOT, seedAuditWorld } from './audit.helpers.ts';

describe('Use case: runAudit() over a seeded Redis and a fauxqs bucket', () => {
  let aws: TestAws;
  let client: Redis;
  let world: Awaited<ReturnType<typeof seedAuditWorld>>;

  beforeAll(async () => {
    aws = await startFauxqs();
    await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const [db] = await allocateDbs(1);
    client = await connectFailFast(redisUrl(), db!);
    world = await seedAuditWorld(client, aws);
  });
  afterAll(async () => {
    client.disconnect();
    await aws.stop();
  });

  it('reports exactly the stale keys, what they break, and leaves Redis untouched', async () => {
    // Prepare
    const before = await dumpDb(client);
    const entries: StaleEntry[] = [];
    const phases = new Set<string>();
    // Act
    const summary = await runAudit({
      checker: new S3StorageChecker({ client: aws.s3, bucket: BUCKET }),
      registryCache: new RedisRegistryCache(client, { store: 'registry' }),
      rootDirectory: ROOT,
      concurrency: 4,
      scanCount: 3,
      onStale: (e) => void entries.push(e),
      onProgress: (p: AuditProgress) => void phases.add(p.phase),
    });
    // Assess
    expect(summary).toMatchObject({
      checked: 7,
      present: 5,
      stale: 2,
      unknown: 0,
      recovered: 0,
      untracked: 0,
      repositorySetsScanned: 3,
    });
    expect(summary.fix).toBeUndefined();
    const expected = [
      {
        digest: world.staleManifest,
        dataKey: blobDataKey(ROOT, world.staleManifest),
        kind: 'manifest-data-missing',
        repositories: [],
        staleKeys: [`blobs::${world.staleManifest}`],
      },
      {
        digest: world.staleLayer,
        dataKey: blobDataKey(ROOT, world.staleLayer),
        kind: 'layer-data-missing',
        repositories: ['team-a/payments-api', 'team-b/search'],
        staleKeys: [
          `blobs::${world.staleLayer}`,
          `repository::team-a/payments-api::blobs ${world.staleLayer}`,
          `repository::team-a/payments-api::blobs::${world.staleLayer}`,
          `repository::team-b/search::blobs ${world.staleLayer}`,
          `repository::team-b/search::blobs::${world.staleLayer}`,
        ],
      },
    ].sort((a, b) => a.digest.localeCompare(b.digest));
    expect(entries.map(({ breaks: _b, ...e }) => e)).toEqual(expected);
    const byKind = Object.fromEntries(entries.map((e) => [e.kind, e.breaks]));
    expect(byKind['manifest-data-missing']).toMatch(/MANIFEST_UNKNOWN.*201/);
    expect(byKind['layer-data-missing']).toMatch(/BLOB_UNKNOWN.*already exists/);
    expect(await dumpDb(client)).toEqual(before);
    expect([...phases]).toEqual(['sweep', 'attribute', 'confirm']);
  });

  it('counts every digest as unknown, never stale, when S3 does not answer', async () => {
    // Prepare: an "S3" that accepts connections and never answers.
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const checker = new S3StorageChecker({
      bucket: BUCKET,
      timeoutMs: 200,
      clientConfig: {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 't', secretAccessKey: 't' },
      },
    });
    const entries: StaleEntry[] = [];
    try {
      // Act
      const summary = await runAudit({
        checker,
        registryCache: new RedisRegistryCache(client, { store: 'registry' }),
        rootDirectory: ROOT,
        concurrency: 8,
        onStale: (e) => void entries.push(e),
      });
      // Assess
      expect(summary).toMatchObject({ checked: 7, present: 0, stale: 0, unknown: 7 });
      expect(summary.unknownSamples[0]?.reason).toMatch(/Timeout|Abort/);
      expect(entries).toEqual([]);
    } finally {
      checker.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('does not report a digest whose data reappears before the confirmation', async () => {
    // Prepare: a checker that uploads the stale manifest right after the sweep's first HEAD of it.
    const real = new S3StorageChecker({ client: aws.s3, bucket: BUCKET });
    const target = blobDataKey(ROOT, world.staleManifest);
    let uploaded = false;
    const racing = {
      head: async (key: string) => {
        const presence = await real.head(key);
        if (key === target && !uploaded) {
          uploaded = true;
          await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'late' }));
        }
        return presence;
      },
      readManifest: (key: string) => real.readManifest(key),
    };
    // Act
    const summary = await runAudit({
      checker: racing,
      registryCache: new RedisRegistryCache(client, { store: 'registry' }),
      rootDirectory: ROOT,
    });
    // Assess: the layer is still stale, the manifest recovered.
    expect(summary).toMatchObject({ stale: 1, recovered: 1 });
  });
});
