/** RedisDeleteBudget (R7 per-hour cap) on the real redis-server, shared by several instances. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisDeleteBudget } from '../../lambdas/adapters/redis-delete-budget.ts';
import { ConfigError, SafetyRefusalError } from '../../lambdas/domain/errors.ts';
import { allocateDbs, redisClient } from '../support/redis.ts';
import { clearDb, seedStaleManifests } from '../support/seed-registry-cache.ts';

const T0 = Date.UTC(2026, 10, 25, 20, 15, 0);
const HOUR = 3_600_000;

let a: Redis;
let b: Redis;
let registry: Redis;

beforeAll(async () => {
  const [stateDb, regDb] = (await allocateDbs(2)) as [number, number];
  a = await redisClient(stateDb);
  b = await redisClient(stateDb);
  registry = await redisClient(regDb);
});
afterAll(() => {
  for (const c of [a, b, registry]) c.disconnect();
});
beforeEach(async () => {
  await clearDb(a);
});

describe('RedisDeleteBudget', () => {
  it('R7 caps: concurrent instances never get more than the hourly cap in total', async () => {
    const one = new RedisDeleteBudget(a, { perHour: 50 });
    const two = new RedisDeleteBudget(b, { perHour: 50 });
    const grants = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).reserve(3, T0 + i))
    );
    expect(grants.reduce((x, y) => x + y, 0)).toBe(50);
    expect(grants.every((g) => g >= 0 && g <= 3)).toBe(true);
    expect(await one.used(T0)).toBe(50);
  });

  it('grants partially, then nothing, and starts again the next clock hour', async () => {
    const budget = new RedisDeleteBudget(a, { perHour: 5 });
    expect(await budget.reserve(3, T0)).toBe(3);
    expect(await budget.reserve(3, T0 + 1000)).toBe(2);
    expect(await budget.reserve(1, T0 + 2000)).toBe(0);
    const nextHour = Math.ceil(T0 / HOUR) * HOUR;
    expect(await budget.reserve(4, nextHour)).toBe(4);
    expect(await budget.reserve(0, nextHour)).toBe(0);
  });

  it('expires each hour counter an hour after its hour ends', async () => {
    const budget = new RedisDeleteBudget(a, { perHour: 5, keyPrefix: 'pg-test:' });
    await budget.reserve(1, T0);
    const key = budget.keyFor(T0);
    expect(key).toBe('pg-test:delete-budget:2026-11-25T20:00:00.000Z');
    const pttl = await a.pttl(key);
    expect(pttl).toBeGreaterThan(HOUR);
    expect(pttl).toBeLessThanOrEqual(HOUR + 45 * 60_000);
  });

  it('refuses to keep its counters in the registry DB', async () => {
    await clearDb(registry);
    await seedStaleManifests(registry, 3);
    await expect(new RedisDeleteBudget(registry, { perHour: 5 }).reserve(1, T0)).rejects.toThrow(
      SafetyRefusalError
    );
    expect(await registry.dbsize()).toBe(3);
  });

  it('rejects a cap that is not a non-negative integer', () => {
    expect(() => new RedisDeleteBudget(a, { perHour: -1 })).toThrow(ConfigError);
    expect(() => new RedisDeleteBudget(a, { perHour: 1.5 })).toThrow(ConfigError);
  });
});
