/**
 * The Lambda composition root: builds each function's real dependency graph ONCE per cold start
 * from lambdas/config.ts `loadConfig`. SDK clients take their endpoint from the environment
 * (AWS_ENDPOINT_URL_*), so the same graph runs against AWS or a local emulator.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type { Redis } from 'ioredis';
import { GitHubTicketTracker } from '../adapters/github-ticket-tracker.ts';
import { JiraTicketTracker } from '../adapters/jira-ticket-tracker.ts';
import { connectRedis } from '../adapters/redis-client.ts';
import { RedisDedupe } from '../adapters/redis-dedupe.ts';
import { RedisDeleteBudget } from '../adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../adapters/redis-registry-cache.ts';
import { RedisWindowStore } from '../adapters/redis-window-store.ts';
import { S3AuditLog } from '../adapters/s3-audit-log.ts';
import { S3StorageChecker } from '../adapters/s3-storage-checker.ts';
import { S3UploadActivity } from '../adapters/s3-upload-activity.ts';
import { SecretsManagerSecrets } from '../adapters/secrets.ts';
import { SlackNotifier } from '../adapters/slack-notifier.ts';
import { SnsNotifier } from '../adapters/sns-notifier.ts';
import { SqsEventQueue } from '../adapters/sqs-event-queue.ts';
import { SqsFindingPublisher } from '../adapters/sqs-finding-publisher.ts';
import type { IngestDeps } from '../app/ingest.ts';
import type { RemediatorDeps } from '../app/remediate.ts';
import type { WebhookDeps } from '../app/webhook-ingress.ts';
import type { WindowCheckDeps } from '../app/window-check.ts';
import { type ConfigFor, type Env, loadConfig, redisUrl } from '../config.ts';
import type { Clock, TicketTracker } from '../ports.ts';
import type { NotifyDeps } from './notify.ts';
import type { SweepDeps } from './sweep.ts';

type AnyHandler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * A handler whose dependencies are built on the first invocation and kept for the container's
 * life (importing the module has no side effects, so tests import `makeHandler` freely). A failed
 * build is retried on the next invocation.
 */
export function lazyHandler<E, R>(build: () => Promise<AnyHandler<E, R>>): AnyHandler<E, R> {
  let built: Promise<AnyHandler<E, R>> | undefined;
  return async (event, context) => {
    built ??= build().catch((err) => {
      built = undefined;
      throw err;
    });
    return (await built)(event, context);
  };
}

let secretsInstance: SecretsManagerSecrets | undefined;
const secrets = () => {
  secretsInstance ??= new SecretsManagerSecrets(new SecretsManagerClient({}));
  return secretsInstance;
};

/** A connected client on `db` of the configured Redis, with AUTH from Secrets Manager. */
export async function redisFor(redis: ConfigFor<'webhook'>['redis'], db: number): Promise<Redis> {
  const url = new URL(redisUrl(redis, db));
  if (redis.authSecretArn) url.password = await secrets().get(redis.authSecretArn);
  return connectRedis(url.toString(), { connectionName: 'pushguard-lambda' });
}

export async function composeWebhook(env: Env = process.env): Promise<WebhookDeps> {
  const config = loadConfig('webhook', env);
  const redis = await redisFor(config.redis, config.redis.stateDb);
  return {
    secrets: () => secrets().getAll(config.webhook.secretArns),
    queue: new SqsEventQueue(new SQSClient({}), config.eventsQueue),
    dedupe: new RedisDedupe(redis),
  };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Window store, storage checker and findings publisher: shared by ingest and window-check. */
async function correlationDeps(config: ConfigFor<'s3-events'>): Promise<IngestDeps> {
  const redis = await redisFor(config.redis, config.redis.stateDb);
  const root = config.registry.rootDirectory;
  return {
    store: new RedisWindowStore({
      redis,
      engine: { windowMs: config.window.windowMs, reportUnverified: false, rootDirectory: root },
    }),
    checker: new S3StorageChecker({ bucket: config.registry.bucket, client: new S3Client({}) }),
    publisher: new SqsFindingPublisher(new SQSClient({}), config.findingsQueue),
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

export async function composeNotify(env: Env = process.env): Promise<NotifyDeps> {
  const { integrations } = loadConfig('notify', env);
  if (!integrations.slack) return { notifiers: [] };
  const url = await secrets().get(integrations.slack.webhookSecretArn);
  return { notifiers: [new SlackNotifier({ defaultWebhookUrl: url })] };
}

/** Remediator graph shared by `remediate` and `sweep` (actor names the function). */
async function remediatorDeps(
  config: ConfigFor<'remediate'>,
  actor: string
): Promise<RemediatorDeps> {
  const { redis, registry, remediation, integrations } = config;
  const [state, registryRedis] = await Promise.all([
    redisFor(redis, redis.stateDb),
    redisFor(redis, registry.db),
  ]);
  const cacheLayerDb = remediation.cacheLayerDb;
  const cacheLayer =
    cacheLayerDb === undefined
      ? undefined
      : new RedisRegistryCache(await redisFor(redis, cacheLayerDb), { store: 'cache-layer' });
  const s3 = new S3Client({});
  return {
    checker: new S3StorageChecker({ bucket: registry.bucket, client: s3 }),
    registryCache: new RedisRegistryCache(registryRedis, { store: 'registry' }),
    cacheLayer,
    audit: new S3AuditLog({ bucket: config.auditBucket, client: s3 }),
    budget: new RedisDeleteBudget(state, { perHour: remediation.caps.perHour }),
    tickets: await ticketTracker(integrations),
    notifiers: [new SnsNotifier({ topicArn: config.findingsTopic })],
    clock: systemClock,
    claims: new RedisDedupe(state),
    uploads: new S3UploadActivity({
      bucket: registry.bucket,
      rootDirectory: registry.rootDirectory,
      client: s3,
    }),
    config: {
      mode: remediation.mode,
      settleMs: remediation.settleMs,
      maxKeysPerFinding: remediation.caps.perFinding,
      maxDeletesPerRun: remediation.caps.perRun,
      rootDirectory: registry.rootDirectory,
      registryHost: remediation.harborHost,
      actor,
      version: process.env.PUSHGUARD_VERSION ?? '0.1.0',
      cacheLayer: cacheLayer !== undefined,
    },
  };
}

async function ticketTracker(
  integrations: ConfigFor<'remediate'>['integrations']
): Promise<TicketTracker | undefined> {
  const { jira, github } = integrations;
  if (jira) {
    const apiToken = await secrets().get(jira.tokenSecretArn);
    return new JiraTicketTracker({ ...jira, apiToken, extraLabels: ['pushguard'] });
  }
  if (github) {
    const [owner, repo] = github.repository.split('/') as [string, string];
    const token = await secrets().get(github.tokenSecretArn);
    return new GitHubTicketTracker({ owner, repo, token, extraLabels: ['pushguard'] });
  }
  return undefined;
}

export async function composeRemediate(env: Env = process.env): Promise<RemediatorDeps> {
  return remediatorDeps(loadConfig('remediate', env), 'pushguard-lambda:remediate');
}

export async function composeSweep(env: Env = process.env): Promise<SweepDeps> {
  const remediator = await remediatorDeps(loadConfig('sweep', env), 'pushguard-lambda:sweep');
  return {
    remediator,
    audit: {
      checker: remediator.checker,
      registryCache: remediator.registryCache,
      rootDirectory: remediator.config.rootDirectory,
    },
  };
}
