/**
 * Property: names are data through a real redis-server. Generated streams (streams.ts) with
 * prototype-named repositories, tags, projects and upload ids are ingested batch by batch and
 * their windows closed, once by RedisWindowStore (state through Lua, Redis and the codec) and once
 * by MemoryWindowStore: the same findings and checks, no failed record, and every key Redis holds
 * is under PushGuard's prefix.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../lambdas/adapters/memory-window-store.ts';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { ingestBatch } from '../../lambdas/app/ingest.ts';
import type { EngineConfig } from '../../lambdas/domain/engine.ts';
import type { Finding } from '../../lambdas/domain/types.ts';
import type { WindowStore } from '../../lambdas/ports.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';
import { batchesOf, ROOT, SEED, type Stream, stream } from './streams.ts';

const RUNS = 500;
const PREFIX = 'pushguard:prop:';
const ENGINE: EngineConfig = { windowMs: 60_000, reportUnverified: false, rootDirectory: ROOT };

/** Findings and checks as sorted JSON lines. */
function inOrder(
  out: { findings: readonly Finding[]; checks?: readonly unknown[] } | readonly Finding[]
) {
  const items = 'findings' in out ? [...out.findings, ...(out.checks ?? [])] : out;
  return items.map((x) => JSON.stringify(x)).sort();
}

async function run(st: Stream, store: WindowStore) {
  const published: Finding[] = [];
  const publisher = { publish: async (f: readonly Finding[]) => void published.push(...f) };
  const failures: string[] = [];
  const closed: string[][] = [];
  let n = 0;
  for (const batch of batchesOf(st)) {
    const records = batch.bodies.map((body) => ({ id: String(n++), body }));
    const clock = { now: () => batch.now, sleep: async () => undefined };
    const result = await ingestBatch(records, { store, publisher, clock, rootDirectory: ROOT });
    failures.push(...result.failures.map((f) => `${f.id}: ${f.error.message}`));
    closed.push(inOrder(await store.closeDue(batch.now)));
  }
  closed.push(inOrder(await store.closeDue(batchesOf(st).at(-1)!.now + 10 * ENGINE.windowMs)));
  await store.drainOutbox(async (f) => void published.push(...f));
  // The stores close due scopes in their own order (Redis: by deadline, then by name).
  return { failures, closed, published: inOrder(published) };
}

describe('Property: names are data, through a real redis-server', () => {
  let redis: Redis;
  beforeAll(async () => {
    const [db] = await allocateDbs(1);
    redis = await connectRedis(redisUrlForDb(db!));
    await redis.flushdb();
  });
  afterAll(() => redis?.disconnect());

  it(`gives what the in-memory store gives, keys only under the prefix (${RUNS} streams)`, async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(stream, async (st) => {
        const prefix = `${PREFIX}${i++}:`;
        const inRedis = await run(st, new RedisWindowStore({ redis, prefix, engine: ENGINE }));
        const inMemory = await run(st, new MemoryWindowStore({ engine: ENGINE }));
        expect(inRedis.failures).toEqual([]);
        expect(inRedis.failures).toEqual([]);
        expect(inRedis.published).toEqual(inMemory.published);
        expect(inRedis.closed).toEqual(inMemory.closed);
      }),
      { seed: SEED, numRuns: RUNS }
    );
    const keys = await redis.keys('*');
    expect(keys.length).toBeGreaterThan(RUNS);
    expect(keys.filter((k) => !k.startsWith(PREFIX))).toEqual([]);
  });
});
