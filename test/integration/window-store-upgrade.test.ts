/**
 * An upgrade in flight: state written by the previous format (format 1, captured from d63cd26 by
 * test/fixtures/window-state-v1/capture.ts) is loaded into Redis, and the current code closes its
 * windows, takes the storage answers and closes again with exactly the findings and checks the
 * code that wrote it decided. Every scope it writes back is in the current format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { STATE_FORMAT } from '../../lambdas/adapters/window-state-codec.ts';
import type { EngineConfig, EngineOutput } from '../../lambdas/domain/engine.ts';
import type { CheckResultEvent, Finding } from '../../lambdas/domain/types.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';

interface Captured {
  engine: EngineConfig;
  prefix: string;
  stored: { key: string; type: string; value: unknown }[];
  closeAt: number;
  first: EngineOutput;
  answers: CheckResultEvent[];
  answered: EngineOutput;
  laterAt: number;
  later: EngineOutput;
}

const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/window-state-v1/state.json'), 'utf8')
) as Captured;

const sorted = (out: EngineOutput) => ({
  findings: [...out.findings].sort((a: Finding, b: Finding) => a.id.localeCompare(b.id)),
  checks: out.checks,
});

async function load(redis: Redis, stored: Captured['stored']): Promise<void> {
  for (const { key, type, value } of stored) {
    if (type === 'string') await redis.set(key, value as string);
    else if (type === 'zset') await redis.zadd(key, ...(value as string[]).reverse());
    else if (type === 'set') await redis.sadd(key, ...(value as string[]));
    else await redis.rpush(key, ...(value as string[]));
  }
}

describe('Adapter: RedisWindowStore on state written by the previous format', () => {
  let redis: Redis;
  beforeAll(async () => {
    const [db] = await allocateDbs(1);
    redis = await connectRedis(redisUrlForDb(db!));
    await redis.flushdb();
  });
  afterAll(() => redis?.disconnect());

  it('finishes the windows in flight as the code that wrote them would have', async () => {
    // Prepare: the fixture holds format-1 scopes (no format field, facts by position)
    const v1 = fixture.stored.filter((s) => /:(repo|blob):/.test(s.key));
    expect(v1.length).toBeGreaterThan(5);
    for (const s of v1) expect(s.value as string).toMatch(/^\{"v":"[^"]*","s":/);
    await load(redis, fixture.stored);
    const store = new RedisWindowStore({ redis, prefix: fixture.prefix, engine: fixture.engine });
    // Act + Assess: each step as recorded
    expect(sorted(await store.closeDue(fixture.closeAt))).toEqual(sorted(fixture.first));
    expect(fixture.first.findings.map((f) => f.kind).sort()).toEqual([
      'abandoned-upload',
      'incomplete-push',
      'manifest-data-missing',
    ]);
    const answered = await store.apply(fixture.answers, fixture.closeAt + 20);
    expect(sorted(answered)).toEqual(sorted(fixture.answered));
    expect(fixture.answered.findings.map((f) => f.kind)).toEqual(['webhook-without-commit']);
    expect(sorted(await store.closeDue(fixture.laterAt))).toEqual(sorted(fixture.later));
    // every scope written since is in the current format; the others are as they were
    const before = new Map(v1.map((s) => [s.key, s.value as string]));
    const current = new RegExp(`^\\{"v":"[^"]*","format":${STATE_FORMAT},"state":`);
    let rewritten = 0;
    for (const key of (await redis.keys(`${fixture.prefix}*`)).filter((k) =>
      /:(repo|blob):/.test(k)
    )) {
      const value = (await redis.get(key))!;
      if (value === before.get(key)) continue;
      expect(value).toMatch(current);
      rewritten++;
    }
    expect(rewritten).toBeGreaterThan(0);
  });
});
