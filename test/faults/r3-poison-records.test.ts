/**
 * R3 (failures partial, bounded, replayable): one poison message among 10 real S3 notification
 * bodies on a fauxqs queue with a RedrivePolicy (maxReceiveCount 5, visibility timeout 1 s). The
 * local poller (Lambda event-source semantics) feeds the deployed `s3-events` handler (middy,
 * Powertools parser, ReportBatchItemFailures) backed by RedisWindowStore on the real redis-server.
 * Expected: the 9 good records are applied once and deleted, the poison one comes back on each
 * visibility timeout and lands in the DLQ after its 5th receive, and the queue ends empty.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { MalformedEventError } from '../../lambdas/domain/errors.ts';
import { makeHandler } from '../../lambdas/handlers/s3-events.ts';
import { startSqsPoller } from '../../lambdas/local/sqs-poller.ts';
import { drainQueue, lambdaContext, sqsRecord } from '../handlers/support.ts';
import {
  collectingPublisher,
  manualClock,
  traceRecords,
} from '../integration/window-store.helpers.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';
import { ENGINE, eventsOf, lastTime } from './faults.helpers.ts';

const good = traceRecords('e1-push').slice(0, 9);
/** A real trace body with its object key removed: a MalformedEventError, every time. */
const poison = (() => {
  const body = JSON.parse(good[0]!.body) as { Records: { s3: { object: { key?: string } } }[] };
  delete body.Records[0]!.s3.object.key;
  return JSON.stringify(body);
})();

let aws: TestAws;
let redis: Redis;

beforeAll(async () => {
  aws = await startFauxqs();
  const [db] = await allocateDbs(1);
  redis = await connectRedis(redisUrlForDb(db!));
  await redis.flushdb();
});
afterAll(async () => {
  redis?.disconnect();
  await aws?.stop();
});

async function queueWithDlq(name: string): Promise<{ url: string; dlqUrl: string }> {
  const dlq = await aws.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const arn = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] })
  );
  const main = await aws.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: arn.Attributes?.QueueArn,
          maxReceiveCount: 5,
        }),
      },
    })
  );
  return { url: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

describe('R3 poison records: 1 bad of 10 → 9 processed and deleted, 1 in the DLQ after 5 receives', () => {
  it('R3 poison: the s3-events handler behind the local poller dead-letters exactly the bad record', async () => {
    // Prepare
    const q = await queueWithDlq('r3-events');
    const bodies = [
      ...good.slice(0, 4).map((r) => r.body),
      poison,
      ...good.slice(4).map((r) => r.body),
    ];
    await aws.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
      })
    );
    const store = new RedisWindowStore({ redis, engine: ENGINE });
    const handler = makeHandler({
      store,
      publisher: collectingPublisher(),
      clock: manualClock(lastTime(good)),
    });
    const seen: { body: string; receiveCount: number; failed: boolean }[] = [];
    const errors: unknown[] = [];
    const poller = startSqsPoller({
      sqs: aws.sqs,
      queueUrl: q.url,
      waitTimeSeconds: 0,
      handle: async (records) => {
        const event = { Records: records.map((r) => sqsRecord(r.body, r.id)) };
        const res = await handler(event, lambdaContext('s3-events'));
        const failed = res.batchItemFailures.map((f) => f.itemIdentifier);
        for (const r of records) {
          seen.push({ body: r.body, receiveCount: r.receiveCount, failed: failed.includes(r.id) });
        }
        return failed;
      },
      onError: (err) => errors.push(err),
    });

    // Act: wait for the dead letter (5 receives, 1 s apart).
    let dead: string[] = [];
    try {
      await vi.waitFor(
        async () => {
          dead = await drainQueue(aws.sqs, q.dlqUrl);
          expect(dead).not.toEqual([]);
        },
        { timeout: 30_000, interval: 250 }
      );
    } finally {
      await poller.stop();
    }

    // Assess: the poison one, dead-lettered after exactly 5 receives, each one failed.
    expect(errors).toEqual([]);
    expect(dead).toEqual([poison]);
    const poisonSeen = seen.filter((s) => s.body === poison);
    expect(poisonSeen.map((s) => s.receiveCount)).toEqual([1, 2, 3, 4, 5]);
    expect(poisonSeen.every((s) => s.failed)).toBe(true);
    // The 9 good ones: received once, never failed, deleted.
    const goodSeen = seen.filter((s) => s.body !== poison);
    expect(goodSeen).toHaveLength(9);
    expect(goodSeen.every((s) => s.receiveCount === 1 && !s.failed)).toBe(true);
    const left = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['All'] })
    );
    expect(left.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(left.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
    // Their events are in the correlation state: applying them again is all duplicates.
    const again = await store.apply(eventsOf(good), lastTime(good));
    expect(again.duplicates).toBe(eventsOf(good).length);
    // And the poison body is a typed, per-record error, not a crash of the batch.
    expect(() => eventsOf([{ id: 'p', body: poison }])).toThrow(MalformedEventError);
  });
});
