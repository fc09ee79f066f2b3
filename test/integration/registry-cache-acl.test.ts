/**
 * R6 least privilege: the remediator's Redis ACL user (reliability.md §D) on the real test server.
 * The user may only touch `blobs::*` / `repository::*` keys with the commands RedisRegistryCache
 * sends; FLUSHDB, CONFIG and DEL elsewhere answer NOPERM. The user is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRegistryCache } from '../../lambdas/adapters/redis-registry-cache.ts';
import { registryKeysFor } from '../../lambdas/domain/remediation.ts';
import { allocateDbs, redisClient, redisUrl } from '../support/redis.ts';
import {
  connectFailFast,
  dumpDb,
  seedCoreCacheDecoys,
  seedFromTrace,
} from '../support/seed-registry-cache.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
const LAYER = 'sha256:3a675ba150168bfe3bff53b39a3b926d510887d6379dc8da950cd142873f55ff';

const user = `pushguard-remediator-test-${randomBytes(4).toString('hex')}`;
const password = randomBytes(16).toString('hex');
/** What the remediator needs, and nothing else (no @dangerous, no FLUSH*, no CONFIG, no KEYS). */
const RULES = [
  'on',
  `>${password}`,
  'resetkeys',
  '~blobs::*',
  '~repository::*',
  'resetchannels',
  '-@all',
  '+ping',
  '+select',
  '+scan',
  '+sscan',
  '+type',
  '+pttl',
  '+hgetall',
  '+hget',
  '+hlen',
  '+sismember',
  '+srem',
  '+unlink',
  '+del',
  '+eval',
  '+evalsha',
];

let admin: Redis;
let limited: Redis;
let db: number;

beforeAll(async () => {
  [db] = (await allocateDbs(1)) as [number];
  admin = await redisClient(db);
  await admin.flushdb();
  await seedFromTrace(admin, TRACE, 'BEFORE');
  await admin.call('ACL', 'SETUSER', user, ...RULES);
  limited = await connectFailFast(redisUrl(), db, {
    username: user,
    password,
    enableReadyCheck: false,
  });
});

afterAll(async () => {
  limited?.disconnect();
  await admin.call('ACL', 'DELUSER', user);
  admin.disconnect();
});

describe('R6 least privilege (Redis ACL user)', () => {
  it('R6 ACL: FLUSHDB answers NOPERM', async () => {
    await expect(limited.flushdb()).rejects.toThrow(/NOPERM/);
    expect(await admin.dbsize()).toBeGreaterThan(0);
  });

  it('R6 ACL: CONFIG answers NOPERM', async () => {
    await expect(limited.config('GET', 'maxmemory')).rejects.toThrow(/NOPERM/);
    await expect(limited.config('SET', 'save', '')).rejects.toThrow(/NOPERM/);
  });

  it('R6 ACL: KEYS answers NOPERM', async () => {
    await expect(limited.keys('*')).rejects.toThrow(/NOPERM/);
  });

  it('R6 ACL: DEL and UNLINK on a non-allowed prefix answer NOPERM, also from a script', async () => {
    await seedCoreCacheDecoys(admin);
    const before = await dumpDb(admin);
    await expect(limited.del('cache:project:name:library')).rejects.toThrow(/NOPERM/);
    await expect(limited.unlink('cache:project:id:1')).rejects.toThrow(/NOPERM/);
    await expect(
      limited.eval("return redis.call('DEL', KEYS[1])", 1, 'cache:project:name:library')
    ).rejects.toThrow(/NOPERM/);
    expect(await dumpDb(admin)).toEqual(before);
    await admin.del(...before.filter((k) => k.key.startsWith('cache:')).map((k) => k.key));
  });

  it('R6 ACL: the remediator works within these rights', async () => {
    const cache = new RedisRegistryCache(limited, { store: 'registry' });
    await cache.assertLooksLikeRegistryDb();
    const snaps = await cache.snapshot(registryKeysFor('library/stale', LAYER));
    expect(snaps).toHaveLength(3);
    const res = await cache.compareAndDelete(snaps);
    expect(res.deleted).toHaveLength(3);
    expect(await admin.exists(`blobs::${LAYER}`)).toBe(0);
  });
});
