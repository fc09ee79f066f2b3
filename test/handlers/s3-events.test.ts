/**
 * `s3-events` and `window-check` handlers driven with SQS and scheduled events, against the real
 * redis-server (RedisWindowStore), fauxqs S3 (S3StorageChecker) and a fauxqs findings queue.
 */
import { readFileSync } from 'node:fs';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ScheduledEvent } from 'aws-lambda';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { SqsFindingPublisher } from '../../lambdas/adapters/sqs-finding-publisher.ts';
import type { IngestDeps } from '../../lambdas/app/ingest.ts';
import { makeHandler as makeIngest } from '../../lambdas/handlers/s3-events.ts';
import { makeHandler as makeWindowCheck } from '../../lambdas/handlers/window-check.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisClient } from '../support/redis.ts';
import { createQueue, drainQueue, fixture, lambdaContext, sqsEvent } from './support.ts';

const WINDOW_MS = 60_000;
const BUCKET = 'harbor-registry-prod';
const trace = readFileSync(
  new URL('../fixtures/registry-traces/noroot-a-normal-push.s3events.ndjson', import.meta.url),
  'utf8'
)
  .split('\n')
  .filter((l) => l.trim() !== '');

let aws: TestAws;
let redis: Redis;
let findingsUrl: string;
let now = Date.parse('2026-11-25T20:00:00Z');
let deps: IngestDeps;
let checker: S3StorageChecker;

beforeAll(async () => {
  aws = await startFauxqs();
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const [db] = await allocateDbs(1);
  redis = await redisClient(db!);
  findingsUrl = await createQueue(aws.sqs, 'findings');
  checker = new S3StorageChecker({
    bucket: BUCKET,
    client: new S3Client({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  });
  deps = {
    store: new RedisWindowStore({
      redis,
      engine: { windowMs: WINDOW_MS, reportUnverified: false, rootDirectory: '' },
    }),
    checker,
    publisher: new SqsFindingPublisher(aws.sqs, findingsUrl),
    clock: { now: () => now, sleep: async () => {} },
  };
});

afterAll(async () => {
  redis?.disconnect();
  checker?.destroy();
  await aws?.stop();
});

beforeEach(async () => {
  await redis.flushdb();
  await drainQueue(aws.sqs, findingsUrl);
});

/** Puts (or deletes) every object the trace's events name, as the registry did. */
async function replayIntoBucket(lines: string[]): Promise<void> {
  for (const line of lines) {
    for (const r of JSON.parse(line).Records as {
      eventName: string;
      s3: { object: { key: string } };
    }[]) {
      const Key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
      if (r.eventName.startsWith('ObjectCreated')) {
        await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
      } else {
        await aws.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
      }
    }
  }
}

const scheduled = (): ScheduledEvent => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date(now).toISOString(),
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/WindowCheckEveryMinute'],
  detail: {},
});

describe('Function: s3-events', () => {
  it('fails exactly the one bad record of a batch of 10', async () => {
    const bodies = trace.slice(0, 10);
    bodies[6] = '{"Records":[{"eventSource":"aws:s3","s3":{"object":{}}}]}';
    const res = await makeIngest(deps)(sqsEvent(bodies), lambdaContext('s3-events'));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-6' }]);
  });

  it('fails a non-JSON body alone and skips the s3:TestEvent without failing it', async () => {
    const bodies = [trace[0]!, 'not json', fixture('s3-events/s3_sqs_test_event.json'), trace[1]!];
    const res = await makeIngest(deps)(sqsEvent(bodies, 'x'), lambdaContext('s3-events'));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'x-1' }]);
  });

  it('ingests a whole recorded push in batches of 10 without failures or findings', async () => {
    await replayIntoBucket(trace);
    const handler = makeIngest(deps);
    for (let i = 0; i < trace.length; i += 10) {
      const res = await handler(sqsEvent(trace.slice(i, i + 10), `b${i}`), lambdaContext('s'));
      expect(res.batchItemFailures).toEqual([]);
    }
    expect(await drainQueue(aws.sqs, findingsUrl)).toEqual([]);
  });

  it('fails every carrier record, and throws nothing, when Redis is unreachable', async () => {
    const dead = await redisClient((await allocateDbs(1))[0]!);
    dead.disconnect();
    const broken: IngestDeps = {
      ...deps,
      store: new RedisWindowStore({
        redis: dead,
        engine: { windowMs: WINDOW_MS, reportUnverified: false, rootDirectory: '' },
      }),
    };
    const res = await makeIngest(broken)(sqsEvent(trace.slice(0, 3)), lambdaContext('s'));
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'm-0',
      'm-1',
      'm-2',
    ]);
  });
});

describe('Function: window-check', () => {
  it('publishes a verified finding when a pushed manifest never reached storage', async () => {
    const push = fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json');
    now = JSON.parse(push).occur_at * 1000 + 1000;
    const ingest = await makeIngest(deps)(sqsEvent([push], 'w'), lambdaContext('s3-events'));
    expect(ingest.batchItemFailures).toEqual([]);
    const check = makeWindowCheck(deps);
    expect((await check(scheduled(), lambdaContext('window-check'))).findings).toBe(0);
    now += WINDOW_MS + 1000;
    const res = await check(scheduled(), lambdaContext('window-check'));
    expect(res.findings).toBe(1);
    const published = (await drainQueue(aws.sqs, findingsUrl)).map((b) => JSON.parse(b));
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      kind: 'webhook-without-commit',
      repository: 'team-a/payments-api',
      digest: 'sha256:d072586aa4ec0d482c731fb91a40e149586e7e89cf1cd68ae81f57daf525039a',
      verified: true,
    });
  });
});
