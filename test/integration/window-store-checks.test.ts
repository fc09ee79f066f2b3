/**
 * Ingest and window-check with the real S3 checker (fauxqs on 127.0.0.1) and the real Redis state:
 * the check rounds decide what the events alone cannot (e3 and b1 have the same shape).
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { ingestBatch } from '../../lambdas/app/ingest.ts';
import { closeDueWindows } from '../../lambdas/app/window-check.ts';
import type { EngineConfig } from '../../lambdas/domain/engine.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';
import { collectingPublisher, manualClock, summary, traceRecords } from './window-store.helpers.ts';

const W = 60_000;
const ENGINE: EngineConfig = { windowMs: W, reportUnverified: false, rootDirectory: 'harbor' };
const STALE_M = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';

type Records = { id: string; body: string }[];
const eventsOf = (records: Records) =>
  records.flatMap((r) => normalizeMessage(r.body, { rootDirectory: 'harbor' }).events);
const lastTime = (records: Records) => Math.max(...eventsOf(records).map((e) => e.time));

/** Object keys of blob data the trace leaves in place (created and not removed since). */
function blobDataLeft(records: Records): string[] {
  const left = new Set<string>();
  for (const e of eventsOf(records)) {
    if (e.source !== 'storage' || e.storageKey.kind !== 'blob-data') continue;
    if (e.op === 'created') left.add(e.key);
    else left.delete(e.key);
  }
  return [...left];
}

describe('Use cases: ingestBatch and closeDueWindows with S3 checks', () => {
  let aws: TestAws;
  let dbs: number[];
  let next = 0;
  const clients: Redis[] = [];

  beforeAll(async () => {
    aws = await startFauxqs();
    for (const Bucket of ['stale', 'healthy', 'lost']) {
      await aws.s3.send(new CreateBucketCommand({ Bucket }));
    }
    const seed = async (Bucket: string, keys: string[]) => {
      for (const Key of keys) await aws.s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    };
    const e = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
    await seed('stale', blobDataLeft(e));
    await seed('healthy', blobDataLeft(traceRecords('a-normal-push')));
    // 'lost': scenario a with the manifest data gone (as if removed before the re-push)
    await seed(
      'lost',
      blobDataLeft(traceRecords('a-normal-push')).filter((k) => !k.includes('/2e/'))
    );
    dbs = await allocateDbs(6);
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await aws.stop();
  });

  async function setup(bucket: string) {
    const redis = await connectRedis(redisUrlForDb(dbs[next++]!));
    clients.push(redis);
    await redis.flushdb();
    return {
      store: new RedisWindowStore({ redis, engine: ENGINE }),
      checker: new S3StorageChecker({ client: aws.s3, bucket }),
      publisher: collectingPublisher(),
    };
  }

  it('e1+e2+e3: storage proves the manifest data missing during ingest, one verified finding', async () => {
    const { store, checker, publisher } = await setup('stale');
    const records = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
    const clock = manualClock(lastTime(records));
    const ingested = await ingestBatch(records, { store, checker, publisher, clock });
    expect(ingested.failures).toEqual([]);
    expect(ingested.checked).toBeGreaterThan(0);
    expect(summary(ingested.findings)).toEqual([
      `manifest-data-missing library/stale ${STALE_M} true`,
    ]);
    for (let i = 0; i < 6; i++) {
      clock.advance(W);
      await closeDueWindows({ store, checker, publisher, clock });
    }
    expect(summary(publisher.published)).toEqual(summary(ingested.findings));
  });

  it('b1 after a with the data in S3 (healthy re-push): no finding', async () => {
    const { store, checker, publisher } = await setup('healthy');
    const records = traceRecords('a-normal-push', 'b1-repush-same');
    const clock = manualClock(lastTime(records));
    await ingestBatch(records.slice(0, 52), { store, checker, publisher, clock });
    await ingestBatch(records.slice(52), { store, checker, publisher, clock });
    for (let i = 0; i < 6; i++) {
      clock.advance(W);
      await closeDueWindows({ store, checker, publisher, clock });
    }
    expect(publisher.published).toEqual([]);
    expect(await store.outboxLength()).toBe(0);
  });

  it('b1 alone: the same shape as e3, told apart only by a manifest check', async () => {
    const b1 = traceRecords('b1-repush-same');
    const healthy = await setup('healthy');
    const lost = await setup('lost');
    const clock = manualClock(lastTime(b1));
    const ok = await ingestBatch(b1, { ...healthy, clock });
    const bad = await ingestBatch(b1, { ...lost, clock });
    expect(ok.checked).toBeGreaterThan(0);
    expect(ok.findings).toEqual([]);
    expect(summary(bad.findings)).toEqual([
      expect.stringMatching(/^manifest-data-missing library\/app sha256:2e[0-9a-f]{62} true$/),
    ]);
  });

  it('never reports missing on doubt: storage that cannot answer is asked again at each deadline', async () => {
    const { store, publisher } = await setup('healthy');
    const checker = new S3StorageChecker({ client: aws.s3, bucket: 'no-such-bucket' });
    const b1 = traceRecords('b1-repush-same');
    const clock = manualClock(lastTime(b1));
    const ingested = await ingestBatch(b1, { store, checker, publisher, clock });
    expect(ingested.checked).toBeGreaterThan(0);
    const checkedPerPoll: number[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(W);
      checkedPerPoll.push((await closeDueWindows({ store, checker, publisher, clock })).checked);
    }
    expect(publisher.published).toEqual([]);
    expect(checkedPerPoll.every((n) => n > 0)).toBe(true);
  });
});
