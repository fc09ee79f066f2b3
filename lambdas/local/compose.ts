/**
 * Composition root of `pushguard local`: the whole pipeline on one machine, with the same use
 * cases as the Lambdas.
 *
 * Primary course of startLocal:
 * 1. Find Redis (or start a throwaway redis-server); connect the state DB and the registry DB.
 * 2. Start the S3 emulator on 127.0.0.1 (fauxqs + additions), create the bucket, the events and
 *    findings queues with their DLQs (RedrivePolicy maxReceiveCount 5) and the findings topic, and
 *    route the bucket's S3 notifications to the events queue.
 * 3. Poll the events queue (batches of 10, partial failures) into `ingestBatch`; close due windows
 *    every second with `closeDueWindows`; both publish verified findings to the findings queue.
 * 4. Poll the findings queue into the remediator (dry-run unless enforce).
 * 5. Serve the Harbor webhook on 127.0.0.1 through `acceptWebhook`, enqueueing to the events queue.
 * stop() undoes all of it, last started first.
 */
import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
  type SQSClient as SQSClientType,
} from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { connectRedis } from '../adapters/redis-client.ts';
import { RedisDedupe } from '../adapters/redis-dedupe.ts';
import { RedisWindowStore } from '../adapters/redis-window-store.ts';
import { S3StorageChecker } from '../adapters/s3-storage-checker.ts';
import { SqsEventQueue } from '../adapters/sqs-event-queue.ts';
import { SqsFindingPublisher } from '../adapters/sqs-finding-publisher.ts';
import { type IngestDeps, ingestBatch } from '../app/ingest.ts';
import { acceptWebhook, MAX_WEBHOOK_BODY_BYTES } from '../app/webhook-ingress.ts';
import { closeDueWindows } from '../app/window-check.ts';
import { ConfigError } from '../domain/errors.ts';
import { normalizeRootDirectory } from '../domain/keys.ts';
import type { Finding } from '../domain/types.ts';
import type { Clock, FindingPublisher } from '../ports.ts';
import { resolveRedis } from './local-redis.ts';
import { registryConfigYaml } from './registry-config.ts';
import type { ActionLine, ReadyInfo, Reporter } from './reporter.ts';
import { type S3Emulator, startS3Emulator } from './s3-emulator/emulator.ts';
import { startSqsPoller } from './sqs-poller.ts';
import { startTicker } from './ticker.ts';
import { startWebhookServer } from './webhook-server.ts';

export interface LocalOptions {
  /** 0 picks a free port. */
  s3Port: number;
  webhookPort: number;
  /** Redis base URL; REDIS_URL or 127.0.0.1:6379 when absent. */
  redisUrl?: string;
  registryDb: number;
  stateDb: number;
  bucket: string;
  rootDirectory: string;
  windowMs: number;
  /** Delay between the two storage checks before a delete. */
  settleMs: number;
  enforce: boolean;
  auditDir: string;
  /** Accepted Authorization header values; one is generated when empty. */
  webhookSecrets: string[];
  /** @default 'us-east-1' */
  region?: string;
  /** Visibility timeout of both queues, seconds. @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message goes to its DLQ. @default 5 */
  maxReceiveCount?: number;
  /** @default 1000 */
  windowCheckIntervalMs?: number;
  /** `host[:port]` of the registry, for the re-push command. @default 'localhost:5000' */
  registryHost?: string;
  /** Restore sources in order: `s3-versions` or a peer registry URL (lambdas/local/remediation.ts). */
  restoreFrom?: string[];
}

/** What the findings poller calls for each finding (lambdas/app/remediate.ts's remediator). */
export interface LocalRemediator {
  remediate(finding: Finding): Promise<ActionLine>;
  /** Ends a run (one findings batch): one ticket for whatever went over a cap. */
  endRun(): Promise<ActionLine | undefined>;
  close(): Promise<void>;
}

export interface RemediatorParts {
  registryRedis: Redis;
  stateRedis: Redis;
  emulator: S3Emulator;
  sqs: SQSClientType;
  sns: SNSClient;
  topicArn: string;
  clock: Clock;
  options: LocalOptions;
  credentials: typeof LOCAL_CREDENTIALS;
  /** PushGuard's version, for audit records. */
  version: string;
}

export type RemediatorFactory = (parts: RemediatorParts) => Promise<LocalRemediator>;

export interface LocalDeps {
  env?: NodeJS.ProcessEnv;
  /** Builds the remediator; the findings queue is not consumed without one. */
  remediator?: RemediatorFactory;
  /** @default '0.0.0' */
  version?: string;
}

export interface LocalRuntime {
  ready: ReadyInfo;
  stop(): Promise<void>;
}

/** Access key and secret the emulator accepts (it does not check signatures). */
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'pushguard',
  secretAccessKey: 'pushguard-local-secret',
};

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

function validate(o: LocalOptions): void {
  const problems: string[] = [];
  const db = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 255) problems.push(`${name} must be 0..255`);
  };
  const port = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 65535) problems.push(`${name} must be 0..65535`);
  };
  db('--registry-db', o.registryDb);
  db('--state-db', o.stateDb);
  port('--s3-port', o.s3Port);
  port('--webhook-port', o.webhookPort);
  if (o.registryDb === o.stateDb) {
    problems.push(
      '--state-db must differ from --registry-db (PushGuard never writes its state there)'
    );
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) {
    problems.push(`--bucket ${JSON.stringify(o.bucket)} is not a valid S3 bucket name`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

function redisDbUrl(base: string, db: number): string {
  return `${base}/${db}`;
}

/** Creates `name` and its DLQ; returns both URLs and ARNs. */
async function queueWithDlq(
  sqs: SQSClientType,
  name: string,
  visibility: number,
  maxReceiveCount: number
) {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = await queueArn(sqs, dlq.QueueUrl ?? '');
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibility),
        MaximumMessageSize: '262144',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    })
  );
  const url = main.QueueUrl ?? '';
  return { url, arn: await queueArn(sqs, url), dlqUrl: dlq.QueueUrl ?? '', dlqArn };
}

async function queueArn(sqs: SQSClientType, url: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })
  );
  return out.Attributes?.QueueArn ?? '';
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export async function startLocal(
  options: LocalOptions,
  reporter: Reporter,
  deps: LocalDeps = {}
): Promise<LocalRuntime> {
  validate(options);
  const cleanups: { what: string; run: () => Promise<void> }[] = [];
  const stop = async () => {
    while (cleanups.length > 0) {
      const step = cleanups.pop()!;
      try {
        await step.run();
      } catch (err) {
        reporter.log(`pushguard local: stopping ${step.what}: ${describe(err)}`);
      }
    }
  };
  try {
    return { ready: await start(options, reporter, deps, cleanups), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function start(
  options: LocalOptions,
  reporter: Reporter,
  deps: LocalDeps,
  cleanups: { what: string; run: () => Promise<void> }[]
): Promise<ReadyInfo> {
  const region = options.region ?? 'us-east-1';
  const rootDirectory = normalizeRootDirectory(options.rootDirectory);
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const log = (m: string) => reporter.log(`pushguard local: ${m}`);

  // 1. Redis
  const redis = await resolveRedis({
    url: options.redisUrl,
    env: deps.env ?? process.env,
    databases: Math.max(options.registryDb, options.stateDb) + 1,
  });
  if (redis.started) cleanups.push({ what: 'redis-server', run: () => redis.started!.stop() });
  if (redis.note) log(redis.note);
  const stateRedis = await connectRedis(redisDbUrl(redis.url, options.stateDb), {
    connectionName: 'pushguard-local-state',
  });
  cleanups.push({ what: 'Redis (state)', run: async () => void stateRedis.disconnect() });
  const registryRedis = await connectRedis(redisDbUrl(redis.url, options.registryDb), {
    connectionName: 'pushguard-local-registry',
  });
  cleanups.push({ what: 'Redis (registry)', run: async () => void registryRedis.disconnect() });

  // 2. Emulator, queues, topic, notifications
  const emulator = await startS3Emulator({
    port: options.s3Port,
    region,
    buckets: [options.bucket],
  });
  cleanups.push({ what: 'S3 emulator', run: () => emulator.close() });
  const aws = { endpoint: emulator.endpoint, region, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient(aws);
  const sns = new SNSClient(aws);
  cleanups.push({
    what: 'AWS clients',
    run: async () => {
      sqs.destroy();
      sns.destroy();
    },
  });
  const maxReceive = options.maxReceiveCount ?? 5;
  const events = await queueWithDlq(sqs, 'pushguard-events', visibility, maxReceive);
  const findings = await queueWithDlq(sqs, 'pushguard-findings', visibility, maxReceive);
  const topic = await sns.send(new CreateTopicCommand({ Name: 'pushguard-findings' }));
  const topicArn = topic.TopicArn ?? '';
  const notifications = await sqs.send(
    new CreateQueueCommand({ QueueName: 'pushguard-notifications' })
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: await queueArn(sqs, notifications.QueueUrl ?? ''),
    })
  );
  emulator.notify(options.bucket, events.arn);

  // 3. Ingest and window check
  const store = new RedisWindowStore({
    redis: stateRedis,
    engine: { windowMs: options.windowMs, reportUnverified: false, rootDirectory },
  });
  const checker = new S3StorageChecker({
    bucket: options.bucket,
    clientConfig: { ...aws, forcePathStyle: true },
  });
  cleanups.push({ what: 'storage checker', run: async () => checker.destroy() });
  const findingsQueue = new SqsFindingPublisher(sqs, findings.url);
  const publisher: FindingPublisher = {
    publish: async (list) => {
      await findingsQueue.publish(list);
      for (const f of list) reporter.finding(f);
    },
  };
  const ingestDeps: IngestDeps = {
    store,
    checker,
    publisher,
    clock: systemClock,
    rootDirectory: options.rootDirectory === '' ? undefined : rootDirectory,
  };
  const eventsPoller = startSqsPoller({
    sqs,
    queueUrl: events.url,
    handle: async (records) => {
      const result = await ingestBatch(records, ingestDeps);
      for (const f of result.failures) log(`event ${f.id} failed (retried): ${describe(f.error)}`);
      for (const e of result.deferred ?? []) log(`deferred: ${describe(e)}`);
      return result.failures.map((f) => f.id);
    },
    onError: (err) => log(`events poller: ${describe(err)}`),
  });
  cleanups.push({ what: 'events poller', run: () => eventsPoller.stop() });
  const windowCheck = startTicker(
    options.windowCheckIntervalMs ?? 1000,
    async () => {
      const result = await closeDueWindows(ingestDeps);
      for (const e of result.deferred ?? []) log(`window check deferred: ${describe(e)}`);
    },
    (err) => log(`window check: ${describe(err)}`)
  );
  cleanups.push({ what: 'window check', run: () => windowCheck.stop() });

  // 4. Remediation
  if (deps.remediator) {
    const remediator = await deps.remediator({
      registryRedis,
      stateRedis,
      emulator,
      sqs,
      sns,
      topicArn,
      clock: systemClock,
      options,
      credentials: LOCAL_CREDENTIALS,
      version: deps.version ?? '0.0.0',
    });
    cleanups.push({ what: 'remediator', run: () => remediator.close() });
    const findingsPoller = startSqsPoller({
      sqs,
      queueUrl: findings.url,
      handle: async (records) => {
        const failed: string[] = [];
        for (const record of records) {
          try {
            reporter.action(await remediator.remediate(JSON.parse(record.body) as Finding));
          } catch (err) {
            log(`remediation of ${record.id} failed (retried): ${describe(err)}`);
            failed.push(record.id);
          }
        }
        try {
          const summary = await remediator.endRun();
          if (summary) reporter.action(summary);
        } catch (err) {
          log(`end of remediation run: ${describe(err)}`);
        }
        return failed;
      },
      onError: (err) => log(`findings poller: ${describe(err)}`),
    });
    cleanups.push({ what: 'findings poller', run: () => findingsPoller.stop() });
  } else {
    log('no remediator wired: findings stay in the findings queue');
  }

  // 5. Webhook
  const generated =
    options.webhookSecrets.length === 0
      ? `Bearer ${randomBytes(24).toString('base64url')}`
      : undefined;
  const secrets = generated ? [generated] : [...options.webhookSecrets];
  const eventQueue = new SqsEventQueue(sqs, events.url);
  const dedupe = new RedisDedupe(stateRedis);
  const webhook = await startWebhookServer({
    port: options.webhookPort,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    handle: (req) =>
      acceptWebhook(req, { secrets: async () => secrets, queue: eventQueue, dedupe }),
    onError: (err) => log(`webhook: ${describe(err)}`),
  });
  cleanups.push({ what: 'webhook server', run: () => webhook.close() });

  const shownRedis = new URL(redis.url);
  shownRedis.password = '';
  const settings = {
    s3Endpoint: emulator.endpoint,
    bucket: options.bucket,
    region,
    rootDirectory,
  };
  return {
    ...settings,
    webhookUrl: webhook.url,
    redis: shownRedis.toString().replace(/\/$/, ''),
    registryDb: options.registryDb,
    stateDb: options.stateDb,
    mode: options.enforce ? 'enforce' : 'dry-run',
    eventsQueueUrl: events.url,
    findingsQueueUrl: findings.url,
    topicArn,
    auditDir: resolvePath(options.auditDir),
    ...(generated ? { webhookAuthorization: generated } : {}),
    registryConfig: registryConfigYaml({
      ...settings,
      accessKey: LOCAL_CREDENTIALS.accessKeyId,
      secretKey: LOCAL_CREDENTIALS.secretAccessKey,
      redisUrl: redis.url,
      registryDb: options.registryDb,
    }),
  };
}
