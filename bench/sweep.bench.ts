/**
 * The scheduled sweep at scale: stale cache entries cleared per 15-minute invocation, with the
 * default settle delay (5 s between the two checks of every plan), in enforce mode, against fauxqs
 * S3 behind a TCP proxy adding 20 ms per round trip (10 ms each way), as S3 takes from a Lambda.
 *
 * - Registry DB seeded with `n` cached manifests whose data is missing (each one stale key); the
 *   remediator is the real one (S3 checks, S3 upload check, S3 audit records, compare-and-delete,
 *   Redis budget and claims), caps raised out of the way; no notifier.
 * - PushGuard: runSweep (slices, fixes 256 at a time, settle waits overlapped).
 * - Baseline in the same run: the same sweep with fixes 4 at a time (what the sweep did before),
 *   on a smaller `n` (it is 4 plans per 5 s).
 * Figures extrapolate the measured rate to 900 s (one invocation's timeout).
 *
 * Runs alone with `npx tsx bench/run.ts sweep` (BENCH_SWEEP_DIGESTS shrinks it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { connectRedis } from '../lambdas/adapters/redis-client.ts';
import { RedisDedupe } from '../lambdas/adapters/redis-dedupe.ts';
import { RedisDeleteBudget } from '../lambdas/adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../lambdas/adapters/redis-registry-cache.ts';
import { RedisSweepProgress } from '../lambdas/adapters/redis-sweep-progress.ts';
import { S3AuditLog } from '../lambdas/adapters/s3-audit-log.ts';
import { S3StorageChecker } from '../lambdas/adapters/s3-storage-checker.ts';
import { S3UploadActivity } from '../lambdas/adapters/s3-upload-activity.ts';
import { runSweep } from '../lambdas/app/sweep.ts';
import { systemClock } from '../lambdas/handlers/compose/system-clock.ts';
import { startFaultProxy } from '../test/support/fault-proxy.ts';
import { startFauxqs } from '../test/support/fauxqs.ts';
import { seedStaleManifests } from '../test/support/seed-registry-cache.ts';
import type { BenchContext, Figure } from './figures.ts';

const ROOT = 'harbor';
const INVOCATION_S = 900;

/** A DB of the server nobody uses (empty), claimed with a marker key. */
async function claimDb(url: string, from: number): Promise<{ db: number; redis: Redis }> {
  for (let db = from; db < from + 50; db++) {
    const redis = await connectRedis(`${url}/${db}`, { commandTimeoutMs: 30_000 });
    if ((await redis.dbsize()) === 0 && (await redis.set('pushguard:bench:claim', '1', 'NX'))) {
      return { db, redis };
    }
    redis.disconnect();
  }
  throw new Error('no free Redis DB for the sweep bench');
}

async function measure(
  ctx: BenchContext,
  s3: S3Client,
  n: number,
  fixConcurrency: number
): Promise<{ cleared: number; ms: number; errors: number }> {
  const registry = await claimDb(ctx.redisUrl, 600);
  const state = await claimDb(ctx.redisUrl, 650);
  const bucket = `sweep-bench-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: `${bucket}-audit` }));
  const dir = await mkdtemp(join(tmpdir(), 'pushguard-sweep-bench-'));
  try {
    await registry.redis.del('pushguard:bench:claim');
    await seedStaleManifests(registry.redis, n, { chunk: 2000 });
    const checker = new S3StorageChecker({ bucket, client: s3, timeoutMs: 10_000 });
    const cache = new RedisRegistryCache(registry.redis, { store: 'registry' });
    const start = Date.now();
    const summary = await runSweep(
      {
        audit: { checker, registryCache: cache, rootDirectory: ROOT },
        remediator: {
          checker,
          registryCache: cache,
          audit: new S3AuditLog({ bucket: `${bucket}-audit`, client: s3 }),
          budget: new RedisDeleteBudget(state.redis, { perHour: 10_000_000 }),
          notifiers: [],
          clock: systemClock,
          claims: new RedisDedupe(state.redis),
          uploads: new S3UploadActivity({ bucket, rootDirectory: ROOT, client: s3 }),
          config: {
            mode: 'enforce',
            settleMs: 5000,
            maxKeysPerFinding: 10,
            maxDeletesPerRun: 10_000_000,
            rootDirectory: ROOT,
            registryHost: 'harbor.example.com',
            actor: 'bench',
            version: 'bench',
            cacheLayer: false,
          },
        },
        progress: new RedisSweepProgress(state.redis),
        fixConcurrency,
      },
      { remainingMs: () => INVOCATION_S * 1000 }
    );
    return {
      cleared: summary.fix?.keysCleared ?? 0,
      ms: Date.now() - start,
      errors: summary.fix?.errors ?? 0,
    };
  } finally {
    for (const c of [registry.redis, state.redis]) {
      await c.flushdb();
      c.disconnect();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const aws = await startFauxqs();
  const up = new URL(aws.endpoint);
  const proxy = await startFaultProxy(
    { host: up.hostname, port: Number(up.port) },
    { latency: { upstreamMs: 10, downstreamMs: 10 } }
  );
  const s3 = new S3Client({
    endpoint: `http://${proxy.address}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 3,
  });
  try {
    const n = Number(process.env.BENCH_SWEEP_DIGESTS ?? 3000);
    const before = await measure(ctx, s3, 16, 4);
    const now = await measure(ctx, s3, n, 256);
    const per15 = (r: { cleared: number; ms: number }) => (r.cleared / r.ms) * INVOCATION_S * 1000;
    return [
      {
        name: `sweep: stale keys cleared per 15-min invocation (settle 5 s, S3 +20 ms; ${now.cleared} in ${(now.ms / 1000).toFixed(1)} s, ${now.errors} errors)`,
        value: per15(now),
        unit: 'keys',
        baseline: {
          name: `fixes 4 at a time (${before.cleared} in ${(before.ms / 1000).toFixed(1)} s)`,
          value: per15(before),
        },
        goal: '≥ 20,000',
      },
    ];
  } finally {
    s3.destroy();
    await proxy.close();
    await aws.stop();
  }
}
