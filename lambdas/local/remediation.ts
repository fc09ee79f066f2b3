/**
 * The remediator of `pushguard local`: lambdas/app/remediate.ts with local adapters. Registry
 * cache on the registry DB, storage checks against the embedded S3, write-ahead audit records in
 * a directory, the delete budget in PushGuard's state DB, notifications to the emulator's SNS
 * topic. Dry-run unless `enforce`.
 */
import { hostname, userInfo } from 'node:os';
import { FileAuditLog } from '../adapters/file-audit-log.ts';
import { RedisDedupe } from '../adapters/redis-dedupe.ts';
import { RedisDeleteBudget } from '../adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../adapters/redis-registry-cache.ts';
import { S3StorageChecker } from '../adapters/s3-storage-checker.ts';
import { S3UploadActivity } from '../adapters/s3-upload-activity.ts';
import { SnsNotifier } from '../adapters/sns-notifier.ts';
import { createRemediator } from '../app/remediate.ts';
import { normalizeRootDirectory } from '../domain/keys.ts';
import type { LocalRemediator, RemediatorParts } from './compose.ts';

/** The Lambda's defaults (lambdas/config.ts): per run, per hour, per finding. */
export const LOCAL_CAPS = { perRun: 20, perHour: 100, perFinding: 10 };

function actor(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `pushguard-local@${hostname()}`;
  }
}

export async function createLocalRemediator(parts: RemediatorParts): Promise<LocalRemediator> {
  const { options, emulator } = parts;
  const checker = new S3StorageChecker({
    bucket: options.bucket,
    clientConfig: {
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: parts.credentials,
      forcePathStyle: true,
    },
  });
  const remediator = createRemediator({
    checker,
    registryCache: new RedisRegistryCache(parts.registryRedis, { store: 'registry' }),
    audit: new FileAuditLog(options.auditDir),
    budget: new RedisDeleteBudget(parts.stateRedis, { perHour: LOCAL_CAPS.perHour }),
    notifiers: [new SnsNotifier({ topicArn: parts.topicArn, client: parts.sns })],
    clock: parts.clock,
    claims: new RedisDedupe(parts.stateRedis),
    uploads: new S3UploadActivity({
      bucket: options.bucket,
      rootDirectory: normalizeRootDirectory(options.rootDirectory),
      clientConfig: {
        endpoint: emulator.endpoint,
        region: emulator.region,
        credentials: parts.credentials,
        forcePathStyle: true,
      },
    }),
    config: {
      mode: options.enforce ? 'enforce' : 'dry-run',
      settleMs: options.settleMs,
      maxKeysPerFinding: LOCAL_CAPS.perFinding,
      maxDeletesPerRun: LOCAL_CAPS.perRun,
      rootDirectory: normalizeRootDirectory(options.rootDirectory),
      registryHost: options.registryHost ?? 'localhost:5000',
      actor: actor(),
      version: parts.version,
      cacheLayer: false,
    },
  });
  return {
    remediate: async (finding) => ({ ...(await remediator.remediate(finding)) }),
    endRun: async () => {
      const report = await remediator.endRun();
      return report ? { ...report } : undefined;
    },
    close: async () => checker.destroy(),
  };
}
