/**
 * Composition root of `pushguard local`: the whole pipeline on one machine, with the same use
 * cases as the Lambdas.
 *
 * Primary course of startLocal:
 * 1. Find Redis (or start a throwaway redis-server); connect the state DB and the registry DB.
 * 2. Start the S3 emulator on 127.0.0.1 (fauxqs + additions; its buckets on disk in `dataDir`, or
 *    in memory), create the bucket, the queues and topic (local-queues.ts), and route the
 *    bucket's S3 notifications to the events queue.
 * 3. Poll the events queue into `ingestBatch` and close due windows every second (local-ingest.ts).
 * 4. Poll the findings queue into the remediator, dry-run unless enforce (local-remediation.ts).
 * 5. Serve the Harbor webhook on 127.0.0.1 through `acceptWebhook`, enqueueing to the events queue.
 * stop() undoes all of it, last started first.
 */
import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { connectRedis } from '../adapters/redis-client.ts';
import { RedisDedupe } from '../adapters/redis-dedupe.ts';
import { SqsEventQueue } from '../adapters/sqs-event-queue.ts';
import { acceptWebhook, MAX_WEBHOOK_BODY_BYTES } from '../app/webhook-ingress.ts';
import { normalizeRootDirectory } from '../domain/keys.ts';
import type { Clock } from '../ports.ts';
import { startLocalIngest } from './local-ingest.ts';
import { LOCAL_CREDENTIALS, type LocalOptions, validateLocalOptions } from './local-options.ts';
import { createLocalQueues } from './local-queues.ts';
import { type ResolvedRedis, resolveRedis } from './local-redis.ts';
import { type RemediatorFactory, startFindingsPoller } from './local-remediation.ts';
import { registryConfigYaml } from './registry-config.ts';
import type { ReadyInfo, Reporter } from './reporter.ts';
import { type S3Emulator, startS3Emulator } from './s3-emulator/emulator.ts';
import { startWebhookServer } from './webhook-server.ts';

export { LOCAL_CREDENTIALS, type LocalOptions } from './local-options.ts';
export type {
  LocalRemediator,
  RemediatorFactory,
  RemediatorParts,
} from './local-remediation.ts';

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

type Cleanup = { what: string; run: () => Promise<void> };

/** What the steps share: the options, the reporter, and the cleanups each step adds. */
interface Ctx {
  options: LocalOptions;
  reporter: Reporter;
  deps: LocalDeps;
  cleanups: Cleanup[];
  log: (message: string) => void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export async function startLocal(
  options: LocalOptions,
  reporter: Reporter,
  deps: LocalDeps = {}
): Promise<LocalRuntime> {
  validateLocalOptions(options);
  const cleanups: Cleanup[] = [];
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
  const log = (m: string) => reporter.log(`pushguard local: ${m}`);
  try {
    return { ready: await start({ options, reporter, deps, cleanups, log }), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** 1. Redis: the base URL, and one connection to each DB. */
async function startRedis(ctx: Ctx) {
  const { options, cleanups } = ctx;
  const redis = await resolveRedis({
    url: options.redisUrl,
    env: ctx.deps.env ?? process.env,
    databases: Math.max(options.registryDb, options.stateDb) + 1,
  });
  const started = redis.started;
  if (started) cleanups.push({ what: 'redis-server', run: () => started.stop() });
  if (redis.note) ctx.log(redis.note);
  const connect = async (db: number, name: string, what: string): Promise<Redis> => {
    const client = await connectRedis(`${redis.url}/${db}`, { connectionName: name });
    cleanups.push({ what, run: async () => void client.disconnect() });
    return client;
  };
  const stateRedis = await connect(options.stateDb, 'pushguard-local-state', 'Redis (state)');
  const registryRedis = await connect(
    options.registryDb,
    'pushguard-local-registry',
    'Redis (registry)'
  );
  return { redis, stateRedis, registryRedis };
}

/** 2. The emulator, its clients, queues and topic, and the bucket's notifications. */
async function startAws(ctx: Ctx, region: string) {
  const { options, cleanups } = ctx;
  const emulator = await startS3Emulator({
    port: options.s3Port,
    region,
    buckets: [options.bucket],
    dataDir: options.dataDir,
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
  const queues = await createLocalQueues(
    { sqs, sns },
    {
      visibility: options.visibilityTimeoutSeconds ?? 30,
      maxReceiveCount: options.maxReceiveCount ?? 5,
    }
  );
  emulator.notify(options.bucket, queues.events.arn);
  return { emulator, aws, sqs, sns, queues };
}

/** 5. The Harbor webhook: its secrets (one generated when none is given) and its server. */
async function startWebhook(
  ctx: Ctx,
  parts: { sqs: SQSClient; stateRedis: Redis; eventsUrl: string }
) {
  const { options } = ctx;
  const generated =
    options.webhookSecrets.length === 0
      ? `Bearer ${randomBytes(24).toString('base64url')}`
      : undefined;
  const secrets = generated ? [generated] : [...options.webhookSecrets];
  const queue = new SqsEventQueue(parts.sqs, parts.eventsUrl);
  const dedupe = new RedisDedupe(parts.stateRedis);
  const webhook = await startWebhookServer({
    port: options.webhookPort,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    handle: (req) => acceptWebhook(req, { secrets: async () => secrets, queue, dedupe }),
    onError: (err) => ctx.log(`webhook: ${describe(err)}`),
  });
  ctx.cleanups.push({ what: 'webhook server', run: () => webhook.close() });
  return { url: webhook.url, generated };
}

async function start(ctx: Ctx): Promise<ReadyInfo> {
  const { options, cleanups, deps } = ctx;
  const region = options.region ?? 'us-east-1';
  const rootDirectory = normalizeRootDirectory(options.rootDirectory);
  const { redis, stateRedis, registryRedis } = await startRedis(ctx);
  const { emulator, aws, sqs, sns, queues } = await startAws(ctx, region);
  const ingest = startLocalIngest({
    sqs,
    stateRedis,
    eventsQueueUrl: queues.events.url,
    findingsQueueUrl: queues.findings.url,
    s3: aws,
    bucket: options.bucket,
    rootDirectory,
    hasRootDirectory: options.rootDirectory !== '',
    windowMs: options.windowMs,
    windowCheckIntervalMs: options.windowCheckIntervalMs ?? 1000,
    clock: systemClock,
    reporter: ctx.reporter,
    log: ctx.log,
  });
  cleanups.push(...ingest.stops);
  if (deps.remediator) {
    const remediator = await deps.remediator({
      ...{ registryRedis, stateRedis, emulator, sqs, sns, topicArn: queues.topicArn },
      clock: systemClock,
      options,
      credentials: LOCAL_CREDENTIALS,
      version: deps.version ?? '0.0.0',
    });
    cleanups.push({ what: 'remediator', run: () => remediator.close() });
    const poller = startFindingsPoller({
      ...{ sqs, queueUrl: queues.findings.url, remediator },
      ...{ reporter: ctx.reporter, log: ctx.log },
    });
    cleanups.push({ what: 'findings poller', run: () => poller.stop() });
  } else {
    ctx.log('no remediator wired: findings stay in the findings queue');
  }
  const webhook = await startWebhook(ctx, { sqs, stateRedis, eventsUrl: queues.events.url });
  return readyInfo({ options, region, rootDirectory, redis, emulator, queues, webhook });
}

function readyInfo(o: {
  options: LocalOptions;
  region: string;
  rootDirectory: string;
  redis: ResolvedRedis;
  emulator: S3Emulator;
  queues: Awaited<ReturnType<typeof createLocalQueues>>;
  webhook: { url: string; generated: string | undefined };
}): ReadyInfo {
  const { options, emulator, queues } = o;
  const shownRedis = new URL(o.redis.url);
  shownRedis.password = '';
  const settings = {
    s3Endpoint: emulator.endpoint,
    bucket: options.bucket,
    region: o.region,
    rootDirectory: o.rootDirectory,
  };
  return {
    ...settings,
    webhookUrl: o.webhook.url,
    redis: shownRedis.toString().replace(/\/$/, ''),
    registryDb: options.registryDb,
    stateDb: options.stateDb,
    mode: options.enforce ? 'enforce' : 'dry-run',
    eventsQueueUrl: queues.events.url,
    findingsQueueUrl: queues.findings.url,
    topicArn: queues.topicArn,
    auditDir: resolvePath(options.auditDir),
    dataDir: emulator.storage.dataDir ?? null,
    objectsFound: emulator.storage.objects,
    otherVersionsFound: emulator.storage.otherVersions,
    ...(o.webhook.generated ? { webhookAuthorization: o.webhook.generated } : {}),
    registryConfig: registryConfigYaml({
      ...settings,
      accessKey: LOCAL_CREDENTIALS.accessKeyId,
      secretKey: LOCAL_CREDENTIALS.secretAccessKey,
      redisUrl: o.redis.url,
      registryDb: options.registryDb,
    }),
  };
}
