/**
 * Composition root of `remediate` (and the remediator half of `sweep`): the registry cache, the
 * storage checks, the audit log, the delete budget, the findings topic and the ticket tracker.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Redis } from 'ioredis';
import { GitHubTicketTracker } from '../../adapters/github-ticket-tracker.ts';
import { JiraTicketTracker } from '../../adapters/jira-ticket-tracker.ts';
import { RedisDedupe } from '../../adapters/redis-dedupe.ts';
import { RedisDeleteBudget } from '../../adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../../adapters/redis-registry-cache.ts';
import { S3AuditLog } from '../../adapters/s3-audit-log.ts';
import { S3StorageChecker } from '../../adapters/s3-storage-checker.ts';
import { S3UploadActivity } from '../../adapters/s3-upload-activity.ts';
import { SnsNotifier } from '../../adapters/sns-notifier.ts';
import type { RemediatorDeps } from '../../app/remediate.ts';
import { type ConfigFor, type Env, loadConfig } from '../../config.ts';
import type { TicketTracker } from '../../ports.ts';
import { observed } from './aws-client.ts';
import { redisFor } from './redis.ts';
import { removalDeps, restoreDeps } from './restore.ts';
import { secrets } from './secrets.ts';
import { systemClock } from './system-clock.ts';

/** The version audit records carry; set by the stack from package.json at synth. */
export function pushguardVersion(env: Env): string {
  return env.PUSHGUARD_VERSION ?? 'unknown';
}

/**
 * Remediator graph shared by `remediate` and `sweep` (actor names the function), and the client
 * of PushGuard's state DB it uses.
 */
export async function remediatorGraph(
  config: ConfigFor<'remediate'>,
  options: { actor: string; env: Env }
): Promise<{ deps: RemediatorDeps; state: Redis }> {
  const { redis, registry, registryDb, remediation, integrations } = config;
  const [state, registryRedis] = await Promise.all([
    redisFor(redis, redis.stateDb),
    redisFor(redis, registryDb),
  ]);
  const cacheLayerDb = remediation.cacheLayerDb;
  const cacheLayerRedis =
    cacheLayerDb === undefined ? undefined : await redisFor(redis, cacheLayerDb);
  const cacheLayer = cacheLayerRedis
    ? new RedisRegistryCache(cacheLayerRedis, { store: 'cache-layer' })
    : undefined;
  const s3 = observed(new S3Client({}));
  const restore = restoreDeps({
    sources: remediation.restoreSources,
    s3,
    bucket: registry.bucket,
    rootDirectory: registry.rootDirectory,
    cacheLayerRedis,
  });
  const deps: RemediatorDeps = {
    checker: new S3StorageChecker({ bucket: registry.bucket, client: s3 }),
    registryCache: new RedisRegistryCache(registryRedis, { store: 'registry' }),
    cacheLayer,
    audit: new S3AuditLog({ bucket: config.auditBucket, client: s3 }),
    budget: new RedisDeleteBudget(state, { perHour: remediation.caps.perHour }),
    tickets: await ticketTracker(integrations),
    notifiers: [
      new SnsNotifier({ topicArn: config.findingsTopic, client: observed(new SNSClient({})) }),
    ],
    clock: systemClock,
    claims: new RedisDedupe(state),
    uploads: new S3UploadActivity({
      bucket: registry.bucket,
      rootDirectory: registry.rootDirectory,
      client: s3,
    }),
    ...(restore ? { restore } : {}),
    removal: removalDeps(state),
    config: {
      mode: remediation.mode,
      settleMs: remediation.settleMs,
      maxKeysPerFinding: remediation.caps.perFinding,
      maxDeletesPerRun: remediation.caps.perRun,
      rootDirectory: registry.rootDirectory,
      registryHost: remediation.harborHost,
      actor: options.actor,
      version: pushguardVersion(options.env),
      cacheLayer: cacheLayer !== undefined,
    },
  };
  return { deps, state };
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
  const graph = await remediatorGraph(loadConfig('remediate', env), {
    actor: 'pushguard-lambda:remediate',
    env,
  });
  return graph.deps;
}
