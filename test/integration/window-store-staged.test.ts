/**
 * A large batch through ingestBatch on RedisWindowStore is read in parts while it is normalised
 * (RedisWindowStore.stage). It must come out exactly as the same batch applied in one piece:
 * same result, same findings, same keys and values in Redis, including in-batch duplicates,
 * events redelivered from an earlier batch, and a clock that moves to the next dedupe bucket
 * between the first read and the write.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticTrace } from '../../bench/synthetic.ts';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { type IngestResult, ingestBatch } from '../../lambdas/app/ingest.ts';
import type { EngineConfig } from '../../lambdas/domain/engine.ts';
import type { Clock, WindowEvent, WindowStore } from '../../lambdas/ports.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';
import { collectingPublisher, countingRedis, dumpDb, summary } from './window-store.helpers.ts';

const ENGINE: EngineConfig = { windowMs: 60_000, reportUnverified: false, rootDirectory: 'harbor' };
const HOUR = 3_600_000;

const values = (d: Awaited<ReturnType<typeof dumpDb>>) =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.value]));

/** The store's apply, closeDue and drain only: ingestBatch applies the batch in one piece. */
function unstaged(store: RedisWindowStore): WindowStore {
  return {
    apply: (events, now) => store.apply(events, now),
    closeDue: (now) => store.closeDue(now),
    drainOutbox: (publish) => store.drainOutbox(publish),
    stage: () => {
      const events: WindowEvent[] = [];
      return {
        add: (part) => void events.push(...part),
        apply: (now) => store.apply(events, now),
      };
    },
  };
}

const comparable = (r: IngestResult) => ({
  failures: r.failures.map((f) => [f.id, f.error.message]),
  findings: summary(r.findings),
  events: r.events,
  skipped: r.skipped,
  duplicates: r.duplicates,
});

describe('Use case: ingestBatch of a large batch on RedisWindowStore, read in parts', () => {
  const clients: Redis[] = [];
  let dbs: number[] = [];
  let next = 0;

  beforeAll(async () => {
    dbs = await allocateDbs(4);
  });
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  async function freshDb(): Promise<Redis> {
    const db = dbs[next++];
    if (db === undefined) throw new Error('test ran out of DBs');
    const client = await connectRedis(redisUrlForDb(db), { commandTimeoutMs: 30_000 });
    clients.push(client);
    await client.flushdb();
    return client;
  }

  // 6,000 records: a first batch of 3,000, then a second one of 3,000 new ones that repeats 200
  // of its own records (in-batch duplicates) and ends with 1,000 of the first batch's (redelivered,
  // so found by the reads of its later parts).
  const lines = syntheticTrace(6_000, 'staged', 40);
  const records = lines.map((body, i) => ({ id: String(i), body }));
  const first = records.slice(0, 3_000);
  const second = [
    ...records.slice(3_000, 4_500),
    ...records.slice(4_000, 4_200),
    ...records.slice(4_500, 6_000),
    ...records.slice(2_000, 3_000),
  ];
  /** The latest event time of a batch. */
  const last = (batch: { body: string }[]) =>
    Math.max(
      ...batch.map((r) =>
        Date.parse(
          (JSON.parse(r.body) as { Records: { eventTime: string }[] }).Records[0]!.eventTime
        )
      )
    );

  async function run(staged: boolean, clocks: [Clock, Clock]) {
    const redis = await freshDb();
    const counted = countingRedis(redis);
    const store = new RedisWindowStore({ redis: counted.client, engine: ENGINE });
    const target = staged ? store : unstaged(store);
    const publisher = collectingPublisher();
    const results: IngestResult[] = [];
    const trips: number[] = [];
    for (const [i, batch] of [first, second].entries()) {
      counted.reset();
      results.push(
        await ingestBatch(batch, {
          store: target,
          publisher,
          clock: clocks[i]!,
          rootDirectory: 'harbor',
        })
      );
      trips.push(counted.count());
    }
    return { results: results.map(comparable), db: values(await dumpDb(redis)), trips };
  }

  it('gives what one apply of the whole batch gives, in at most 10 round trips', async () => {
    const fixed = (t: number): Clock => ({ now: () => t, sleep: async () => undefined });
    const clocks: [Clock, Clock] = [fixed(last(first)), fixed(last(second))];
    // Act
    const whole = await run(false, clocks);
    const parts = await run(true, clocks);
    // Assess
    expect(parts.results).toEqual(whole.results);
    expect(parts.results[1]!.duplicates).toBe(1_200);
    expect(parts.db).toEqual(whole.db);
    expect(Object.keys(parts.db).length).toBeGreaterThan(100);
    expect(parts.trips[1]).toBeGreaterThan(whole.trips[1]!); // read in parts
    expect(Math.max(...parts.trips)).toBeLessThanOrEqual(10);
  });

  it('reads again in full when the clock reaches the next dedupe bucket before the write', async () => {
    // The second batch comes 6 h after the first: its reads find the first batch's markers in the
    // oldest live bucket. The staged batch asks the clock twice (reads, then the write) and an
    // hour passes in between: at the write that bucket is past the dedupe horizon, so the
    // redelivered records are applied again, as one apply at that time would.
    const t1 = last(first);
    const t0 = t1 + 6 * HOUR;
    let asked = 0;
    const moving: Clock = {
      now: () => (asked++ === 0 ? t0 : t0 + HOUR),
      sleep: async () => undefined,
    };
    const later: Clock = { now: () => t0 + HOUR, sleep: async () => undefined };
    const start: Clock = { now: () => t1, sleep: async () => undefined };
    // Act
    const whole = await run(false, [start, later]);
    const parts = await run(true, [start, moving]);
    // Assess
    expect(asked).toBeGreaterThanOrEqual(2);
    expect(parts.results).toEqual(whole.results);
    expect(parts.results[1]!.duplicates).toBe(200);
    expect(parts.db).toEqual(whole.db);
  });
});
