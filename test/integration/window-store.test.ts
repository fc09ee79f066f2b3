import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticTrace } from '../../bench/synthetic.ts';
import { MemoryWindowStore } from '../../lambdas/adapters/memory-window-store.ts';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { ingestBatch } from '../../lambdas/app/ingest.ts';
import { closeDueWindows } from '../../lambdas/app/window-check.ts';
import {
  applyEvent,
  createState,
  deadlinesOf,
  type EngineConfig,
} from '../../lambdas/domain/engine.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import type { NormalizedEvent } from '../../lambdas/domain/types.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';
import {
  collectingPublisher,
  countingRedis,
  dumpDb,
  manualClock,
  summary,
  traceRecords,
} from './window-store.helpers.ts';

const W = 60_000;
const ENGINE: EngineConfig = { windowMs: W, reportUnverified: false, rootDirectory: 'harbor' };
const STALE_M = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';

function eventsOf(records: { body: string }[]): NormalizedEvent[] {
  return records.flatMap((r) => normalizeMessage(r.body, { rootDirectory: 'harbor' }).events);
}
const values = (d: Awaited<ReturnType<typeof dumpDb>>) =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.value]));
const lastTime = (records: { body: string }[]) => Math.max(...eventsOf(records).map((e) => e.time));

describe('Adapter: RedisWindowStore', () => {
  const clients: Redis[] = [];
  let dbs: number[] = [];
  let next = 0;

  beforeAll(async () => {
    dbs = await allocateDbs(16);
  });
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  /** A fresh, empty DB and a client on it (from the project's client factory). */
  async function freshDb(): Promise<Redis> {
    const db = dbs[next++];
    if (db === undefined) throw new Error('test ran out of DBs');
    const client = await connectRedis(redisUrlForDb(db));
    clients.push(client);
    await client.flushdb();
    return client;
  }
  async function sameDb(of: Redis): Promise<Redis> {
    const client = await connectRedis(redisUrlForDb(of.options.db ?? 0));
    clients.push(client);
    return client;
  }

  describe('recorded traces through ingestBatch and closeDueWindows', () => {
    it('e1+e2+e3 with no checker gives exactly one manifest-data-missing for library/stale', async () => {
      // Prepare
      const redis = await freshDb();
      const store = new RedisWindowStore({ redis, engine: ENGINE });
      const records = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
      const clock = manualClock(lastTime(records));
      const publisher = collectingPublisher();
      // Act
      const ingested = await ingestBatch(records, { store, publisher, clock });
      const published = [];
      for (let i = 0; i < 10; i++) {
        clock.advance(W / 2);
        published.push(...(await closeDueWindows({ store, publisher, clock })).findings);
      }
      // Assess
      expect(ingested.failures).toEqual([]);
      expect(ingested.events).toBe(44);
      expect(ingested.findings).toEqual([]);
      expect(summary(publisher.published)).toEqual([
        `manifest-data-missing library/stale ${STALE_M} true`,
      ]);
      expect(summary(published)).toEqual(summary(publisher.published));
      expect(await store.outboxLength()).toBe(0);
    });

    it('gives the same findings as MemoryWindowStore on the same input', async () => {
      const records = traceRecords('a-normal-push', 'e1-push', 'e2-lose-manifest-data');
      const partial = records.slice(0, 30);
      const input = [...partial, ...traceRecords('e3-repush-stale')];
      const run = async (store: RedisWindowStore | MemoryWindowStore) => {
        const clock = manualClock(lastTime(input));
        const publisher = collectingPublisher();
        await ingestBatch(input.slice(0, 20), { store, publisher, clock });
        await ingestBatch(input.slice(20), { store, publisher, clock });
        for (let i = 0; i < 10; i++) {
          clock.advance(W / 2);
          await closeDueWindows({ store, publisher, clock });
        }
        return summary(publisher.published);
      };
      const redisFindings = await run(
        new RedisWindowStore({ redis: await freshDb(), engine: ENGINE })
      );
      const memoryFindings = await run(new MemoryWindowStore({ engine: ENGINE }));
      expect(redisFindings.length).toBeGreaterThan(0);
      expect(redisFindings).toEqual(memoryFindings);
    });
  });

  describe('deadlines', () => {
    it('reports an incomplete push not before W after the last activity, and at W', async () => {
      // Prepare: 2 of the 4 blobs of scenario a uploaded, no manifest
      const redis = await freshDb();
      const store = new RedisWindowStore({ redis, engine: ENGINE });
      const records = traceRecords('a-normal-push').slice(0, 24);
      const events = eventsOf(records);
      const last = Math.max(
        ...events.filter((e) => e.source === 'storage' && e.op === 'created').map((e) => e.time)
      );
      await store.apply(events, lastTime(records));
      // Act
      const before = await store.closeDue(last + W - 1);
      const at = await store.closeDue(last + W);
      const after = await store.closeDue(last + 3 * W);
      // Assess
      expect(before.findings).toEqual([]);
      expect(summary(at.findings)).toEqual(['incomplete-push library/app  true']);
      expect(after.findings).toEqual([]);
      expect(await redis.zscore('pushguard:deadlines', 'repo:library/app')).toBeNull();
    });

    it('indexes each scope at the deadline the engine gives it', async () => {
      const redis = await freshDb();
      const store = new RedisWindowStore({ redis, engine: ENGINE, prefix: 'pg:' });
      const records = traceRecords('a-normal-push').slice(0, 12);
      const events = eventsOf(records);
      const last = lastTime(records);
      await store.apply(events, last);
      const state = createState();
      for (const e of events) applyEvent(state, e, last, ENGINE);
      const expected = deadlinesOf(state, ENGINE);
      const index = await redis.zrange('pg:deadlines', 0, -1, 'WITHSCORES');
      const actual = new Map<string, number>();
      for (let i = 0; i < index.length; i += 2) actual.set(index[i]!, Number(index[i + 1]));
      expect(actual).toEqual(
        new Map([
          ...Array.from(expected.repositories, ([r, t]) => [`repo:${r}`, t] as const),
          ...Array.from(expected.digests, ([d, t]) => [`blob:${d}`, t] as const),
        ])
      );
      expect(actual.get('repo:library/app')).toBeLessThanOrEqual(last + W);
      expect(await redis.exists('pg:repo:library/app')).toBe(1);
      expect(await redis.exists('pushguard:repo:library/app')).toBe(0);
    });
  });

  describe('dedupe of redelivered events', () => {
    it('applies the same 10-record batch 3 times with the same state and findings as once', async () => {
      const records = traceRecords('e1-push').slice(0, 10);
      const events = eventsOf(records);
      const now = lastTime(records);
      const once = await freshDb();
      const thrice = await freshDb();
      const a = new RedisWindowStore({ redis: once, engine: ENGINE });
      const b = new RedisWindowStore({ redis: thrice, engine: ENGINE });
      const first = await a.apply(events, now);
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await b.apply(events, now));
      expect(results.map((r) => r.duplicates)).toEqual([0, 10, 10]);
      expect(results[0]!.findings).toEqual(first.findings);
      expect(results[1]!.findings).toEqual([]);
      expect(values(await dumpDb(thrice))).toEqual(values(await dumpDb(once)));
      const markers = Object.entries(await dumpDb(once)).filter(([k]) => k.includes(':seen:'));
      expect(markers).toHaveLength(1);
      expect(markers[0]![1].value).toHaveLength(10);
      const closedOnce = await a.closeDue(now + 10 * W);
      const closedThrice = await b.closeDue(now + 10 * W);
      expect(summary(closedThrice.findings)).toEqual(summary(closedOnce.findings));
    });

    it('remembers delivered events for the dedupe horizon (6 h), not forever', async () => {
      const records = traceRecords('e1-push').slice(0, 10);
      const events = eventsOf(records);
      const now = lastTime(records);
      const store = new RedisWindowStore({ redis: await freshDb(), engine: ENGINE });
      await store.apply(events, now);
      const within = await store.apply(events, now + 5 * 3600_000);
      const beyond = await store.apply(events, now + 8 * 3600_000);
      expect(within.duplicates).toBe(10);
      expect(beyond.duplicates).toBe(0);
    });

    it('drops a duplicate inside one batch', async () => {
      const redis = await freshDb();
      const store = new RedisWindowStore({ redis, engine: ENGINE });
      const records = traceRecords('e1-push').slice(0, 3);
      const events = eventsOf(records);
      const result = await store.apply([...events, events[0]!], lastTime(records));
      expect(result.duplicates).toBe(1);
    });
  });

  describe('TTLs', () => {
    it('sets a TTL on every key it writes, state expiring a margin after its deadline', async () => {
      const redis = await freshDb();
      const margin = 10 * 60_000;
      const store = new RedisWindowStore({ redis, engine: ENGINE, stateTtlMs: W + margin });
      const records = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
      const clock = manualClock(lastTime(records));
      const publisher = collectingPublisher(1);
      await ingestBatch(records.slice(0, 30), { store, publisher, clock });
      await ingestBatch(records.slice(30), { store, publisher, clock });
      const dump = await dumpDb(redis);
      const kinds = new Set(Object.keys(dump).map((k) => k.split(':')[1]));
      expect(kinds).toEqual(new Set(['repo', 'blob', 'seen', 'deadlines']));
      for (const [key, { pttl }] of Object.entries(dump)) {
        expect(pttl, key).toBeGreaterThan(0);
      }
      const deadlines = dump['pushguard:deadlines']!.value as string[];
      expect(deadlines.length / 2).toBe(
        Object.keys(dump).filter((k) => /:(repo|blob):/.test(k)).length
      );
      for (let i = 0; i < deadlines.length; i += 2) {
        const member = deadlines[i]!;
        const deadline = Number(deadlines[i + 1]);
        const { pttl } = dump[`pushguard:${member}`]!;
        expect(pttl, member).toBeLessThanOrEqual(Math.max(deadline - clock.now(), W) + margin);
      }
      expect(dump['pushguard:repo:library/stale']!.pttl).toBeLessThanOrEqual(W + margin);
      expect(dump['pushguard:deadlines']!.expireAt).toBeGreaterThanOrEqual(
        Math.max(
          ...Object.entries(dump)
            .filter(([k]) => /:(repo|blob):/.test(k))
            .map(([, v]) => v.expireAt)
        )
      );
      clock.advance(2 * W);
      await closeDueWindows({ store, publisher, clock }); // publish fails: the outbox keeps it
      expect(await redis.llen('pushguard:outbox')).toBe(1);
      expect(await redis.ttl('pushguard:outbox')).toBeGreaterThan(6 * 86400);
      const seenTtl = Object.entries(dump).find(([k]) => k.includes(':seen:'))![1].pttl;
      // markers live 6 h past the hour they were written in
      expect(seenTtl).toBeGreaterThan(6 * 3600_000 - 60_000);
      expect(seenTtl).toBeLessThanOrEqual(7 * 3600_000);
    });
  });

  describe('outbox', () => {
    it('delivers findings exactly once when the publisher fails once', async () => {
      const redis = await freshDb();
      const store = new RedisWindowStore({ redis, engine: ENGINE });
      const records = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
      const clock = manualClock(lastTime(records));
      const publisher = collectingPublisher(1);
      await ingestBatch(records, { store, publisher, clock });
      clock.advance(2 * W);
      const failed = await closeDueWindows({ store, publisher, clock });
      expect(failed.findings).toEqual([]);
      expect(failed.produced).toBe(1);
      expect(failed.deferred?.[0]?.message).toBe('publisher unavailable');
      expect(await store.outboxLength()).toBe(1);
      clock.advance(W);
      const retried = await closeDueWindows({ store, publisher, clock });
      const again = await store.drainOutbox((f) => publisher.publish(f));
      expect(summary(retried.findings)).toEqual([
        `manifest-data-missing library/stale ${STALE_M} true`,
      ]);
      expect(again).toEqual([]);
      expect(summary(publisher.published)).toEqual(summary(retried.findings));
      expect(await store.outboxLength()).toBe(0);
    });

    it('lets one drainer at a time publish a page: concurrent drains publish each finding once', async () => {
      const redis = await freshDb();
      const other = await sameDb(redis);
      const a = new RedisWindowStore({ redis, engine: ENGINE, drainPageSize: 2 });
      const b = new RedisWindowStore({ redis: other, engine: ENGINE, drainPageSize: 2 });
      const records = traceRecords('a-normal-push').slice(0, 12);
      // five repositories each with an upload that never completes
      const batches = ['r1/a', 'r2/b', 'r3/c', 'r4/d', 'r5/e'].map((repo) =>
        eventsOf(records.map((r) => ({ body: r.body.replaceAll('library/app', repo) })))
      );
      const last = lastTime(records);
      for (const batch of batches) await a.apply(batch, last);
      const closed = await a.closeDue(last + 2 * W);
      expect(closed.findings.length).toBeGreaterThanOrEqual(5);
      const published: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const slow = async (f: { id: string }[]) => {
        await gate;
        published.push(...f.map((x) => x.id));
      };
      const first = a.drainOutbox(slow);
      const second = b.drainOutbox(async (f) => {
        published.push(...f.map((x) => x.id));
      });
      const fromSecond = await second; // the lease is held by the first drainer
      release();
      const fromFirst = await first;
      expect(fromSecond).toEqual([]);
      expect(fromFirst.length).toBe(closed.findings.length);
      expect(published.sort()).toEqual(closed.findings.map((f) => f.id).sort());
      expect(new Set(published).size).toBe(published.length);
      expect(await a.outboxLength()).toBe(0);
    });
  });

  describe('atomicity under concurrency', () => {
    it('retries a batch whose scope another invocation changed between its read and its write', async () => {
      // Prepare: A reads, then B applies in full, then A tries to write
      const redis = await freshDb();
      const other = await sameDb(redis);
      const records = traceRecords('e1-push');
      const [batchA, batchB] = [records.slice(0, 20), records.slice(20)].map(eventsOf);
      const now = lastTime(records);
      const b = new RedisWindowStore({ redis: other, engine: ENGINE });
      let scripts = 0;
      const wrapped = countingRedis(redis, {
        beforeCommand: async (name) => {
          // A's first script is its read, the second its write: B commits in between
          if (name.startsWith('pushguardWindow') && ++scripts === 2) await b.apply(batchB!, now);
        },
      });
      const a = new RedisWindowStore({ redis: wrapped.client, engine: ENGINE });
      // Act
      await a.apply(batchA!, now);
      // Assess: A's first write was refused, it read again and wrote: the result is B then A
      expect(
        wrapped.commands.filter((c) => c.startsWith('pushguardWindow')).length
      ).toBeGreaterThanOrEqual(4);
      const reference = await freshDb();
      const seq = new RedisWindowStore({ redis: reference, engine: ENGINE });
      await seq.apply(batchB!, now);
      const onlyB = values(await dumpDb(reference));
      await seq.apply(batchA!, now);
      const raced = values(await dumpDb(redis));
      expect(raced).toEqual(values(await dumpDb(reference)));
      expect(raced).not.toEqual(onlyB);
    });

    it('two instances applying interleaved batches at once give the findings of one sequential run', async () => {
      const records = [
        ...traceRecords('a-normal-push'),
        ...traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale'),
      ];
      // a repository left mid-push: only its first blob
      const incomplete = traceRecords('a-normal-push')
        .slice(0, 12)
        .map((r) => ({
          id: `half-${r.id}`,
          body: r.body.replaceAll('library/app', 'library/half'),
        }));
      const all = [...records, ...incomplete];
      const now = lastTime(all);
      const batches: { id: string; body: string }[][] = [];
      for (let i = 0; i < 8; i++) batches.push(all.filter((_, j) => j % 8 === i));
      const sequentialDb = await freshDb();
      const sequential = new RedisWindowStore({ redis: sequentialDb, engine: ENGINE });
      for (const batch of batches) await sequential.apply(eventsOf(batch), now);
      const concurrentDb = await freshDb();
      const x = new RedisWindowStore({ redis: concurrentDb, engine: ENGINE });
      const y = new RedisWindowStore({ redis: await sameDb(concurrentDb), engine: ENGINE });
      for (let i = 0; i < batches.length; i += 2) {
        await Promise.all([
          x.apply(eventsOf(batches[i]!), now),
          y.apply(eventsOf(batches[i + 1]!), now),
        ]);
      }
      const close = async (s: RedisWindowStore) => {
        const found = [];
        for (let t = 1; t <= 6; t++) found.push(...(await s.closeDue(now + t * W)).findings);
        return summary(found);
      };
      const expected = await close(sequential);
      expect(expected).toContain(`manifest-data-missing library/stale ${STALE_M} true`);
      expect(expected.some((f) => f.startsWith('incomplete-push library/half'))).toBe(true);
      expect(await close(x)).toEqual(expected);
    });
  });

  describe('round trips', () => {
    it('applies a 10,000-record batch in at most 10 Redis round trips', async () => {
      const redis = await freshDb();
      const counted = countingRedis(redis);
      const store = new RedisWindowStore({ redis: counted.client, engine: ENGINE });
      const lines = syntheticTrace(10_000, 'roundtrips');
      const records = lines.map((body, i) => ({ id: String(i), body }));
      const clock = manualClock(lastTime(records.slice(-1)));
      const publisher = collectingPublisher();
      // Act
      const result = await ingestBatch(records, { store, publisher, clock });
      // Assess
      expect(result.failures).toEqual([]);
      expect(result.events).toBe(10_000);
      expect(counted.count()).toBeLessThanOrEqual(10);
      expect(await redis.zcard('pushguard:deadlines')).toBeGreaterThan(100);
      // the same batch again: everything is a duplicate, and it is one round trip
      counted.reset();
      const again = await store.apply(
        records.flatMap((r) => normalizeMessage(r.body, { rootDirectory: 'harbor' }).events),
        clock.now()
      );
      expect(again.duplicates).toBe(10_000);
      expect(counted.count()).toBe(1);
    });
  });
});
