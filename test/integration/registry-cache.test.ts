/**
 * RedisRegistryCache against the real redis-server: DB checks (R6), allow-list (R5), snapshots,
 * compare-and-delete (R8), restore (R9) and paged scans.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  classifyDbKey,
  RedisRegistryCache,
  RestoreConflictError,
} from '../../lambdas/adapters/redis-registry-cache.ts';
import { SafetyRefusalError } from '../../lambdas/domain/errors.ts';
import {
  type CacheKeyRef,
  cacheLayerKeysFor,
  isAllowListed,
  registryKeysFor,
} from '../../lambdas/domain/remediation.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import {
  clearDb,
  connectFailFast,
  contentOf,
  digestOf,
  dumpDb,
  dumpKeys,
  seedBlob,
  seedCacheLayer,
  seedCoreCacheDecoys,
  seedFromTrace,
  seedJobserviceDecoys,
  seedManifest,
} from '../support/seed-registry-cache.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
const STALE = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';
const LAYER = 'sha256:3a675ba150168bfe3bff53b39a3b926d510887d6379dc8da950cd142873f55ff';

let dbs: number[];
const clients: Redis[] = [];
async function client(db: number): Promise<Redis> {
  const c = await connectFailFast(redisUrl(), db);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dbs = await allocateDbs(6);
});
afterAll(() => {
  for (const c of clients) c.disconnect();
});

describe('RedisRegistryCache construction', () => {
  it('R8 offline queue: refuses a client built with the ioredis defaults', () => {
    const unsafe = new Redis(redisUrl(), { lazyConnect: true });
    expect(() => new RedisRegistryCache(unsafe, { store: 'registry' })).toThrow(SafetyRefusalError);
    expect(() => new RedisRegistryCache(unsafe, { store: 'registry' })).toThrow(
      /enableOfflineQueue: false and autoResendUnfulfilledCommands: false/
    );
    unsafe.disconnect();
  });
  it('R8 offline queue: refuses a client that would resend unfulfilled commands', () => {
    const c = new Redis(redisUrl(), {
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: 1000,
    });
    expect(() => new RedisRegistryCache(c, { store: 'registry' })).toThrow(
      /autoResendUnfulfilledCommands: false/
    );
    c.disconnect();
  });
  it('accepts a fail-fast client', async () => {
    const c = await client(dbs[0]!);
    expect(new RedisRegistryCache(c, { store: 'registry' }).store).toBe('registry');
  });
});

describe('R6 DB check: assertLooksLikeRegistryDb', () => {
  it('classifies sample keys', () => {
    expect(classifyDbKey(`blobs::${STALE}`)).toBe('registry');
    expect(classifyDbKey('repository::library/lock::blobs')).toBe('registry');
    expect(classifyDbKey('{harbor_job_service_namespace}:known_jobs')).toBe('jobservice');
    expect(classifyDbKey('{harbor_job_service_namespace}:jobs:GARBAGE_COLLECTION')).toBe(
      'jobservice'
    );
    expect(classifyDbKey('cache:project:name:library')).toBe('core');
    expect(classifyDbKey('something-else')).toBe('other');
  });

  it('R6 a jobservice-like DB is refused, naming the DB', async () => {
    const db = dbs[0]!;
    const c = await client(db);
    await clearDb(c);
    await seedJobserviceDecoys(c);
    const cache = new RedisRegistryCache(c, { store: 'registry' });
    const err = await cache.assertLooksLikeRegistryDb().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyRefusalError);
    expect(String(err)).toContain(`db ${db}`);
    expect(String(err)).toMatch(/jobservice/);
    // and nothing can be deleted there
    await expect(
      cache.compareAndDelete([
        { store: 'registry', key: `blobs::${STALE}`, type: 'hash', hash: {}, pttl: -1 },
      ])
    ).rejects.toThrow(SafetyRefusalError);
  });

  it('R6 a registry DB that also holds jobservice keys is refused', async () => {
    const c = await client(dbs[0]!);
    await clearDb(c);
    await seedFromTrace(c, TRACE, 'BEFORE');
    await seedJobserviceDecoys(c);
    await expect(
      new RedisRegistryCache(c, { store: 'registry' }).assertLooksLikeRegistryDb()
    ).rejects.toThrow(/jobservice/);
  });

  it('R6 Harbor core DB (cache:, sessions) and an empty DB are refused as registry DBs', async () => {
    const c = await client(dbs[0]!);
    await clearDb(c);
    await expect(
      new RedisRegistryCache(c, { store: 'registry' }).assertLooksLikeRegistryDb()
    ).rejects.toThrow(/no blobs:: or repository:: key/);
    await seedCoreCacheDecoys(c);
    await expect(
      new RedisRegistryCache(c, { store: 'registry' }).assertLooksLikeRegistryDb()
    ).rejects.toThrow(/Harbor core key/);
  });

  it('accepts the DB a real registry wrote, and caches the positive answer', async () => {
    const c = await client(dbs[0]!);
    await clearDb(c);
    await seedFromTrace(c, TRACE, 'BEFORE');
    const cache = new RedisRegistryCache(c, { store: 'registry' });
    await cache.assertLooksLikeRegistryDb();
    await seedJobserviceDecoys(c); // only a new instance samples again
    await expect(cache.assertLooksLikeRegistryDb()).resolves.toBeUndefined();
    await expect(
      new RedisRegistryCache(c, { store: 'registry' }).assertLooksLikeRegistryDb()
    ).rejects.toThrow(SafetyRefusalError);
  });

  it('cache-layer store: wants cache: keys and refuses registry or jobservice DBs', async () => {
    const c = await client(dbs[0]!);
    await clearDb(c);
    await seedCoreCacheDecoys(c);
    await new RedisRegistryCache(c, { store: 'cache-layer' }).assertLooksLikeRegistryDb();
    await seedManifest(c, { digest: STALE, size: 590 });
    await expect(
      new RedisRegistryCache(c, { store: 'cache-layer' }).assertLooksLikeRegistryDb()
    ).rejects.toThrow(/registry key/);
  });
});

describe('snapshot', () => {
  let c: Redis;
  let cache: RedisRegistryCache;
  beforeEach(async () => {
    c = await client(dbs[1]!);
    await clearDb(c);
    await seedFromTrace(c, TRACE, 'BEFORE');
    cache = new RedisRegistryCache(c, { store: 'registry' });
  });

  it('reads full content, member presence and PTTL; absent keys are left out', async () => {
    const refs = [
      ...registryKeysFor('library/stale', LAYER),
      ...registryKeysFor('library/stale', STALE), // the manifest: only blobs:: exists
    ];
    const snaps = await cache.snapshot(refs);
    expect(snaps.map((s) => s.key)).toEqual([
      `blobs::${LAYER}`,
      'repository::library/stale::blobs',
      `repository::library/stale::blobs::${LAYER}`,
      `blobs::${STALE}`,
    ]);
    expect(snaps[0]).toEqual({
      store: 'registry',
      key: `blobs::${LAYER}`,
      type: 'hash',
      pttl: -1,
      hash: { digest: LAYER, size: '1049036', mediatype: 'application/octet-stream' },
    });
    expect(snaps[1]).toMatchObject({ type: 'set-member', member: LAYER, pttl: -1 });
    expect(snaps[1]!.hash).toBeUndefined();
  });

  it('keeps non-UTF-8 hash bytes exactly, as base64', async () => {
    const d = digestOf('binary');
    const raw = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    await c.hset(`blobs::${d}`, 'digest', d, 'size', raw);
    const [s] = await cache.snapshot([{ store: 'registry', key: `blobs::${d}`, type: 'hash' }]);
    expect(s?.encoding).toBe('base64');
    expect(Buffer.from(s!.hash![Buffer.from('size').toString('base64')]!, 'base64')).toEqual(raw);
  });

  it('refuses a key of an unexpected type', async () => {
    const d = digestOf('wrong-type');
    await c.set(`blobs::${d}`, 'x');
    await expect(
      cache.snapshot([{ store: 'registry', key: `blobs::${d}`, type: 'hash' }])
    ).rejects.toThrow(/is a string, expected a hash/);
  });

  it('refuses refs of the other store', async () => {
    await expect(cache.snapshot(cacheLayerKeysFor('library/stale', STALE))).rejects.toThrow(
      /cache-layer store/
    );
  });
});

describe('R5 allow-list', () => {
  const globChars = fc.constantFrom('*', '?', '[', ']', '\\');
  const dirty = (base: string) =>
    fc
      .tuple(fc.nat({ max: base.length }), fc.array(globChars, { minLength: 1, maxLength: 3 }))
      .map(([at, cs]) => base.slice(0, at) + cs.join('') + base.slice(at));

  it('R5 allow-list: fuzzed digests and repositories with * ? [ ] are rejected and nothing changes', async () => {
    const c = await client(dbs[2]!);
    await clearDb(c);
    await seedFromTrace(c, TRACE, 'BEFORE');
    const before = await dumpDb(c);
    const cache = new RedisRegistryCache(c, { store: 'registry' });
    await fc.assert(
      fc.asyncProperty(dirty('library/stale'), dirty(STALE), async (repo, digest) => {
        expect(() => registryKeysFor(repo, STALE)).toThrow();
        expect(() => registryKeysFor('library/stale', digest)).toThrow();
        const refs: CacheKeyRef[] = [
          { store: 'registry', key: `blobs::${digest}`, type: 'hash' },
          { store: 'registry', key: `repository::${repo}::blobs::${STALE}`, type: 'hash' },
          {
            store: 'registry',
            key: `repository::${repo}::blobs`,
            type: 'set-member',
            member: STALE,
          },
          {
            store: 'registry',
            key: 'repository::library/stale::blobs',
            type: 'set-member',
            member: digest,
          },
        ];
        for (const ref of refs) {
          expect(isAllowListed(ref) && !/[*?[\]\\]/.test(ref.key + (ref.member ?? ''))).toBe(false);
          await expect(cache.snapshot([ref])).rejects.toThrow(SafetyRefusalError);
          await expect(cache.compareAndDelete([{ ...ref, hash: {}, pttl: -1 }])).rejects.toThrow(
            SafetyRefusalError
          );
          await expect(cache.restore([{ ...ref, hash: { a: 'b' }, pttl: -1 }])).rejects.toThrow(
            SafetyRefusalError
          );
        }
      }),
      { numRuns: 60 }
    );
    expect(await dumpDb(c)).toEqual(before);
  });

  it('R5 allow-list: keys that are not PushGuard shapes are refused even when well-formed', async () => {
    const c = await client(dbs[2]!);
    const cache = new RedisRegistryCache(c, { store: 'registry' });
    const refs: CacheKeyRef[] = [
      { store: 'registry', key: 'cache:project:name:library', type: 'hash' },
      {
        store: 'registry',
        key: '{harbor_job_service_namespace}:known_jobs',
        type: 'set-member',
        member: STALE,
      },
      { store: 'registry', key: `blobs::${STALE}`, type: 'string' },
      { store: 'registry', key: `repository::Library/Stale::blobs::${STALE}`, type: 'hash' },
      { store: 'registry', key: `repository::a//b::blobs::${STALE}`, type: 'hash' },
      { store: 'registry', key: `blobs::${STALE.toUpperCase()}`, type: 'hash' },
      { store: 'registry', key: `blobs::sha512:${'a'.repeat(128)}`, type: 'hash' },
    ];
    for (const ref of refs) {
      await expect(cache.snapshot([ref])).rejects.toThrow(/outside the allow-list/);
    }
  });

  it('R5 allow-list: an empty candidate list deletes nothing', async () => {
    const c = await client(dbs[2]!);
    await clearDb(c);
    await seedFromTrace(c, TRACE, 'BEFORE');
    const before = await dumpDb(c);
    const cache = new RedisRegistryCache(c, { store: 'registry' });
    expect(await cache.snapshot([])).toEqual([]);
    expect(await cache.compareAndDelete([])).toEqual({ deleted: [], changed: [] });
    expect(await dumpDb(c)).toEqual(before);
  });

  it('R5 allow-list: decoys (other repositories, core cache, jobservice DBs) are untouched', async () => {
    const [regDb, coreDb, jobDb] = [dbs[3]!, dbs[4]!, dbs[5]!];
    const reg = await client(regDb);
    const core = await client(coreDb);
    const jobs = await client(jobDb);
    for (const c of [reg, core, jobs]) await clearDb(c);
    await seedFromTrace(reg, TRACE, 'BEFORE');
    await reg.set('pushguard-decoy:unrelated', 'keep me');
    await seedCoreCacheDecoys(core);
    await seedCacheLayer(core, 'library/stale', STALE);
    await seedJobserviceDecoys(jobs);
    const regBefore = await dumpDb(reg);
    const coreBefore = await dumpDb(core);
    const jobsBefore = await dumpDb(jobs);

    const cache = new RedisRegistryCache(reg, { store: 'registry' });
    // library/stale's layer is also cached for other repositories: only its own keys go.
    const snaps = await cache.snapshot(registryKeysFor('library/stale', LAYER));
    const res = await cache.compareAndDelete(snaps);
    expect(res.deleted.sort()).toEqual(
      [
        `blobs::${LAYER}`,
        `repository::library/stale::blobs ${LAYER}`,
        `repository::library/stale::blobs::${LAYER}`,
      ].sort()
    );
    const touched = new Set([`blobs::${LAYER}`, `repository::library/stale::blobs::${LAYER}`]);
    const regAfter = await dumpDb(reg);
    const untouched = regBefore.filter(
      (k) => !touched.has(k.key) && k.key !== 'repository::library/stale::blobs'
    );
    expect(regAfter.filter((k) => untouched.some((u) => u.key === k.key))).toEqual(untouched);
    expect(await reg.smembers('repository::library/stale::blobs')).not.toContain(LAYER);
    expect((await reg.smembers('repository::library/stale::blobs')).length).toBe(2);
    expect(await dumpDb(core)).toEqual(coreBefore);
    expect(await dumpDb(jobs)).toEqual(jobsBefore);
  });
});

describe('R8 compare-and-delete', () => {
  let c: Redis;
  let cache: RedisRegistryCache;
  beforeEach(async () => {
    c = await client(dbs[1]!);
    await clearDb(c);
    await seedFromTrace(c, TRACE, 'BEFORE');
    cache = new RedisRegistryCache(c, { store: 'registry' });
  });

  it('R8 compare-and-delete: a concurrent HSET between snapshot and delete keeps that key', async () => {
    const snaps = await cache.snapshot(registryKeysFor('library/stale', LAYER));
    await c.hset(`blobs::${LAYER}`, 'size', '1'); // the registry re-cached it meanwhile
    const res = await cache.compareAndDelete(snaps);
    expect(res.changed).toEqual([`blobs::${LAYER}`]);
    expect(res.deleted).toHaveLength(2);
    expect(await c.hgetall(`blobs::${LAYER}`)).toMatchObject({ size: '1', digest: LAYER });
    expect(await c.exists(`repository::library/stale::blobs::${LAYER}`)).toBe(0);
  });

  it('R8 compare-and-delete: an added field or a removed set member counts as changed', async () => {
    const snaps = await cache.snapshot(registryKeysFor('library/stale', LAYER));
    await c.hset(`repository::library/stale::blobs::${LAYER}`, 'extra', 'x');
    await c.srem('repository::library/stale::blobs', LAYER);
    const res = await cache.compareAndDelete(snaps);
    expect(res.deleted).toEqual([`blobs::${LAYER}`]);
    expect(res.changed.sort()).toEqual(
      [
        `repository::library/stale::blobs ${LAYER}`,
        `repository::library/stale::blobs::${LAYER}`,
      ].sort()
    );
    expect(await c.exists(`repository::library/stale::blobs::${LAYER}`)).toBe(1);
  });

  it('R8 compare-and-delete: a cache-layer string is deleted only with the same bytes', async () => {
    const core = await client(dbs[4]!);
    await clearDb(core);
    await seedCoreCacheDecoys(core);
    await seedCacheLayer(core, 'library/stale', STALE);
    const layer = new RedisRegistryCache(core, { store: 'cache-layer' });
    const snaps = await layer.snapshot(cacheLayerKeysFor('library/stale', STALE));
    expect(snaps).toHaveLength(2);
    expect(snaps[0]!.pttl).toBeGreaterThan(0);
    await core.set(snaps[1]!.key, 'rewritten', 'EX', 100);
    const res = await layer.compareAndDelete(snaps);
    expect(res).toEqual({ deleted: [snaps[0]!.key], changed: [snaps[1]!.key] });
    expect(await core.get(snaps[1]!.key)).toBe('rewritten');
  });
});

describe('R9 restore', () => {
  let c: Redis;
  let cache: RedisRegistryCache;
  beforeEach(async () => {
    c = await client(dbs[1]!);
    await clearDb(c);
    await seedFromTrace(c, TRACE, 'BEFORE');
    cache = new RedisRegistryCache(c, { store: 'registry' });
  });

  it('R9 restore: after a real delete, restore is byte-identical (hash fields and values, set members)', async () => {
    const d = digestOf('binary-restore');
    await seedBlob(c, 'library/stale', { digest: d, size: 5 });
    await c.hset(`blobs::${d}`, Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0x00, 0x80]));
    const refs = [
      ...registryKeysFor('library/stale', LAYER),
      ...registryKeysFor('library/stale', d),
    ];
    const keys = [...new Set(refs.map((r) => r.key))];
    const before = await contentOf(c, keys);

    const snaps = await cache.snapshot(refs);
    const json = JSON.parse(JSON.stringify(snaps)); // as written to and read from the audit log
    const res = await cache.compareAndDelete(snaps);
    expect(res.deleted).toHaveLength(6);
    expect(await c.exists(...keys.filter((k) => k.startsWith('blobs::')))).toBe(0);

    const restored = await cache.restoreSnapshots(json);
    expect(restored.restored).toHaveLength(6);
    expect(await contentOf(c, keys)).toEqual(before);
  });

  it('R9 restore: refuses to overwrite different content unless forced; identical is a no-op', async () => {
    const snaps = await cache.snapshot(registryKeysFor('library/stale', LAYER));
    await cache.compareAndDelete(snaps);
    await c.hset(`blobs::${LAYER}`, 'digest', LAYER, 'size', '7'); // re-cached differently
    const before = await dumpDb(c);
    const err = await cache.restoreSnapshots(snaps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreConflictError);
    expect((err as RestoreConflictError).conflicts).toEqual([`blobs::${LAYER}`]);
    expect(await dumpDb(c)).toEqual(before); // all or nothing
    const forced = await cache.restoreSnapshots(snaps, { force: true });
    expect(forced.overwritten).toEqual([`blobs::${LAYER}`]);
    expect(await c.hgetall(`blobs::${LAYER}`)).toEqual(snaps[0]!.hash);
    const again = await cache.restoreSnapshots(snaps);
    expect(again.restored).toEqual([]);
    expect(again.unchanged).toHaveLength(3);
  });

  it('R9 restore: strings come back with their TTL', async () => {
    const core = await client(dbs[4]!);
    await clearDb(core);
    await seedCoreCacheDecoys(core);
    await seedCacheLayer(core, 'library/stale', STALE, Buffer.from([0, 1, 2, 0xff]), 3600);
    const layer = new RedisRegistryCache(core, { store: 'cache-layer' });
    const keys = cacheLayerKeysFor('library/stale', STALE);
    const before = await dumpKeys(
      core,
      keys.map((k) => k.key)
    );
    const snaps = await layer.snapshot(keys);
    await layer.compareAndDelete(snaps);
    await layer.restore(snaps);
    const after = await dumpKeys(
      core,
      keys.map((k) => k.key)
    );
    expect(after).toEqual(before);
    expect(after.every((k) => k.hasTtl)).toBe(true);
  });
});

describe('scans', () => {
  it('pages blobs:: descriptors and repository sets with SCAN/SSCAN, lazily', async () => {
    const c = await client(dbs[2]!);
    await clearDb(c);
    const p = c.pipeline();
    const all: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const d = digestOf(`scan-${i}`);
      all.push(d);
      p.hset(`blobs::${d}`, 'digest', d, 'size', '1', 'mediatype', 'x');
      p.sadd(`repository::team/r${i % 3}::blobs`, d);
    }
    p.set('cache:project:id:1', 'decoy').hset('repository::team/r0::blobs::x', 'a', 'b');
    await p.exec();
    const cache = new RedisRegistryCache(c, { store: 'registry' });

    const pages: string[][] = [];
    for await (const page of cache.scanBlobDescriptors(100)) pages.push(page);
    expect(pages.length).toBeGreaterThan(10);
    expect(pages.flat().sort()).toEqual([...new Set(all)].sort());

    // lazy: the first page arrives before the scan is over
    const it0 = cache.scanBlobDescriptors(100)[Symbol.asyncIterator]();
    const first = await it0.next();
    expect(first.done).toBe(false);
    await it0.return?.();

    const byRepo = new Map<string, string[]>();
    let setPages = 0;
    for await (const { repository, digests } of cache.scanRepositoryBlobSets(100)) {
      setPages++;
      byRepo.set(repository, [...(byRepo.get(repository) ?? []), ...digests]);
    }
    expect([...byRepo.keys()].sort()).toEqual(['team/r0', 'team/r1', 'team/r2']);
    expect(byRepo.get('team/r1')).toHaveLength(1000);
    expect(setPages).toBeGreaterThan(3);
  });
});
