/**
 * Seeds a Redis DB exactly as distribution v2.8's Redis blob-descriptor cache writes it
 * (harbor-internals.md §3.1, `registry/storage/cache/redis/redis.go`), plus the decoys PushGuard
 * must never touch: Harbor core's `cache:*` msgpack entries and jobservice (gocraft/work) keys.
 *
 * Used by the remediator, audit sweep, e2e tests and benchmarks. Every function takes a connected
 * ioredis client already on the DB to seed.
 *
 *   seedBlob / seedManifest      one descriptor, with the same commands the registry sends
 *   seedFromTrace                the `*.redis.txt` dumps recorded from a real registry
 *   seedStaleManifests           n random manifest descriptors (bulk, pipelined)
 *   seedCoreCacheDecoys          Harbor core `cache:project:*`, `cache:manifest:digest:*`, ...
 *   seedJobserviceDecoys         `{harbor_job_service_namespace}:jobs:...`, `:known_jobs`, ...
 *   seedCacheLayer               `cache:manifest:digest:<d>` + `cache:artifact:repository:...`
 *   dumpKeys / dumpDb            byte-exact picture of keys (DUMP + PTTL) to prove "untouched"
 *   contentOf / contentOfDb      byte-exact content (hash pairs, members, bytes) to prove a restore;
 *                                DUMP of a hashtable-encoded hash or set depends on insertion
 *                                history (`blobs::` hashes are: their digest value is > 64 bytes)
 *   clearDb                      FLUSHDB of the test's own DB (test support only)
 *   connectFailFast              a client RedisRegistryCache accepts (no offline queue, no resend)
 */
import { createHash, randomBytes } from 'node:crypto';
import { encode } from '@msgpack/msgpack';
import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_LAYER_MEDIATYPE = 'application/octet-stream';
export const JOBSERVICE_NAMESPACE = '{harbor_job_service_namespace}';

/** `sha256:` + hex of the sha256 of `seed` (deterministic digests for tests). */
export function digestOf(seed: string | Buffer): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/** A random, valid sha256 digest. */
export function randomDigest(): string {
  return `sha256:${randomBytes(32).toString('hex')}`;
}

export interface BlobDescriptor {
  digest: string;
  size: number;
  mediatype?: string;
}

/**
 * The global descriptor, as `redisBlobDescriptorService.setDescriptor`:
 * `HMSET blobs::<d> digest <d> size <n>` then `HSETNX blobs::<d> mediatype <mt>`.
 * This alone is what a manifest leaves behind in v2.8 (no repository-scoped manifest cache).
 */
export async function seedManifest(client: Redis, desc: BlobDescriptor): Promise<void> {
  await client
    .multi()
    .hmset(`blobs::${desc.digest}`, 'digest', desc.digest, 'size', String(desc.size))
    .hsetnx(`blobs::${desc.digest}`, 'mediatype', desc.mediatype ?? DEFAULT_LAYER_MEDIATYPE)
    .exec();
}

/**
 * A layer or config blob committed through a repository, as
 * `repositoryScopedRedisBlobDescriptorService.setDescriptor`: `SADD repository::<r>::blobs <d>`,
 * the global descriptor, then `HSET repository::<r>::blobs::<d> mediatype <mt>`.
 */
export async function seedBlob(
  client: Redis,
  repository: string,
  desc: BlobDescriptor
): Promise<void> {
  const mt = desc.mediatype ?? DEFAULT_LAYER_MEDIATYPE;
  await client
    .multi()
    .sadd(`repository::${repository}::blobs`, desc.digest)
    .hmset(`blobs::${desc.digest}`, 'digest', desc.digest, 'size', String(desc.size))
    .hsetnx(`blobs::${desc.digest}`, 'mediatype', mt)
    .hset(`repository::${repository}::blobs::${desc.digest}`, 'mediatype', mt)
    .exec();
}

/** The keys `seedBlob` writes for (repository, digest), set member last. */
export function registryKeysOf(repository: string | undefined, digest: string): string[] {
  if (!repository) return [`blobs::${digest}`];
  return [
    `blobs::${digest}`,
    `repository::${repository}::blobs::${digest}`,
    `repository::${repository}::blobs`,
  ];
}

export interface TraceKey {
  key: string;
  type: 'hash' | 'set';
  ttl: number;
  /** hash: field → value in the recorded order; set: members. */
  fields?: [string, string][];
  members?: string[];
}

/**
 * Parses one section (`BEFORE` or `AFTER`) of a `*.redis.txt` trace dump:
 * `<key> (hash, ttl=-1): f1 v1 f2 v2` and `<key> (set, ttl=-1): m1 m2`.
 */
export function parseTrace(text: string, section: 'BEFORE' | 'AFTER'): TraceKey[] {
  const out: TraceKey[] = [];
  let inSection = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      inSection = line.startsWith(`## ${section} `);
      continue;
    }
    if (!inSection) continue;
    const m = /^(\S+) \((hash|set), ttl=(-?\d+)\): ?(.*)$/.exec(line);
    if (!m) continue;
    const [, key, type, ttl, rest] = m as unknown as [
      string,
      string,
      'hash' | 'set',
      string,
      string,
    ];
    const words = rest.split(' ').filter((w) => w !== '');
    if (type === 'hash') {
      const fields: [string, string][] = [];
      for (let i = 0; i + 1 < words.length; i += 2) fields.push([words[i]!, words[i + 1]!]);
      out.push({ key, type, ttl: Number(ttl), fields });
    } else {
      out.push({ key, type, ttl: Number(ttl), members: words });
    }
  }
  return out;
}

/**
 * Seeds a trace section. Descriptor hashes get the registry's write order (digest, size, then
 * mediatype), whatever order the dump printed them in.
 */
export async function seedFromTrace(
  client: Redis,
  text: string,
  section: 'BEFORE' | 'AFTER'
): Promise<TraceKey[]> {
  const keys = parseTrace(text, section);
  const order = ['digest', 'size', 'mediatype'];
  const multi = client.multi();
  for (const k of keys) {
    if (k.type === 'hash') {
      const fields = [...(k.fields ?? [])].sort(
        (a, b) => rank(order, a[0]) - rank(order, b[0]) || a[0].localeCompare(b[0])
      );
      multi.hset(k.key, ...fields.flat());
    } else {
      multi.sadd(k.key, ...(k.members ?? []));
    }
    if (k.ttl > 0) multi.expire(k.key, k.ttl);
  }
  await multi.exec();
  return keys;
}

function rank(order: string[], field: string): number {
  const i = order.indexOf(field);
  return i === -1 ? order.length : i;
}

/**
 * `n` manifest descriptors (`blobs::<d>` only), pipelined in chunks. Returns their digests.
 * Memory stays bounded by `chunk`, so benchmarks can seed millions.
 */
export async function seedStaleManifests(
  client: Redis,
  n: number,
  opts: { size?: number; chunk?: number; digest?: (i: number) => string } = {}
): Promise<string[]> {
  const chunk = opts.chunk ?? 1000;
  const digests: string[] = [];
  for (let start = 0; start < n; start += chunk) {
    const p = client.pipeline();
    for (let i = start; i < Math.min(n, start + chunk); i++) {
      const d = opts.digest ? opts.digest(i) : digestOf(`stale-manifest-${i}`);
      digests.push(d);
      p.hmset(`blobs::${d}`, 'digest', d, 'size', String(opts.size ?? 528 + (i % 100)));
      p.hsetnx(`blobs::${d}`, 'mediatype', DEFAULT_LAYER_MEDIATYPE);
    }
    await p.exec();
  }
  return digests;
}

/** One image pushed to `repository`: layers + config through the repository, then the manifest. */
export async function seedImage(
  client: Redis,
  repository: string,
  opts: { layers?: number; seed?: string } = {}
): Promise<{ manifest: string; blobs: string[] }> {
  const seed = opts.seed ?? repository;
  const blobs: string[] = [];
  for (let i = 0; i <= (opts.layers ?? 2); i++) {
    const d = digestOf(`${seed}-blob-${i}`);
    blobs.push(d);
    await seedBlob(client, repository, { digest: d, size: 1000 + i });
  }
  const manifest = digestOf(`${seed}-manifest`);
  await seedManifest(client, { digest: manifest, size: 528 });
  return { manifest, blobs };
}

/**
 * Harbor core cache-layer decoys (DB 0 in 2.7.x): msgpack strings with a TTL, as
 * `src/lib/cache` writes them (`SET key <msgpack> EX <expire_hours*3600>`).
 */
export async function seedCoreCacheDecoys(client: Redis): Promise<string[]> {
  const ex = 24 * 3600;
  const manifestDigest = digestOf('decoy-manifest');
  const entries: [string, unknown][] = [
    ['cache:project:name:library', { ProjectID: 1, Name: 'library', OwnerID: 1 }],
    ['cache:project:id:1', { ProjectID: 1, Name: 'library', OwnerID: 1 }],
    ['cache:project_metadata:projectID:1:meta:public', { public: 'true' }],
    ['cache:repository:name:library/app', { RepositoryID: 7, Name: 'library/app' }],
    ['cache:artifact:id:42', { ID: 42, Digest: manifestDigest, RepositoryName: 'library/app' }],
    [`cache:manifest:digest:${manifestDigest}`, Buffer.from('{"schemaVersion":2}')],
  ];
  const multi = client.multi();
  for (const [key, value] of entries) multi.set(key, Buffer.from(encode(value)), 'EX', ex);
  await multi.exec();
  return entries.map(([k]) => k);
}

/** Jobservice (gocraft/work) keys under Harbor's namespace: a job queue DB. */
export async function seedJobserviceDecoys(client: Redis): Promise<string[]> {
  const ns = JOBSERVICE_NAMESPACE;
  const job = JSON.stringify({ name: 'GARBAGE_COLLECTION', id: 'b6d3a1', args: {} });
  await client
    .multi()
    .sadd(`${ns}:known_jobs`, 'GARBAGE_COLLECTION', 'IMAGE_SCAN', 'WEBHOOK')
    .lpush(`${ns}:jobs:GARBAGE_COLLECTION`, job)
    .hset(`${ns}:job_stats:b6d3a1`, 'status', 'Pending', 'job_name', 'GARBAGE_COLLECTION')
    .sadd(`${ns}:worker_pools`, 'f3a9c0')
    .zadd(`${ns}:scheduled`, 1_700_000_000, job)
    .exec();
  return [
    `${ns}:known_jobs`,
    `${ns}:jobs:GARBAGE_COLLECTION`,
    `${ns}:job_stats:b6d3a1`,
    `${ns}:worker_pools`,
    `${ns}:scheduled`,
  ];
}

/**
 * Harbor core cache-layer entries for one artifact: `cache:manifest:digest:<d>` holds the manifest
 * bytes as msgpack bin; `cache:artifact:repository:<r>:digest:<d>` a msgpack map.
 */
export async function seedCacheLayer(
  client: Redis,
  repository: string,
  digest: string,
  manifest: Buffer = Buffer.from('{"schemaVersion":2,"layers":[]}'),
  ttlSeconds = 24 * 3600
): Promise<string[]> {
  const keys = [
    `cache:manifest:digest:${digest}`,
    `cache:artifact:repository:${repository}:digest:${digest}`,
  ];
  await client
    .multi()
    .set(keys[0]!, Buffer.from(encode(manifest)), 'EX', ttlSeconds)
    .set(
      keys[1]!,
      Buffer.from(encode({ ID: 42, Digest: digest, RepositoryName: repository })),
      'EX',
      ttlSeconds
    )
    .exec();
  return keys;
}

export interface KeyDump {
  key: string;
  /** `DUMP` payload (type, encoding and bytes), or null when the key does not exist. */
  dump: Buffer | null;
  /** PTTL, -1 without expiry; compare `hasTtl` rather than the millisecond value. */
  hasTtl: boolean;
}

/** Byte-exact pictures of `keys`, to prove they were left untouched. */
export async function dumpKeys(client: Redis, keys: readonly string[]): Promise<KeyDump[]> {
  const p = client.pipeline();
  for (const k of keys) p.dumpBuffer(k).pttl(k);
  const res = (await p.exec()) ?? [];
  return keys.map((key, i) => {
    const dump = res[2 * i]?.[1] as Buffer | null;
    const pttl = res[2 * i + 1]?.[1] as number;
    return { key, dump, hasTtl: pttl >= 0 };
  });
}

/** Every key of the DB (SCAN), sorted, with its DUMP. For small test DBs. */
export async function dumpDb(client: Redis): Promise<KeyDump[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...page);
  } while (cursor !== '0');
  keys.sort();
  return dumpKeys(client, keys);
}

export interface KeyContent {
  key: string;
  type: string;
  hasTtl: boolean;
  /** hash: [field, value] as base64, sorted. */
  hash?: [string, string][];
  /** set: members as base64, sorted. */
  members?: string[];
  /** string: base64 bytes; other types: base64 DUMP. */
  value?: string;
}

/** Byte-exact content of `keys`, independent of the internal encoding and insertion order. */
export async function contentOf(client: Redis, keys: readonly string[]): Promise<KeyContent[]> {
  const out: KeyContent[] = [];
  for (const key of keys) {
    const type = await client.type(key);
    const hasTtl = (await client.pttl(key)) >= 0;
    const b64 = (b: Buffer) => b.toString('base64');
    if (type === 'hash') {
      const flat = (await client.callBuffer('HGETALL', key)) as Buffer[];
      const hash: [string, string][] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) hash.push([b64(flat[i]!), b64(flat[i + 1]!)]);
      hash.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      out.push({ key, type, hasTtl, hash });
    } else if (type === 'set') {
      const members = ((await client.smembersBuffer(key)) as Buffer[]).map(b64).sort();
      out.push({ key, type, hasTtl, members });
    } else if (type === 'string') {
      out.push({ key, type, hasTtl, value: b64((await client.getBuffer(key)) as Buffer) });
    } else if (type === 'none') {
      out.push({ key, type, hasTtl });
    } else {
      out.push({ key, type, hasTtl, value: b64((await client.dumpBuffer(key)) as Buffer) });
    }
  }
  return out;
}

/** `contentOf` every key of the DB (SCAN), sorted by key. For small test DBs. */
export async function contentOfDb(client: Redis): Promise<KeyContent[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...page);
  } while (cursor !== '0');
  return contentOf(client, keys.sort());
}

/** Empties the test's own DB. Test support only: PushGuard itself never flushes anything. */
export async function clearDb(client: Redis): Promise<void> {
  await client.flushdb();
}

/**
 * A connected client with the options RedisRegistryCache requires: no offline queue, no resend of
 * unfulfilled commands, a command timeout. `url` is the server (`redis://127.0.0.1:port`).
 */
export async function connectFailFast(
  url: string,
  db: number,
  extra: RedisOptions = {}
): Promise<Redis> {
  // DB 0 holds nothing of a test's own; an undefined DB would silently mean 0.
  if (!Number.isInteger(db) || db < 1)
    throw new Error(`test DB must be an allocated number ≥ 1, got ${db}`);
  const client = new Redis(url, {
    db,
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 5000,
    ...extra,
  });
  await client.connect();
  return client;
}
