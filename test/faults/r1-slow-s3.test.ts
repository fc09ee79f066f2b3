/**
 * R1 (decide from S3; a timeout is "unknown", never "missing") with the S3 endpoint behind the
 * fault proxy: every answer delayed by 2 s, or no answer at all (blackhole). Recorded traces
 * a + b1 (healthy push and re-push) and e3 (a re-push over a manifest whose data is really gone,
 * the same shape as b1: only S3 tells them apart) go through ingestBatch and the window checks on the real redis-server, then the remediator acts
 * on the real registry DB (seeded from the e3 dump).
 *
 * - 2 s latency, checks time out after 1 s: zero findings; the remediator deletes nothing;
 * - 2 s latency, checks wait up to 5 s: slow but right: exactly the one true finding, cleared;
 * - blackhole: zero findings; once S3 answers again the window checks ask again and find it.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { ingestBatch } from '../../lambdas/app/ingest.ts';
import { RetryableError } from '../../lambdas/domain/errors.ts';
import { finding, makeRig, type Rig } from '../integration/remediate.helpers.ts';
import {
  collectingPublisher,
  manualClock,
  traceRecords,
} from '../integration/window-store.helpers.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';
import { clearDb, dumpDb, seedFromTrace } from '../support/seed-registry-cache.ts';
import {
  blobDataLeft,
  closeWindows,
  distinct,
  ENGINE,
  lastTime,
  STALE_M,
  s3BehindProxy,
  seedBucket,
} from './faults.helpers.ts';

const BUCKET = 'r1-slow';
const TRUE_FINDING = `manifest-data-missing library/stale ${STALE_M} true`;
/**
 * a + b1 (healthy) and e3 alone: a re-push that wrote links but no data. Without e1/e2 the events
 * cannot tell e3 from a healthy re-push like b1; only storage can, so every finding rests on S3.
 */
const records = traceRecords('a-normal-push', 'b1-repush-same', 'e3-repush-stale');
const inBucket = [
  ...blobDataLeft(traceRecords('a-normal-push', 'b1-repush-same')),
  ...blobDataLeft(traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale')),
];
const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);

let aws: TestAws;
let s3: Awaited<ReturnType<typeof s3BehindProxy>>;
let dbs: number[];
let nextDb = 0;
const clients: Redis[] = [];
let rig: Rig | undefined;

beforeAll(async () => {
  aws = await startFauxqs();
  await seedBucket(aws.s3, BUCKET, inBucket);
  s3 = await s3BehindProxy(aws.endpoint);
  dbs = await allocateDbs(10);
});
afterEach(async () => {
  s3.proxy.set({});
  await rig?.close();
  rig = undefined;
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await s3?.close();
  await aws?.stop();
});

/** The whole input as one SQS batch (batch window), then six window checks a window apart. */
async function ingestThroughProxy(timeoutMs: number) {
  const redis = await connectRedis(redisUrlForDb(dbs[nextDb++]!));
  clients.push(redis);
  await redis.flushdb();
  const store = new RedisWindowStore({ redis, engine: ENGINE });
  const checker = new S3StorageChecker({ client: s3.s3, bucket: BUCKET, timeoutMs });
  const publisher = collectingPublisher();
  const clock = manualClock(lastTime(records));
  const deps = { store, checker, publisher, clock };
  const ingested = await ingestBatch(records, deps);
  return { deps, ingested, publisher };
}

/** The remediator (enforce) on a registry DB seeded from the e3 dump, checking S3 via the proxy. */
async function remediatorRig(timeoutMs: number): Promise<Rig> {
  const [registry, core, state] = [dbs[nextDb++]!, dbs[nextDb++]!, dbs[nextDb++]!];
  const checker = new S3StorageChecker({ client: s3.s3, bucket: BUCKET, timeoutMs });
  rig = await makeRig({
    s3: aws.s3,
    dbs: { registry, core, state },
    checker,
    config: { cacheLayer: false, settleMs: 1000 },
  });
  for (const c of [rig.registry, rig.core, rig.state]) await clearDb(c);
  await seedFromTrace(rig.registry, TRACE, 'AFTER');
  return rig;
}

describe('R1 slow S3: a timeout is unknown, never missing', () => {
  it('R1 slow S3 (2 s latency, 1 s timeout): zero findings from ingest and window checks, zero deletions', async () => {
    s3.proxy.set({ latency: { downstreamMs: 2000 } });
    const { deps, ingested, publisher } = await ingestThroughProxy(1000);
    expect(ingested.failures).toEqual([]);
    expect(ingested.checked).toBeGreaterThan(0);
    const closed = await closeWindows(deps, 3);
    expect(closed.errors).toEqual([]);
    expect(publisher.published).toEqual([]);

    const r = await remediatorRig(1000);
    const before = await dumpDb(r.registry);
    const err = await r.remediator.remediate(finding({ digest: STALE_M })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(String(err)).toMatch(/answered unknown/);
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(await r.auditFiles()).toEqual([]);
  });

  it('R1 slow S3 (2 s latency, 5 s timeout): slow but right, exactly the true finding, cleared once', async () => {
    s3.proxy.set({ latency: { downstreamMs: 2000 } });
    const { deps, ingested, publisher } = await ingestThroughProxy(5000);
    expect(ingested.failures).toEqual([]);
    await closeWindows(deps, 3);
    expect(distinct(publisher.published)).toEqual([TRUE_FINDING]);

    const r = await remediatorRig(5000);
    const before = await dumpDb(r.registry);
    const report = await r.remediator.remediate(publisher.published[0]!);
    expect(report.decision).toBe('cleared');
    expect(report.clearedKeys).toEqual([`blobs::${STALE_M}`]);
    const after = await dumpDb(r.registry);
    expect(after).toEqual(before.filter((k) => k.key !== `blobs::${STALE_M}`));
    expect(await r.auditFiles()).toHaveLength(1);
  });

  it('R1 S3 blackholed: zero findings while it is silent; asked again at the deadlines once it answers', async () => {
    s3.proxy.set({ mode: 'blackhole' });
    s3.proxy.resetConnections();
    const { deps, ingested, publisher } = await ingestThroughProxy(500);
    expect(ingested.failures).toEqual([]);
    expect(ingested.checked).toBeGreaterThan(0);
    const silent = await closeWindows(deps, 2);
    expect(silent.errors).toEqual([]);
    expect(publisher.published).toEqual([]);
    expect(s3.proxy.stats().bytesFromClients).toBeGreaterThan(0);

    s3.proxy.set({});
    await closeWindows(deps, 4);
    expect(distinct(publisher.published)).toEqual([TRUE_FINDING]);
  });
});
