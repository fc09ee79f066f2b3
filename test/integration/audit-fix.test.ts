import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileAuditLog } from '../../lambdas/adapters/file-audit-log.ts';
import { JiraTicketTracker } from '../../lambdas/adapters/jira-ticket-tracker.ts';
import { RedisRegistryCache } from '../../lambdas/adapters/redis-registry-cache.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { runAudit, type StaleEntry } from '../../lambdas/app/audit.ts';
import { createRemediator, type RemediatorConfig } from '../../lambdas/app/remediate.ts';
import type { DeleteBudget } from '../../lambdas/ports.ts';
import { type FakeSaas, startFakeSaas } from '../support/fake-saas.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import {
  clearDb,
  connectFailFast,
  digestOf,
  dumpKeys,
  seedCacheLayer,
  seedCoreCacheDecoys,
} from '../support/seed-registry-cache.ts';
import { BUCKET, ROOT, seedAuditWorld } from './audit.helpers.ts';

const unlimited: DeleteBudget = { reserve: async (n) => n };
const clock = { now: () => Date.now(), sleep: async () => {} };

describe('Use case: runAudit() with --fix (the remediator in enforce mode)', () => {
  let aws: TestAws;
  let saas: FakeSaas;
  let registry: Redis;
  let layer: Redis;
  let auditDir: string;
  let world: Awaited<ReturnType<typeof seedAuditWorld>>;
  let layerKeys: { stale: string[]; healthy: string[]; decoys: string[] };

  beforeAll(async () => {
    aws = await startFauxqs();
    await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    saas = await startFakeSaas({
      jira: { email: 'bot@example.com', apiToken: 'tok', projects: ['OPS'] },
    });
    const [a, b] = (await allocateDbs(2)) as [number, number];
    registry = await connectFailFast(redisUrl(), a);
    layer = await connectFailFast(redisUrl(), b);
  });
  afterAll(async () => {
    registry.disconnect();
    layer.disconnect();
    await saas.stop();
    await aws.stop();
  });
  beforeEach(async () => {
    await clearDb(registry);
    await clearDb(layer);
    world = await seedAuditWorld(registry, aws);
    layerKeys = {
      stale: await seedCacheLayer(layer, 'library/stale', world.staleManifest),
      healthy: await seedCacheLayer(layer, 'library/app', world.app.manifest),
      decoys: await seedCoreCacheDecoys(layer),
    };
    auditDir = await mkdtemp(join(tmpdir(), 'pushguard-audit-fix-'));
  });
  afterEach(async () => {
    await rm(auditDir, { recursive: true, force: true });
  });

  function remediator(config: Partial<RemediatorConfig> = {}, withTickets = false) {
    return createRemediator({
      checker: new S3StorageChecker({ client: aws.s3, bucket: BUCKET }),
      registryCache: new RedisRegistryCache(registry, { store: 'registry' }),
      cacheLayer: new RedisRegistryCache(layer, { store: 'cache-layer' }),
      audit: new FileAuditLog(auditDir),
      budget: unlimited,
      notifiers: [],
      ...(withTickets
        ? {
            tickets: new JiraTicketTracker({
              baseUrl: saas.url,
              email: 'bot@example.com',
              apiToken: 'tok',
              projectKey: 'OPS',
            }),
          }
        : {}),
      clock,
      config: {
        mode: 'enforce',
        settleMs: 0,
        maxKeysPerFinding: 20,
        maxDeletesPerRun: 100,
        rootDirectory: ROOT,
        registryHost: 'harbor.example.com',
        actor: 'test',
        version: '0.0.0',
        cacheLayer: true,
        ...config,
      },
    });
  }

  /** Every key seedAuditWorld wrote that is not stale, plus the decoys. */
  function survivorKeys(): string[] {
    const keysOf = (repo: string, d: string) => [`blobs::${d}`, `repository::${repo}::blobs::${d}`];
    return [
      ...world.app.blobs.flatMap((d) => keysOf('library/app', d)),
      `blobs::${world.app.manifest}`,
      'repository::library/app::blobs',
      ...keysOf('team-a/payments-api', world.shared),
      `repository::team-b/search::blobs::${world.shared}`,
      `blobs::sha256:${digestOf('decoy').slice(7)}::extra`,
      `blobs::sha512:${'a'.repeat(128)}`,
      `pushguard-decoy:blobs::sha256:${digestOf('decoy').slice(7)}`,
      'repository::team-c/x::blobs',
    ];
  }

  it('clears exactly the stale keys, key by key, with an audit record each; healthy keys and decoys untouched', async () => {
    // Prepare
    const survivors = await dumpKeys(registry, survivorKeys());
    const layerSurvivors = await dumpKeys(layer, [
      ...layerKeys.healthy,
      ...layerKeys.decoys,
      layerKeys.stale[1]!,
    ]);
    expect(survivors.every((k) => k.dump !== null)).toBe(true);
    const entries: StaleEntry[] = [];
    // Act
    const summary = await runAudit({
      checker: new S3StorageChecker({ client: aws.s3, bucket: BUCKET }),
      registryCache: new RedisRegistryCache(registry, { store: 'registry' }),
      rootDirectory: ROOT,
      fix: { remediator: remediator(), registryHost: 'harbor.example.com', cacheLayer: true },
      onStale: (e) => void entries.push(e),
    });
    // Assess: the report
    expect(summary).toMatchObject({ checked: 7, present: 5, stale: 2, unknown: 0 });
    expect(summary.fix).toMatchObject({ cleared: 2, keysCleared: 7, overCap: 0, errors: 0 });
    expect(summary.fix?.endRun).toBeUndefined();
    const manifest = entries.find((e) => e.kind === 'manifest-data-missing');
    const layerEntry = entries.find((e) => e.kind === 'layer-data-missing');
    expect(manifest?.fix).toMatchObject({ decision: 'cleared' });
    expect(layerEntry?.fix).toMatchObject({ decision: 'cleared' });
    // Assess: the registry DB, key by key
    const M = world.staleManifest;
    const L = world.staleLayer;
    expect(await registry.exists(`blobs::${M}`)).toBe(0);
    expect(await registry.exists(`blobs::${L}`)).toBe(0);
    for (const repo of ['team-a/payments-api', 'team-b/search']) {
      expect(await registry.exists(`repository::${repo}::blobs::${L}`)).toBe(0);
      expect(await registry.sismember(`repository::${repo}::blobs`, L)).toBe(0);
      expect(await registry.sismember(`repository::${repo}::blobs`, world.shared)).toBe(1);
    }
    expect(await dumpKeys(registry, survivorKeys())).toEqual(survivors);
    // Assess: the cache layer: only cache:manifest:digest:<M> went
    expect(await layer.exists(layerKeys.stale[0]!)).toBe(0);
    expect(
      await dumpKeys(layer, [...layerKeys.healthy, ...layerKeys.decoys, layerKeys.stale[1]!])
    ).toEqual(layerSurvivors);
    // Assess: one write-ahead record per cleared finding
    expect(readdirSync(auditDir).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    expect(manifest?.fix && 'auditId' in manifest.fix && manifest.fix.auditId).toBeTruthy();
  });

  it('stops at the per-run cap: what is over it stays, and one Jira ticket summarises it', async () => {
    // Act: 3 keys allowed; the manifest needs 2 (registry + cache layer), the layer 5.
    const summary = await runAudit({
      checker: new S3StorageChecker({ client: aws.s3, bucket: BUCKET }),
      registryCache: new RedisRegistryCache(registry, { store: 'registry' }),
      rootDirectory: ROOT,
      fix: {
        remediator: remediator({ maxDeletesPerRun: 3 }, true),
        registryHost: 'harbor.example.com',
        cacheLayer: true,
      },
    });
    // Assess
    expect(summary.fix).toMatchObject({ cleared: 1, overCap: 1, keysCleared: 2 });
    expect(await registry.exists(`blobs::${world.staleManifest}`)).toBe(0);
    expect(await registry.exists(`blobs::${world.staleLayer}`)).toBe(1);
    expect(await registry.sismember('repository::team-b/search::blobs', world.staleLayer)).toBe(1);
    expect(summary.fix?.endRun?.ticket).toMatchObject({ id: 'OPS-1', created: true });
    expect(saas.jiraIssues).toHaveLength(1);
    expect(saas.jiraIssues[0]?.summary).toMatch(/Delete cap reached: 1 finding/);
  });

  it('deletes nothing for a digest whose data is back by the time the remediator re-checks', async () => {
    // Prepare: the manifest data is uploaded between the sweep and the remediator's checks.
    const before = await dumpKeys(registry, [`blobs::${world.staleManifest}`]);
    const rem = remediator();
    // Act
    const summary = await runAudit({
      checker: new S3StorageChecker({ client: aws.s3, bucket: BUCKET }),
      registryCache: new RedisRegistryCache(registry, { store: 'registry' }),
      rootDirectory: ROOT,
      fix: {
        remediator: {
          execute: async (plan) => {
            if (plan.finding.digest === world.staleManifest) {
              for (const Key of plan.mustBeMissing) {
                await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
              }
            }
            return rem.execute(plan);
          },
          endRun: () => rem.endRun(),
        },
        registryHost: 'harbor.example.com',
        cacheLayer: true,
      },
    });
    // Assess
    expect(summary.fix).toMatchObject({ cleared: 1, skipped: 1 });
    expect(readdirSync(auditDir)).toHaveLength(1);
    expect(await dumpKeys(registry, [`blobs::${world.staleManifest}`])).toEqual(before);
  });
});
