/**
 * The end-to-end stack: a redis-server of its own (so the registry cache is DB 1, as Harbor's
 * installer sets it), `pushguard local` (embedded S3 emulator with event notifications, pollers,
 * webhook server) and Debian's `docker-registry` writing to PushGuard's S3 and to the same Redis,
 * plus skopeo with its own HOME. Helpers read Redis key by key and S3 object by object.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { blobDataKey } from '../../lambdas/domain/keys.ts';
import { readableTempDir } from '../support/oci-image.ts';
import {
  findingOf,
  type LocalEvent,
  type PushguardLocal,
  startPushguardLocal,
} from '../support/pushguard-local.ts';
import { freePort, type RunningRedis, startRedisServer } from '../support/redis-server.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';
import { createSkopeoEnv, type SkopeoEnv } from '../support/skopeo.ts';

export const REGISTRY_DB = 1;
export const STATE_DB = 3;
/** Harbor core's DB (jobservice keys live there): PushGuard must never touch it. */
export const CORE_DB = 0;

export interface Stack {
  redisServer: RunningRedis;
  pg: PushguardLocal;
  registry: RunningRegistry;
  s3: S3Client;
  bucket: string;
  /** Root directory as the registry config has it ('' for none). */
  root: string;
  skopeo: SkopeoEnv;
  work: string;
  /** Registry cache DB client. */
  cache: Redis;
  core: Redis;
  windowMs: number;
  stop(): Promise<void>;
}

export async function startStack(opts: {
  rootDirectory: string;
  windowMs: number;
  enforce: boolean;
  /** More `pushguard local` arguments (e.g. `--restore-from <url>`). */
  extraArgs?: string[];
}): Promise<Stack> {
  const redisServer = await startRedisServer();
  const cleanup: (() => Promise<void> | void)[] = [() => redisServer.stop()];
  const stopAll = async () => {
    while (cleanup.length) {
      try {
        await cleanup.pop()!();
      } catch {
        // keep stopping the rest
      }
    }
  };
  try {
    const cache = new Redis(redisServer.url, { db: REGISTRY_DB, lazyConnect: true });
    const core = new Redis(redisServer.url, { db: CORE_DB, lazyConnect: true });
    await cache.connect();
    await core.connect();
    cleanup.push(() => {
      cache.disconnect();
      core.disconnect();
    });
    await seedDecoys(cache, core);
    const work = readableTempDir('pushguard-e2e-');
    cleanup.push(() => rmSync(work, { recursive: true, force: true }));
    // The registry's port is chosen first so re-push commands name it.
    const registryPort = await freePort();
    const pg = await startPushguardLocal({
      redisUrl: redisServer.url,
      registryDb: REGISTRY_DB,
      bucket: 'registry',
      rootDirectory: opts.rootDirectory || undefined,
      window: `${opts.windowMs / 1000}s`,
      enforce: opts.enforce,
      extraArgs: [
        '--state-db',
        String(STATE_DB),
        '--webhook-secret',
        WEBHOOK_TOKEN,
        '--registry-host',
        `127.0.0.1:${registryPort}`,
        '--audit-dir',
        join(work, 'audit'),
        ...(opts.extraArgs ?? []),
      ],
    });
    cleanup.push(() => pg.stop());
    const registry = await startRegistry({
      storage: {
        kind: 's3',
        endpoint: pg.ready.s3Endpoint,
        bucket: pg.ready.bucket,
        rootDirectory: opts.rootDirectory || undefined,
      },
      redisUrl: redisServer.url,
      redisDb: REGISTRY_DB,
      port: registryPort,
    });
    cleanup.push(() => registry.stop());
    const s3 = new S3Client({
      endpoint: pg.ready.s3Endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    cleanup.push(() => s3.destroy());
    const skopeo = createSkopeoEnv();
    cleanup.push(() => skopeo.dispose());
    return {
      redisServer,
      pg,
      registry,
      s3,
      bucket: pg.ready.bucket,
      root: opts.rootDirectory.replace(/^\/+|\/+$/g, ''),
      skopeo,
      work,
      cache,
      core,
      windowMs: opts.windowMs,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export const WEBHOOK_TOKEN = 'Basic cHVzaGd1YXJkOmUyZS13ZWJob29rLXNlY3JldA==';

/** Keys nobody may touch: unrelated cache entries in the registry DB, jobservice keys in core's. */
export const DECOYS = {
  registry: [
    'blobs::sha256:dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0',
    'repository::decoy/app::blobs',
    'repository::decoy/app::blobs::sha256:dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0',
  ],
  core: ['{harbor_job_service_namespace}:known_jobs', 'cache:project:name:library'],
};

async function seedDecoys(cache: Redis, core: Redis): Promise<void> {
  const d = 'sha256:dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0';
  await cache.hset(`blobs::${d}`, {
    digest: d,
    size: '1234',
    mediatype: 'application/octet-stream',
  });
  await cache.sadd('repository::decoy/app::blobs', d);
  await cache.hset(`repository::decoy/app::blobs::${d}`, { mediatype: 'application/octet-stream' });
  await core.sadd('{harbor_job_service_namespace}:known_jobs', 'GARBAGE_COLLECTION', 'REPLICATION');
  await core.set('cache:project:name:library', Buffer.from([0x82, 0xa2, 0x69, 0x64, 0x01]));
}

/** DUMP of each key (null when absent): byte-exact content to compare before and after. */
export async function dumpKeys(client: Redis, keys: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (const k of keys) {
    const v = await client.dumpBuffer(k);
    out.push(v ? v.toString('base64') : null);
  }
  return out;
}

/** The registry cache keys of one (repository, digest), as distribution v2.8 writes them. */
export async function cacheKeysOf(
  cache: Redis,
  repository: string,
  digest: string
): Promise<{ blob: boolean; member: boolean; repoHash: boolean }> {
  return {
    blob: (await cache.exists(`blobs::${digest}`)) === 1,
    member: (await cache.sismember(`repository::${repository}::blobs`, digest)) === 1,
    repoHash: (await cache.exists(`repository::${repository}::blobs::${digest}`)) === 1,
  };
}

export function dataKey(stack: Stack, digest: string): string {
  return blobDataKey(stack.root, digest);
}

export async function deleteObject(stack: Stack, key: string): Promise<void> {
  await stack.s3.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
}

export async function objectExists(stack: Stack, key: string): Promise<boolean> {
  try {
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return false;
    throw err;
  }
}

/** `finding` lines (or `action` lines) about `repository`, optionally of one kind/digest. */
export function linesFor(
  stack: Stack,
  event: 'finding' | 'action',
  repository: string,
  kind?: string,
  digest?: string
): LocalEvent[] {
  return stack.pg.events(event).filter((e) => matches(e, repository, kind, digest));
}

export function matches(
  e: LocalEvent,
  repository: string,
  kind?: string,
  digest?: string
): boolean {
  const f = findingOf(e);
  return (
    f.repository === repository &&
    (kind === undefined || f.kind === kind) &&
    (digest === undefined || f.digest === digest)
  );
}

/** Waits for a `finding` or `action` line about (repository, kind[, digest]). */
export function waitLine(
  stack: Stack,
  event: 'finding' | 'action',
  repository: string,
  kind: string,
  digest?: string,
  timeoutMs = 30_000
) {
  return stack.pg.waitFor((e) => e.event === event && matches(e, repository, kind, digest), {
    timeoutMs,
    what: `${event} ${kind} ${repository}${digest ? `@${digest}` : ''}`,
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

const webhookTemplate = readFileSync(
  join(
    import.meta.dirname,
    '..',
    'fixtures',
    'harbor-webhooks',
    'harbor_webhook_push_artifact_default.json'
  ),
  'utf8'
);

/** POSTs a Harbor PUSH_ARTIFACT webhook (Default format) for `repository`@`digest`:`tag`. */
export function postPushWebhook(
  stack: Stack,
  repository: string,
  digest: string,
  tag: string,
  auth: string | undefined = WEBHOOK_TOKEN
): Promise<Response> {
  const body = JSON.parse(webhookTemplate) as {
    occur_at: number;
    event_data: {
      resources: { digest: string; tag: string; resource_url: string }[];
      repository: { name: string; namespace: string; repo_full_name: string };
    };
  };
  const [namespace, name] = repository.split('/') as [string, string];
  body.occur_at = Math.floor(Date.now() / 1000);
  body.event_data.resources = [
    { digest, tag, resource_url: `harbor.example.com/${repository}:${tag}` },
  ];
  body.event_data.repository = {
    ...body.event_data.repository,
    name,
    namespace,
    repo_full_name: repository,
  };
  return fetch(stack.pg.ready.webhookUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
}

/**
 * Waits on an event, not a clock: a webhook for a digest that never reaches storage is reported
 * (webhook-without-commit) when its window closes, and windows close in time order, so once its
 * finding line is out every window of an older event has closed and been reported.
 */
export async function windowsClosedUpToNow(stack: Stack, markerRepository: string): Promise<void> {
  const digest = `sha256:${createHash('sha256').update(markerRepository).digest('hex')}`;
  const res = await postPushWebhook(stack, markerRepository, digest, 'marker');
  if (res.status >= 300) throw new Error(`marker webhook answered ${res.status}`);
  await waitLine(stack, 'finding', markerRepository, 'webhook-without-commit', digest);
}

/**
 * Removes M's data, waits for PushGuard to clear `blobs::<M>` on the removal (issue 12's
 * clear-on-removal), then puts that very entry back, as a second registry sharing this Redis DB
 * would (harbor#14902): the stale key a re-push then meets is one only the revision-link rule finds.
 */
export async function removeAndRecache(stack: Stack, m: string): Promise<void> {
  const dump = await stack.cache.dumpBuffer(`blobs::${m}`);
  if (!dump) throw new Error(`blobs::${m} is not cached`);
  const from = stack.pg.received.length;
  await deleteObject(stack, dataKey(stack, m));
  await stack.pg.waitFor(
    (e) =>
      e.event === 'action' &&
      findingOf(e).kind === 'blob-data-removed' &&
      findingOf(e).digest === m,
    { from, what: `the removal action for ${m}` }
  );
  if ((await stack.cache.exists(`blobs::${m}`)) !== 0) throw new Error(`blobs::${m} not cleared`);
  await stack.cache.restore(`blobs::${m}`, 0, dump);
}
