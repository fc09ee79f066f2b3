/**
 * Composition roots of `s3-events` and `window-check`: the window store, the storage checker and
 * the findings publisher (the two functions share one graph and one bundle shape).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { RedisWindowStore } from '../../adapters/redis-window-store.ts';
import { S3StorageChecker } from '../../adapters/s3-storage-checker.ts';
import { SqsFindingPublisher } from '../../adapters/sqs-finding-publisher.ts';
import type { IngestDeps } from '../../app/ingest.ts';
import type { WindowCheckDeps } from '../../app/window-check.ts';
import { type ConfigFor, type Env, loadConfig } from '../../config.ts';
import { observed } from './aws-client.ts';
import { redisFor } from './redis.ts';
import { systemClock } from './system-clock.ts';

async function correlationDeps(config: ConfigFor<'s3-events'>): Promise<IngestDeps> {
  const redis = await redisFor(config.redis, config.redis.stateDb);
  const root = config.registry.rootDirectory;
  return {
    store: new RedisWindowStore({
      redis,
      engine: { windowMs: config.window.windowMs, reportUnverified: false, rootDirectory: root },
    }),
    checker: new S3StorageChecker({
      bucket: config.registry.bucket,
      client: observed(new S3Client({})),
    }),
    publisher: new SqsFindingPublisher(observed(new SQSClient({})), config.findingsQueue),
    clock: systemClock,
    // Empty root: detected per key, as `pushguard local` does.
    rootDirectory: root === '' ? undefined : root,
  };
}

export async function composeIngest(env: Env = process.env): Promise<IngestDeps> {
  return correlationDeps(loadConfig('s3-events', env));
}

export async function composeWindowCheck(env: Env = process.env): Promise<WindowCheckDeps> {
  return correlationDeps(loadConfig('window-check', env));
}
