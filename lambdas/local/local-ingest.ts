/**
 * Step 3 of `pushguard local`: the events queue polled in batches of 10 (partial failures) into
 * `ingestBatch`, and `closeDueWindows` every second; both publish verified findings to the
 * findings queue and print them.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { RedisWindowStore } from '../adapters/redis-window-store.ts';
import { S3StorageChecker } from '../adapters/s3-storage-checker.ts';
import { SqsFindingPublisher } from '../adapters/sqs-finding-publisher.ts';
import { type IngestDeps, ingestBatch } from '../app/ingest.ts';
import { closeDueWindows } from '../app/window-check.ts';
import type { Clock, FindingPublisher } from '../ports.ts';
import type { Reporter } from './reporter.ts';
import { startSqsPoller } from './sqs-poller.ts';
import { startTicker } from './ticker.ts';

export interface LocalIngestOptions {
  sqs: SQSClient;
  stateRedis: Redis;
  eventsQueueUrl: string;
  findingsQueueUrl: string;
  /** S3 client settings of the emulator. */
  s3: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  bucket: string;
  /** Normalized; `rootDirectory` given to the use cases only when the registry has one. */
  rootDirectory: string;
  hasRootDirectory: boolean;
  windowMs: number;
  windowCheckIntervalMs: number;
  clock: Clock;
  reporter: Reporter;
  log: (message: string) => void;
}

export interface LocalIngest {
  /** Cleanups in the order things started (they are run last first). */
  stops: { what: string; run: () => Promise<void> }[];
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export function startLocalIngest(o: LocalIngestOptions): LocalIngest {
  const store = new RedisWindowStore({
    redis: o.stateRedis,
    engine: { windowMs: o.windowMs, reportUnverified: false, rootDirectory: o.rootDirectory },
  });
  const checker = new S3StorageChecker({
    bucket: o.bucket,
    clientConfig: { ...o.s3, forcePathStyle: true },
  });
  const findingsQueue = new SqsFindingPublisher(o.sqs, o.findingsQueueUrl);
  const publisher: FindingPublisher = {
    publish: async (list) => {
      await findingsQueue.publish(list);
      for (const f of list) o.reporter.finding(f);
    },
  };
  const deps: IngestDeps = {
    store,
    checker,
    publisher,
    clock: o.clock,
    rootDirectory: o.hasRootDirectory ? o.rootDirectory : undefined,
  };
  const eventsPoller = startSqsPoller({
    sqs: o.sqs,
    queueUrl: o.eventsQueueUrl,
    handle: async (records) => {
      const result = await ingestBatch(records, deps);
      for (const f of result.failures)
        o.log(`event ${f.id} failed (retried): ${describe(f.error)}`);
      for (const e of result.deferred ?? []) o.log(`deferred: ${describe(e)}`);
      return result.failures.map((f) => f.id);
    },
    onError: (err) => o.log(`events poller: ${describe(err)}`),
  });
  const windowCheck = startTicker(
    o.windowCheckIntervalMs,
    async () => {
      const result = await closeDueWindows(deps);
      for (const e of result.deferred ?? []) o.log(`window check deferred: ${describe(e)}`);
    },
    (err) => o.log(`window check: ${describe(err)}`)
  );
  return {
    stops: [
      { what: 'storage checker', run: async () => checker.destroy() },
      { what: 'events poller', run: () => eventsPoller.stop() },
      { what: 'window check', run: () => windowCheck.stop() },
    ],
  };
}
