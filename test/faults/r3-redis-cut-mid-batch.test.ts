/**
 * R3 (failures partial, bounded, replayable) and R8 (nothing replayed behind our back) for the
 * ingest path: the connection to the real redis-server is cut by the fault proxy in the middle of
 * the recorded e1+e2+e3 trace, at points spread over the whole conversation, in both directions:
 *
 * - upstream (client → Redis): a command is cut half-sent, Redis never runs it;
 * - downstream (Redis → client): Redis ran the command but its reply is lost.
 *
 * The trace is delivered with SQS semantics (batches of 10, failed records come back, dead-lettered
 * after 5 receives). Every run must lose no record, fail exactly the records that carried events
 * in the batch hit, and end with the same findings and the same Redis state as a run without
 * faults.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { MalformedEventError } from '../../lambdas/domain/errors.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import {
  collectingPublisher,
  dumpDb,
  manualClock,
  traceRecords,
} from '../integration/window-store.helpers.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import {
  blobDataLeft,
  closeWindows,
  deliverAll,
  distinct,
  ENGINE,
  lastTime,
  ROOT,
  STALE_M,
  seedBucket,
  untilReady,
} from './faults.helpers.ts';

const BUCKET = 'r3-cut';
const records = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
const carriers = new Set(
  records
    .filter((r) => normalizeMessage(r.body, { rootDirectory: ROOT }).events.length > 0)
    .map((r) => r.id)
);
const FRACTIONS = [0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.98];

const values = (d: Awaited<ReturnType<typeof dumpDb>>) =>
  Object.fromEntries(
    Object.entries(d)
      .filter(([k]) => !k.endsWith('outbox:lease'))
      .map(([k, v]) => [k, v.value])
  );

describe('R3 Redis cut mid-batch: ingest fails the records hit, retries lose nothing', () => {
  let aws: TestAws;
  let proxy: FaultProxy;
  let dbs: number[];
  let nextDb = 0;
  const clients: Redis[] = [];
  let reference: { findings: string[]; state: Record<string, unknown> };
  let conversation: { up: number; down: number };

  /** One full run: deliver the trace, then close every window; returns what it produced. */
  async function run(via: 'direct' | 'proxy', arm?: () => void) {
    const db = dbs[nextDb++]!;
    const base = via === 'direct' ? redisUrl() : `redis://${proxy.address}`;
    // maxRetriesPerRequest 0: a command cut off before its reply rejects at the disconnect instead
    // of at the commandTimeout (the production client's 5 s), which keeps 12 cuts quick.
    const redis = await connectRedis(`${base}/${db}`, { maxRetriesPerRequest: 0 });
    clients.push(redis);
    await redis.flushdb();
    const store = new RedisWindowStore({ redis, engine: ENGINE, drainLeaseMs: 100 });
    const checker = new S3StorageChecker({ client: aws.s3, bucket: BUCKET });
    const publisher = collectingPublisher();
    const clock = manualClock(lastTime(records));
    const deps = { store, checker, publisher, clock };
    const before = proxy.stats();
    arm?.();
    const delivery = await deliverAll(records, deps, { beforeRetry: () => untilReady(redis) });
    // A drain cut off mid-way leaves its lease (100 ms here): wait until Redis has expired it.
    await untilReady(redis);
    await vi.waitFor(async () => expect(await redis.exists(`${store.prefix}outbox:lease`)).toBe(0));
    const closed = await closeWindows(deps, 6, () => untilReady(redis));
    const after = proxy.stats();
    await untilReady(redis);
    const direct = await connectRedis(`${redisUrl()}/${db}`);
    clients.push(direct);
    return {
      delivery,
      closed,
      findings: distinct(publisher.published),
      state: values(await dumpDb(direct)),
      cuts: after.cuts - before.cuts,
      up: after.bytesUp - before.bytesUp,
      down: after.bytesDown - before.bytesDown,
    };
  }

  beforeAll(async () => {
    aws = await startFauxqs();
    await seedBucket(aws.s3, BUCKET, blobDataLeft(records));
    const url = new URL(redisUrl());
    proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
    dbs = await allocateDbs(2 + 2 * FRACTIONS.length);
    const clean = await run('direct');
    expect(clean.delivery.results.every((r) => r.result.failures.length === 0)).toBe(true);
    expect(clean.findings).toEqual([`manifest-data-missing library/stale ${STALE_M} true`]);
    reference = { findings: clean.findings, state: clean.state };
    // The same run through the proxy without faults: how many bytes flow each way.
    const measured = await run('proxy');
    expect(measured.findings).toEqual(reference.findings);
    conversation = { up: measured.up, down: measured.down };
    expect(conversation.up).toBeGreaterThan(10_000);
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await proxy?.close();
    await aws?.stop();
  });

  for (const direction of ['upstream', 'downstream'] as const) {
    it(`R3 Redis cut (${direction}) at ${FRACTIONS.length} points of the conversation: every record retried, none lost, same findings and state`, async () => {
      const total = direction === 'upstream' ? conversation.up : conversation.down;
      const hitBatches: number[] = [];
      for (const fraction of FRACTIONS) {
        const afterBytes = Math.floor(total * fraction);
        const res = await run('proxy', () =>
          proxy.set({ cut: { direction, afterBytes, scope: 'total' } })
        );
        const where = `${direction} cut after ${afterBytes} of ${total} bytes`;
        expect(res.cuts, where).toBe(1);
        // No record lost: everything was eventually acknowledged, nothing dead-lettered.
        expect(res.delivery.deadLettered, where).toEqual([]);
        const acked = new Set(
          res.delivery.results.flatMap((r) => {
            const failed = new Set(r.result.failures.map((f) => f.id));
            return r.batch.filter((id) => !failed.has(id));
          })
        );
        expect(acked.size, where).toBe(records.length);
        // A batch hit by the cut fails exactly the records that carried events, with the Redis
        // error (not a "malformed record" one), so SQS redelivers exactly those.
        for (const { batch, result } of res.delivery.results) {
          if (result.failures.length === 0) continue;
          hitBatches.push(batch.length);
          expect(result.failures.map((f) => f.id).sort(), where).toEqual(
            batch.filter((id) => carriers.has(id)).sort()
          );
          for (const f of result.failures) expect(f.error).not.toBeInstanceOf(MalformedEventError);
        }
        // Same findings (published at least once) and the same correlation state.
        expect(res.findings, where).toEqual(reference.findings);
        expect(res.state, where).toEqual(reference.state);
      }
      // The cuts did land inside batches (not only in the window checks).
      expect(hitBatches.length).toBeGreaterThan(0);
    });
  }
});
