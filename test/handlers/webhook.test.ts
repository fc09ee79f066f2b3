/**
 * `webhook` handler driven with API Gateway proxy events, against the real redis-server (dedupe)
 * and a fauxqs SQS queue (enqueue).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisDedupe } from '../../lambdas/adapters/redis-dedupe.ts';
import { SqsEventQueue } from '../../lambdas/adapters/sqs-event-queue.ts';
import { authorizationMatches } from '../../lambdas/app/webhook-ingress.ts';
import { makeHandler } from '../../lambdas/handlers/webhook.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisClient } from '../support/redis.ts';
import { apiEvent, createQueue, drainQueue, fixture, lambdaContext } from './support.ts';

const CURRENT = 'Bearer new-4f1d2c9a';
const PREVIOUS = 'Bearer old-77aa01b3';
const push = fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json');
const pushCloudEvents = fixture('harbor-webhooks/harbor_webhook_push_artifact_cloudevents.json');

let aws: TestAws;
let redis: Redis;
let queueUrl: string;
let handler: ReturnType<typeof makeHandler>;

beforeAll(async () => {
  aws = await startFauxqs();
  const [db] = await allocateDbs(1);
  redis = await redisClient(db!);
  queueUrl = await createQueue(aws.sqs, 'webhook-events');
  handler = makeHandler({
    secrets: async () => [CURRENT, PREVIOUS],
    queue: new SqsEventQueue(aws.sqs, queueUrl),
    dedupe: new RedisDedupe(redis),
  });
});

afterAll(async () => {
  redis?.disconnect();
  await aws?.stop();
});

beforeEach(async () => {
  await redis.flushdb();
  await drainQueue(aws.sqs, queueUrl);
});

const call = (body: string | null, headers: Record<string, string> = {}, b64 = false) =>
  handler(apiEvent(body, headers, b64), lambdaContext('webhook'));

describe('Function: webhook', () => {
  it('enqueues an authenticated PUSH_ARTIFACT and answers 202 at once', async () => {
    const res = await call(push, { Authorization: CURRENT });
    expect(res.statusCode).toBe(202);
    expect(res.headers?.['content-type']).toBe('application/json');
    const bodies = await drainQueue(aws.sqs, queueUrl);
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toEqual(JSON.parse(push));
  });

  it('answers 401 to a wrong or missing Authorization header and enqueues nothing', async () => {
    const cases: Record<string, string>[] = [
      { Authorization: 'Bearer nope' },
      {},
      { Authorization: '' },
    ];
    for (const headers of cases) {
      const res = await call(push, headers);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('Bearer');
    }
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(0);
  });

  it('accepts both the current and the previous secret during rotation', async () => {
    const later = JSON.stringify({ ...JSON.parse(push), occur_at: 1720012999 });
    const a = await call(push, { Authorization: CURRENT });
    const b = await call(later, { authorization: PREVIOUS });
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(2);
  });

  it('treats the CloudEvents copy of the same delivery as a duplicate', async () => {
    expect((await call(push, { Authorization: CURRENT })).statusCode).toBe(202);
    expect((await call(pushCloudEvents, { Authorization: CURRENT })).statusCode).toBe(200);
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(1);
  });

  it('answers 413 to a body over 64 KB, plain or base64, before checking anything else', async () => {
    const big = JSON.stringify({ type: 'PUSH_ARTIFACT', pad: 'x'.repeat(1024 * 1024) });
    expect((await call(big, { Authorization: CURRENT })).statusCode).toBe(413);
    expect((await call(big, {})).statusCode).toBe(413);
    const b64 = Buffer.from('y'.repeat(64 * 1024 + 1)).toString('base64');
    expect((await call(b64, { Authorization: CURRENT }, true)).statusCode).toBe(413);
    // Multi-byte characters: 40k characters but 120 KB of UTF-8.
    expect((await call('€'.repeat(40_000), { Authorization: CURRENT })).statusCode).toBe(413);
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(0);
  });

  it('decodes a base64 body within the limit', async () => {
    const res = await call(Buffer.from(push).toString('base64'), { Authorization: CURRENT }, true);
    expect(res.statusCode).toBe(202);
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(1);
  });

  it('enqueues 10 identical deliveries (Harbor retries) exactly once', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 10; i++)
      codes.push((await call(push, { Authorization: CURRENT })).statusCode);
    expect(codes[0]).toBe(202);
    expect(codes.slice(1)).toEqual(Array(9).fill(200));
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(1);
  });

  it('enqueues 10 concurrent identical deliveries exactly once', async () => {
    const res = await Promise.all(
      Array.from({ length: 10 }, () => call(push, { Authorization: CURRENT }))
    );
    expect(res.filter((r) => r.statusCode === 202)).toHaveLength(1);
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(1);
  });

  it('answers 400 with a generic message to malformed bodies', async () => {
    for (const body of ['not json', '{"type":"PUSH_ARTIFACT","occur_at":"x"}', '[]', null]) {
      const res = await call(body, { Authorization: CURRENT });
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ message: 'bad request' });
    }
    const s3 = fixture('s3-events/s3_event_manifest_revision_link_put.json');
    expect((await call(s3, { Authorization: CURRENT })).statusCode).toBe(400);
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(0);
  });

  it('answers 202 without enqueueing event types PushGuard ignores', async () => {
    const pull = JSON.stringify({ ...JSON.parse(push), type: 'PULL_ARTIFACT' });
    const res = await call(pull, { Authorization: CURRENT });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ message: 'ignored' });
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(0);
  });

  it('answers 503 and forgets the delivery when SQS refuses it, so the retry gets through', async () => {
    const broken = makeHandler({
      secrets: async () => [CURRENT],
      queue: new SqsEventQueue(aws.sqs, `${aws.endpoint}/000000000000/no-such-queue`),
      dedupe: new RedisDedupe(redis),
    });
    const first = await broken(apiEvent(push, { Authorization: CURRENT }), lambdaContext('w'));
    expect(first.statusCode).toBe(503);
    const retry = await call(push, { Authorization: CURRENT });
    expect(retry.statusCode).toBe(202);
    expect(await drainQueue(aws.sqs, queueUrl)).toHaveLength(1);
  });
});

describe('authorizationMatches()', () => {
  it('matches any accepted secret and nothing else', () => {
    expect(authorizationMatches('a', ['a', 'b'])).toBe(true);
    expect(authorizationMatches('b', ['a', 'b'])).toBe(true);
    expect(authorizationMatches('c', ['a', 'b'])).toBe(false);
    expect(authorizationMatches('a ', ['a'])).toBe(false);
    expect(authorizationMatches(undefined, ['a'])).toBe(false);
    expect(authorizationMatches('', [''])).toBe(false);
    expect(authorizationMatches('a', [])).toBe(false);
  });
});
