/**
 * The remediator of `pushguard local`: lambdas/app/remediate.ts with local adapters. Registry
 * cache on the registry DB, storage checks against the embedded S3, write-ahead audit records in
 * a directory, the delete budgets and the removal rate in PushGuard's state DB, notifications to
 * the emulator's SNS topic. Dry-run unless `enforce`; restores (enforce only) from the sources
 * `--restore-from` lists, in order: `s3-versions` (the bucket's noncurrent versions) or a peer
 * registry URL (`http://user:password@host:port` carries its credentials).
 */
import { hostname, userInfo } from 'node:os';
import { S3Client } from '@aws-sdk/client-s3';
import { FileAuditLog } from '../adapters/file-audit-log.ts';
import { RedisDedupe } from '../adapters/redis-dedupe.ts';
import { RedisDeleteBudget } from '../adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../adapters/redis-registry-cache.ts';
import { RedisRemovalRate } from '../adapters/redis-removal-rate.ts';
import { RegistryPeerSource } from '../adapters/registry-peer-source.ts';
import { S3BlobStager } from '../adapters/s3-blob-stager.ts';
import { S3ReferenceReader } from '../adapters/s3-reference-reader.ts';
import { S3StorageChecker } from '../adapters/s3-storage-checker.ts';
import { S3UploadActivity } from '../adapters/s3-upload-activity.ts';
import { S3VersionSource } from '../adapters/s3-version-source.ts';
import { SnsNotifier } from '../adapters/sns-notifier.ts';
import { createRemediator, type RestoreDeps } from '../app/remediate.ts';
import { ConfigError } from '../domain/errors.ts';
import { normalizeRootDirectory } from '../domain/keys.ts';
import type { RestoreSource } from '../ports.ts';
import type { LocalRemediator, RemediatorParts } from './compose.ts';

/** The Lambda's defaults (lambdas/config.ts): per run, per hour, per finding. */
export const LOCAL_CAPS = { perRun: 20, perHour: 100, perFinding: 10 };
/** Removals clear under their own budget (a GC sweep must not eat the one above). */
export const LOCAL_REMOVAL_CAPS = { perRun: 1000, perHour: 10_000, sweepPerMinute: 100 };

function actor(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `pushguard-local@${hostname()}`;
  }
}

/** One restore source per `--restore-from` value, in order. */
export function restoreSources(
  values: readonly string[],
  s3: { client: S3Client; bucket: string }
): RestoreSource[] {
  const stager = new S3BlobStager(s3.client, s3.bucket);
  return values.map((value) => {
    if (value === 's3-versions') return new S3VersionSource(s3.client, s3.bucket);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError([`--restore-from ${value}: not s3-versions nor a registry URL`]);
    }
    const creds = url.username
      ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
      : undefined;
    url.username = '';
    url.password = '';
    return new RegistryPeerSource({ url: url.origin, stager, credentials: async () => creds });
  });
}

export async function createLocalRemediator(parts: RemediatorParts): Promise<LocalRemediator> {
  const { options, emulator } = parts;
  const root = normalizeRootDirectory(options.rootDirectory);
  const clientConfig = {
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: parts.credentials,
    forcePathStyle: true,
  };
  const checker = new S3StorageChecker({ bucket: options.bucket, clientConfig });
  const s3 = new S3Client({
    ...clientConfig,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const restoreFrom = options.restoreFrom ?? [];
  const restore: RestoreDeps | undefined =
    restoreFrom.length > 0
      ? {
          sources: restoreSources(restoreFrom, { client: s3, bucket: options.bucket }),
          references: new S3ReferenceReader(s3, options.bucket, root),
        }
      : undefined;
  const remediator = createRemediator({
    checker,
    registryCache: new RedisRegistryCache(parts.registryRedis, { store: 'registry' }),
    audit: new FileAuditLog(options.auditDir),
    budget: new RedisDeleteBudget(parts.stateRedis, { perHour: LOCAL_CAPS.perHour }),
    notifiers: [new SnsNotifier({ topicArn: parts.topicArn, client: parts.sns })],
    clock: parts.clock,
    claims: new RedisDedupe(parts.stateRedis),
    uploads: new S3UploadActivity({ bucket: options.bucket, rootDirectory: root, clientConfig }),
    ...(restore ? { restore } : {}),
    removal: {
      budget: new RedisDeleteBudget(parts.stateRedis, {
        perHour: LOCAL_REMOVAL_CAPS.perHour,
        keyPrefix: 'pushguard:removal:',
      }),
      rate: new RedisRemovalRate(parts.stateRedis),
    },
    config: {
      mode: options.enforce ? 'enforce' : 'dry-run',
      settleMs: options.settleMs,
      maxKeysPerFinding: LOCAL_CAPS.perFinding,
      maxDeletesPerRun: LOCAL_CAPS.perRun,
      maxRemovalClearsPerRun: LOCAL_REMOVAL_CAPS.perRun,
      sweepRemovalsPerMinute: LOCAL_REMOVAL_CAPS.sweepPerMinute,
      rootDirectory: root,
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
    close: async () => {
      checker.destroy();
      s3.destroy();
    },
  };
}
