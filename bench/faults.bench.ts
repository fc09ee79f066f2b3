/**
 * Figures of the fault suite (test/faults), measured on the same real parts: redis-server, fauxqs
 * in-process, the project's TCP fault proxy in front of S3 and of Redis.
 *
 * - ingest with S3 answering after 2 s: the recorded a + b1 + e3 traces (55 records, one batch)
 *   through ingestBatch and two window checks, records/s next to the same run with S3 direct;
 *   false and missed findings (the one true finding is e3's manifest);
 * - false findings with 2 s latency and 1 s check timeouts, and with S3 blackholed (must be 0);
 * - deletions on doubt: the remediator (enforce) on 20 stale manifests with S3 blackholed;
 * - Redis cut by the proxy at 12 points (6 each way) of the e1+e2+e3 run: records redelivered
 *   per cut, records lost, findings lost or invented (must be 0);
 * - webhook auth timing: wrong-last-byte / wrong-first-byte paired median ratio (10k calls each),
 *   next to the same ratio for a naive early-exit comparison.
 *
 * Runs alone with `npx tsx bench/faults.bench.ts` (starts its own redis-server unless REDIS_URL
 * is set). Correlation state goes under unique key prefixes (removed at the end); the remediator
 * uses a DB found empty and flushed at the end. Prints figures; never fails on speed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { FileAuditLog } from '../lambdas/adapters/file-audit-log.ts';
import { connectRedis } from '../lambdas/adapters/redis-client.ts';
import { RedisRegistryCache } from '../lambdas/adapters/redis-registry-cache.ts';
import { RedisWindowStore } from '../lambdas/adapters/redis-window-store.ts';
import { S3StorageChecker } from '../lambdas/adapters/s3-storage-checker.ts';
import { ingestBatch } from '../lambdas/app/ingest.ts';
import { createRemediator } from '../lambdas/app/remediate.ts';
import { authorizationMatches } from '../lambdas/app/webhook-ingress.ts';
import { RetryableError } from '../lambdas/domain/errors.ts';
import { planForStaleDigest } from '../lambdas/domain/remediation.ts';
import {
  blobDataLeft,
  closeWindows,
  deliverAll,
  distinct,
  ENGINE,
  lastTime,
  naiveMatches,
  pairedTiming,
  ROOT,
  STALE_M,
  s3BehindProxy,
  seedBucket,
  tokenVariants,
  untilReady,
} from '../test/faults/faults.helpers.ts';
import {
  collectingPublisher,
  manualClock,
  traceRecords,
} from '../test/integration/window-store.helpers.ts';
import { startFaultProxy } from '../test/support/fault-proxy.ts';
import { startFauxqs } from '../test/support/fauxqs.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { seedStaleManifests } from '../test/support/seed-registry-cache.ts';
import { type BenchContext, type Figure, removeKeysWithPrefix } from './figures.ts';
import { emptyDbs } from './latency.bench.ts';

const BUCKET = 'bench-faults';
const TRUE_E3 = `manifest-data-missing library/stale ${STALE_M} true`;
const slowInput = traceRecords('a-normal-push', 'b1-repush-same', 'e3-repush-stale');
const cutInput = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
const FRACTIONS = [0.03, 0.2, 0.4, 0.6, 0.8, 0.97];

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const base = ctx.redisUrl.replace(/\/\d+$/, '');
  const runId = randomBytes(4).toString('hex');
  const prefixes: string[] = [];
  const newPrefix = () => {
    const p = `pushguard-bench-faults:${runId}:${prefixes.length}:`;
    prefixes.push(p);
    return p;
  };
  const aws = await startFauxqs();
  const s3 = await s3BehindProxy(aws.endpoint);
  const admin = await connectRedis(`${base}/0`);
  const figures: Figure[] = [];
  try {
    await seedBucket(aws.s3, BUCKET, [
      ...blobDataLeft(traceRecords('a-normal-push', 'b1-repush-same')),
      ...blobDataLeft(cutInput),
    ]);

    // 1. Ingest with S3 slow, and with S3 direct (baseline).
    const ingest = async (client: S3Client, timeoutMs: number) => {
      const store = new RedisWindowStore({ redis: admin, prefix: newPrefix(), engine: ENGINE });
      const checker = new S3StorageChecker({ client, bucket: BUCKET, timeoutMs });
      const publisher = collectingPublisher();
      const clock = manualClock(lastTime(slowInput));
      const deps = { store, checker, publisher, clock };
      const start = process.hrtime.bigint();
      const res = await ingestBatch(slowInput, deps);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      await closeWindows(deps, 2);
      const found = distinct(publisher.published);
      return {
        perSecond: slowInput.length / seconds,
        seconds,
        failures: res.failures.length,
        falseFindings: found.filter((f) => f !== TRUE_E3).length,
        missed: found.includes(TRUE_E3) ? 0 : 1,
      };
    };
    const direct = await ingest(aws.s3, 5000);
    s3.proxy.set({ latency: { downstreamMs: 2000 } });
    const slow = await ingest(s3.s3, 5000);
    const slowTimeout = await ingest(s3.s3, 1000);
    s3.proxy.set({ mode: 'blackhole' });
    s3.proxy.resetConnections();
    const silent = await ingest(s3.s3, 500);
    s3.proxy.set({});
    figures.push(
      {
        name: `faults: ingest records/s, S3 +2 s latency (${slowInput.length}-record batch, 5 s check timeout)`,
        value: slow.perSecond,
        unit: 'records/s',
        baseline: { name: 'same batch, S3 without latency', value: direct.perSecond },
      },
      {
        name: 'faults: ingest batch wall time, S3 +2 s latency',
        value: slow.seconds,
        unit: 's',
        baseline: { name: 'S3 without latency', value: direct.seconds },
      },
      {
        name: 'faults: false findings, S3 +2 s latency (5 s timeout: slow but answered)',
        value: slow.falseFindings,
        unit: 'findings',
        goal: `0 (and the true one found: ${slow.missed === 0 ? 'yes' : 'NO'})`,
      },
      {
        name: 'faults: false findings, S3 +2 s latency with 1 s check timeout',
        value: slowTimeout.falseFindings,
        unit: 'findings',
        goal: '0',
      },
      {
        name: 'faults: false findings, S3 blackholed (0.5 s check timeout)',
        value: silent.falseFindings,
        unit: 'findings',
        goal: '0',
      },
      {
        name: 'faults: records failed by S3 faults (ingest never fails a record on a check)',
        value: slow.failures + slowTimeout.failures + silent.failures,
        unit: 'records',
        goal: '0',
      }
    );

    // 2. The remediator (enforce) on 20 stale manifests while S3 does not answer.
    const [registryDb] = (await emptyDbs(base, 1)) as [number];
    const registry = await connectRedis(`${base}/${registryDb}`);
    const auditDir = mkdtempSync(join(tmpdir(), 'pushguard-bench-faults-'));
    try {
      const digests = await seedStaleManifests(registry, 20);
      const remediator = createRemediator({
        checker: new S3StorageChecker({ client: s3.s3, bucket: BUCKET, timeoutMs: 500 }),
        registryCache: new RedisRegistryCache(registry, { store: 'registry' }),
        audit: new FileAuditLog(auditDir),
        budget: { reserve: async (n) => n },
        notifiers: [],
        clock: { now: () => Date.now(), sleep: async () => {} },
        config: {
          mode: 'enforce',
          settleMs: 0,
          maxKeysPerFinding: 10,
          maxDeletesPerRun: 100,
          rootDirectory: ROOT,
          registryHost: 'harbor.example.com',
          actor: 'bench@pushguard',
          version: 'bench',
          cacheLayer: false,
        },
      });
      s3.proxy.set({ mode: 'blackhole' });
      s3.proxy.resetConnections();
      let retryable = 0;
      for (const d of digests) {
        const plan = planForStaleDigest(d, [], {
          rootDirectory: ROOT,
          registryHost: 'harbor.example.com',
          cacheLayer: false,
          now: new Date().toISOString(),
          evidence: ['bench'],
        });
        await remediator.execute(plan).catch((e: unknown) => {
          if (e instanceof RetryableError) retryable++;
          else throw e;
        });
      }
      s3.proxy.set({});
      figures.push({
        name: `faults: keys deleted with S3 blackholed (remediator enforce, ${digests.length} stale manifests)`,
        value: digests.length - (await registry.dbsize()),
        unit: 'keys',
        goal: `0 (${retryable} of ${digests.length} retried later)`,
      });
    } finally {
      await registry.flushdb(); // it was empty before this bench
      registry.disconnect();
      rmSync(auditDir, { recursive: true, force: true });
    }

    // 3. Redis cut mid-batch, 6 points each way.
    const url = new URL(base);
    const redisProxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
    try {
      const cutRun = async (arm?: () => void) => {
        const redis = await connectRedis(`redis://${redisProxy.address}/0`, {
          maxRetriesPerRequest: 0,
        });
        try {
          const store = new RedisWindowStore({
            redis,
            prefix: newPrefix(),
            engine: ENGINE,
            drainLeaseMs: 100,
          });
          const checker = new S3StorageChecker({ client: aws.s3, bucket: BUCKET });
          const publisher = collectingPublisher();
          const clock = manualClock(lastTime(cutInput));
          const deps = { store, checker, publisher, clock };
          const before = redisProxy.stats();
          arm?.();
          const delivery = await deliverAll(cutInput, deps, {
            beforeRetry: () => untilReady(redis),
          });
          await new Promise((r) => setTimeout(r, 150));
          await closeWindows(deps, 6, () => untilReady(redis));
          const after = redisProxy.stats();
          const receives = [...delivery.receives.values()].reduce((a, b) => a + b, 0);
          return {
            up: after.bytesUp - before.bytesUp,
            down: after.bytesDown - before.bytesDown,
            redelivered: receives - cutInput.length,
            dead: delivery.deadLettered.length,
            findings: distinct(publisher.published),
          };
        } finally {
          redis.disconnect();
        }
      };
      const clean = await cutRun();
      let redelivered = 0;
      let dead = 0;
      let lost = 0;
      let invented = 0;
      let cuts = 0;
      for (const direction of ['upstream', 'downstream'] as const) {
        const total = direction === 'upstream' ? clean.up : clean.down;
        for (const fraction of FRACTIONS) {
          const res = await cutRun(() =>
            redisProxy.set({
              cut: { direction, afterBytes: Math.floor(total * fraction), scope: 'total' },
            })
          );
          cuts++;
          redelivered += res.redelivered;
          dead += res.dead;
          lost += clean.findings.filter((f) => !res.findings.includes(f)).length;
          invented += res.findings.filter((f) => !clean.findings.includes(f)).length;
        }
      }
      figures.push(
        {
          name: `faults: records redelivered per Redis cut (mean of ${cuts} cuts, ${cutInput.length}-record trace in batches of 10)`,
          value: redelivered / cuts,
          unit: 'records',
        },
        {
          name: `faults: records lost (dead-lettered) over ${cuts} Redis cuts`,
          value: dead,
          unit: 'records',
          goal: '0',
        },
        {
          name: `faults: findings lost or invented over ${cuts} Redis cuts`,
          value: lost + invented,
          unit: 'findings',
          goal: '0',
        }
      );
    } finally {
      await redisProxy.close();
    }

    // 4. Webhook auth timing.
    const secret = `Bearer ${randomBytes(760).toString('base64url')}`.slice(0, 1024);
    const previous = `Bearer ${randomBytes(760).toString('base64url')}`.slice(0, 1024);
    const { wrongFirstByte, wrongLastByte } = tokenVariants(secret);
    type K = 'wrongFirstByte' | 'wrongLastByte';
    const variants: Record<K, string> = { wrongFirstByte, wrongLastByte };
    const secrets = [secret, previous];
    const real = await pairedTiming<K>(
      (g) => authorizationMatches(g, secrets),
      variants,
      'wrongFirstByte'
    );
    const naive = await pairedTiming<K>(
      (g) => naiveMatches(g, secrets),
      variants,
      'wrongFirstByte'
    );
    figures.push({
      name: 'faults: webhook auth time, wrong last byte / wrong first byte (1 KB token, paired median of 100 rounds × 100 calls)',
      value: real.medianRatio.wrongLastByte,
      unit: '×',
      baseline: { name: 'naive early-exit comparison', value: naive.medianRatio.wrongLastByte },
      goal: '≈ 1.00 (no early exit)',
    });
  } finally {
    for (const p of prefixes) await removeKeysWithPrefix(admin, p);
    admin.disconnect();
    await s3.close();
    await aws.stop();
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let url = process.env.REDIS_URL;
  const server = url ? undefined : await startRedisServer();
  url ??= server!.url;
  try {
    for (const f of await run({ redisUrl: url })) {
      const b = f.baseline
        ? ` (baseline ${f.baseline.name}: ${f.baseline.value.toFixed(2)}; ${(f.value / f.baseline.value).toFixed(2)}×)`
        : '';
      console.log(
        `${f.name}: ${f.value.toFixed(2)} ${f.unit}${b}${f.goal ? `  goal: ${f.goal}` : ''}`
      );
    }
  } finally {
    await server?.stop();
  }
}
