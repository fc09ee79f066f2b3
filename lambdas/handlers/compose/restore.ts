/**
 * Restore and removal parts of the remediator graph: the configured restore sources in order
 * (S3 versions, peer registries with credentials from Secrets Manager, Harbor's cache layer),
 * the bucket reader that decides "still referenced", and the removal budget and rate.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { CacheLayerSource } from '../../adapters/cache-layer-source.ts';
import { RedisDeleteBudget } from '../../adapters/redis-delete-budget.ts';
import { RedisRemovalRate } from '../../adapters/redis-removal-rate.ts';
import { RegistryPeerSource } from '../../adapters/registry-peer-source.ts';
import { S3BlobStager } from '../../adapters/s3-blob-stager.ts';
import { S3ReferenceReader } from '../../adapters/s3-reference-reader.ts';
import { S3VersionSource } from '../../adapters/s3-version-source.ts';
import type { RemovalDeps, RestoreDeps } from '../../app/remediate.ts';
import type { ConfigFor } from '../../config.ts';
import type { RestoreSource } from '../../ports.ts';
import { secrets } from './secrets.ts';

/** Removals clear on their own budget: a GC sweep must not spend the one real findings need. */
export const REMOVAL_PER_HOUR = 10_000;

export function removalDeps(state: Redis): RemovalDeps {
  return {
    budget: new RedisDeleteBudget(state, {
      perHour: REMOVAL_PER_HOUR,
      keyPrefix: 'pushguard:removal:',
    }),
    rate: new RedisRemovalRate(state),
  };
}

export function restoreDeps(o: {
  sources: ConfigFor<'remediate'>['remediation']['restoreSources'];
  s3: S3Client;
  bucket: string;
  rootDirectory: string;
  cacheLayerRedis?: Redis;
}): RestoreDeps | undefined {
  if (o.sources.length === 0) return undefined;
  const stager = new S3BlobStager(o.s3, o.bucket);
  const sources: RestoreSource[] = [];
  for (const s of o.sources) {
    if (s.type === 's3-versions') sources.push(new S3VersionSource(o.s3, o.bucket));
    else if (s.type === 'cache-layer' && o.cacheLayerRedis) {
      sources.push(new CacheLayerSource(o.cacheLayerRedis, stager));
    } else if (s.type === 'registry') {
      const arn = s.credentialsSecretArn;
      sources.push(
        new RegistryPeerSource({
          url: s.url,
          stager,
          credentials: async () => (arn ? secrets().get(arn) : undefined),
        })
      );
    }
  }
  return { sources, references: new S3ReferenceReader(o.s3, o.bucket, o.rootDirectory) };
}
