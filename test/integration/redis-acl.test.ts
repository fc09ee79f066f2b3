/**
 * Least privilege inside Redis: each role's ACL user (lambdas/redis-acl.ts, the one source of the
 * README's lines and of the ElastiCache users) is created on the real test server, and each role's
 * scenario runs under its own user: webhook dedupe, ingest of a stale re-push (e1 e2 e3), the
 * window check that reports it, the remediator that clears it, and the sweep that audits the
 * registry cache. Each then tries something outside its rights and gets NOPERM.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisDedupe } from '../../lambdas/adapters/redis-dedupe.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { ingestBatch } from '../../lambdas/app/ingest.ts';
import { runSweep } from '../../lambdas/app/sweep.ts';
import { closeDueWindows } from '../../lambdas/app/window-check.ts';
import type { EngineConfig } from '../../lambdas/domain/engine.ts';
import {
  accessString,
  aclFileLine,
  REDIS_ROLES,
  type RedisRole,
  redisAcls,
} from '../../lambdas/redis-acl.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisClient, redisUrl } from '../support/redis.ts';
import {
  clearDb,
  connectFailFast,
  dumpDb,
  seedCacheLayer,
  seedCoreCacheDecoys,
  seedFromTrace,
} from '../support/seed-registry-cache.ts';
import { finding, makeRig, type Rig, STALE } from './remediate.helpers.ts';
import { collectingPublisher, manualClock, traceRecords } from './window-store.helpers.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
const ENGINE: EngineConfig = { windowMs: 60_000, reportUnverified: false, rootDirectory: 'harbor' };
const run = randomBytes(4).toString('hex');
const password = randomBytes(16).toString('hex');
const ACLS = new Map(redisAcls().map((a) => [a.role, a]));
const userOf = (role: RedisRole) => `${ACLS.get(role)!.username}-test-${run}`;

let admin: Redis;
let aws: TestAws;
let dbs: { registry: number; core: number; state: number };
const clients: Redis[] = [];

/** A client connected as the role's ACL user. */
async function as(role: RedisRole, db: number): Promise<Redis> {
  const c = await connectFailFast(redisUrl(), db, { username: userOf(role), password });
  clients.push(c);
  return c;
}

const NOPERM = /NOPERM/;

beforeAll(async () => {
  aws = await startFauxqs();
  const [registry, core, state] = (await allocateDbs(3)) as [number, number, number];
  dbs = { registry, core, state };
  admin = await redisClient(state);
  await admin.flushdb();
  for (const role of REDIS_ROLES) {
    const rules = accessString(ACLS.get(role)!).split(' ');
    await admin.call('ACL', 'SETUSER', userOf(role), ...rules, `>${password}`);
  }
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const role of REDIS_ROLES) await admin?.call('ACL', 'DELUSER', userOf(role));
  admin?.disconnect();
  await aws?.stop();
});

describe('Redis ACL users, one per role (lambdas/redis-acl.ts)', () => {
  it('README shows exactly the ACL lines the code defines', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const block = /<!-- redis-acl:begin -->\n```\n([\s\S]*?)```\n<!-- redis-acl:end -->/.exec(
      readme
    );
    expect(block?.[1]).toBe(`${redisAcls().map(aclFileLine).join('\n')}\n`);
  });

  it('gives registry and cache-layer keys, and delete commands there, to remediate and sweep only', () => {
    const acls = redisAcls();
    const outside = (keys: readonly string[]) => keys.filter((k) => !k.startsWith('pushguard:'));
    const registry = [
      'blobs::*',
      'repository::*',
      'cache:manifest:digest:*',
      'cache:artifact:repository:*',
    ];
    expect(acls.map((a) => [a.role, outside(a.keys)])).toEqual([
      ['webhook', []],
      ['ingest', []],
      ['window-check', []],
      ['remediate', registry],
      ['sweep', registry],
    ]);
    const deletesSets = acls.filter(
      (a) => a.commands.includes('unlink') || a.commands.includes('srem')
    );
    expect(deletesSets.map((a) => a.role)).toEqual(['remediate', 'sweep']);
    expect(acls.every((a) => !a.commands.some((c) => /^(flush|config|keys$|acl)/.test(c)))).toBe(
      true
    );
  });

  it('webhook: dedupes deliveries; cannot read registry keys or the window state', async () => {
    const c = await as('webhook', dbs.state);
    const dedupe = new RedisDedupe(c);
    expect(await dedupe.firstSeen('harbor|abc', 60)).toBe(true);
    expect(await dedupe.firstSeen('harbor|abc', 60)).toBe(false);
    await dedupe.release('harbor|abc');
    expect(await dedupe.firstSeen('harbor|abc', 60)).toBe(true);
    await expect(c.hgetall(`blobs::${STALE}`)).rejects.toThrow(NOPERM);
    await expect(c.set('pushguard:repo:library/app', '{}')).rejects.toThrow(NOPERM);
    await expect(c.flushdb()).rejects.toThrow(NOPERM);
  });

  it('ingest and window-check: apply, close and report; no registry key, no closing for ingest', async () => {
    const records = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
    const clock = manualClock(Date.parse('2026-11-25T19:55:40Z'));
    const publisher = collectingPublisher();
    const ingest = await as('ingest', dbs.state);
    const store = new RedisWindowStore({ redis: ingest, engine: ENGINE });
    const result = await ingestBatch(records, { store, publisher, clock, rootDirectory: 'harbor' });
    expect(result.failures).toEqual([]);
    expect(result.events).toBeGreaterThan(40);
    // ingest cannot close windows (no ZRANGEBYSCORE), delete or read registry keys, or list keys
    await expect(store.closeDue(clock.now())).rejects.toThrow(NOPERM);
    await expect(ingest.del(`blobs::${STALE}`)).rejects.toThrow(NOPERM);
    await expect(
      ingest.eval("return redis.call('DEL', KEYS[1])", 1, `blobs::${STALE}`)
    ).rejects.toThrow(NOPERM);
    await expect(ingest.keys('*')).rejects.toThrow(NOPERM);

    const check = await as('window-check', dbs.state);
    const closing = new RedisWindowStore({ redis: check, engine: ENGINE });
    clock.advance(2 * ENGINE.windowMs);
    const closed = await closeDueWindows({ store: closing, publisher, clock });
    expect(closed.deferred).toBeUndefined();
    expect(publisher.published.map((f) => `${f.kind} ${f.repository} ${f.digest}`)).toEqual([
      `manifest-data-missing library/stale ${STALE}`,
    ]);
    await expect(check.hgetall(`blobs::${STALE}`)).rejects.toThrow(NOPERM);
    await expect(check.set('pushguard:dedupe:x', '1')).rejects.toThrow(NOPERM);
    await expect(check.config('GET', 'maxmemory')).rejects.toThrow(NOPERM);
  });

  describe('remediate and sweep', () => {
    let rig: Rig | undefined;
    let seed: { registry: Redis; core: Redis };
    beforeAll(async () => {
      seed = { registry: await redisClient(dbs.registry), core: await redisClient(dbs.core) };
    });
    afterAll(async () => {
      await rig?.close();
      seed.registry.disconnect();
      seed.core.disconnect();
    });

    const seeded = async (role: 'remediate' | 'sweep') => {
      await rig?.close();
      for (const c of [seed.registry, seed.core, admin]) await clearDb(c);
      await seedFromTrace(seed.registry, TRACE, 'AFTER');
      await seedCoreCacheDecoys(seed.core);
      await seedCacheLayer(seed.core, 'library/stale', STALE);
      rig = await makeRig({
        s3: aws.s3,
        dbs,
        redisOptions: { username: userOf(role), password },
      });
      return rig;
    };

    it('remediate: clears exactly the stale keys; cannot flush, write or touch other keys', async () => {
      const r = await seeded('remediate');
      const decoys = await dumpDb(seed.core);
      const report = await r.remediator.remediate(finding());
      expect(report.decision).toBe('cleared');
      expect(report.clearedKeys.sort()).toEqual(
        [
          `blobs::${STALE}`,
          `cache:manifest:digest:${STALE}`,
          `cache:artifact:repository:library/stale:digest:${STALE}`,
        ].sort()
      );
      await expect(r.registry.flushdb()).rejects.toThrow(NOPERM);
      await expect(r.core.del('cache:project:name:library')).rejects.toThrow(NOPERM);
      await expect(r.registry.hset(`blobs::${STALE}`, 'size', '1')).rejects.toThrow(NOPERM);
      await expect(r.state.set('pushguard:repo:library/stale', '{}')).rejects.toThrow(NOPERM);
      const left = (await dumpDb(seed.core)).map((k) => k.key);
      for (const d of decoys.filter((k) => k.key.startsWith('cache:project'))) {
        expect(left).toContain(d.key);
      }
    });

    it('sweep: audits the registry cache and fixes it; cannot run CONFIG or KEYS', async () => {
      const r = await seeded('sweep');
      const summary = await runSweep({
        remediator: r.deps,
        audit: {
          checker: r.deps.checker,
          registryCache: r.deps.registryCache,
          rootDirectory: 'harbor',
        },
      });
      expect(summary.checked).toBeGreaterThan(0);
      expect(summary.stale).toBeGreaterThan(0);
      expect(summary.fix?.keysCleared).toBeGreaterThan(0);
      await expect(r.registry.config('SET', 'save', '')).rejects.toThrow(NOPERM);
      await expect(r.registry.keys('*')).rejects.toThrow(NOPERM);
      await expect(r.state.get('pushguard:outbox')).rejects.toThrow(NOPERM);
    });
  });
});
