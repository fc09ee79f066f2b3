/**
 * Correlation state in Redis, end to end: a synthetic 100k-record trace (many repositories, pushes
 * of the 12-events-per-blob shape, their manifests) through ingestBatch in 10k batches, on
 * RedisWindowStore. Baselines measured in the same run: a bare loop that only JSON.parses each
 * line and decodes its key, and a single client awaiting one SET per record.
 *
 * Every path first runs once over a whole trace (JIT, script cache, connection), then each figure
 * is the best of ROUNDS runs, the paths taking turns so that they meet the same load on a shared
 * machine (the bare loop was always the best of three; the others now are too).
 *
 * Runs alone with `npx tsx bench/state.bench.ts` (starts its own redis-server unless REDIS_URL is
 * set). Every key it writes is under a unique prefix and removed at the end, so it is safe on a
 * shared server. Prints figures; never fails on speed.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MemoryWindowStore } from '../lambdas/adapters/memory-window-store.ts';
import { connectRedis } from '../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../lambdas/adapters/redis-window-store.ts';
import { ingestBatch } from '../lambdas/app/ingest.ts';
import type { EngineConfig } from '../lambdas/domain/engine.ts';
import { decodeS3Key } from '../lambdas/domain/keys.ts';
import type { Finding } from '../lambdas/domain/types.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { type BenchContext, type Figure, removeKeysWithPrefix } from './figures.ts';
import { syntheticTrace } from './synthetic.ts';

const RECORDS = 100_000;
const BATCH = 10_000;
const ROUNDS = 3;
const ENGINE: EngineConfig = {
  windowMs: 10 * 60_000,
  reportUnverified: false,
  rootDirectory: 'harbor',
};

function bareLoop(lines: readonly string[]): number {
  let n = 0;
  for (const line of lines) {
    const body = JSON.parse(line) as { Records: { s3: { object: { key: string } } }[] };
    for (const r of body.Records) n += decodeS3Key(r.s3.object.key).length;
  }
  return n;
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Counts round trips: one per pipeline exec, one per direct command. */
function counted(client: Redis): { client: Redis; trips: () => number } {
  let trips = 0;
  const proxy = new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => unknown;
      if (prop === 'pipeline') {
        return (...args: unknown[]) => {
          const p = fn.apply(target, args) as { exec: (...a: unknown[]) => Promise<unknown> };
          const exec = p.exec.bind(p);
          p.exec = (...a: unknown[]) => {
            trips++;
            return exec(...a);
          };
          return p;
        };
      }
      return (...args: unknown[]) => {
        trips++;
        return fn.apply(target, args);
      };
    },
  });
  return { client: proxy, trips: () => trips };
}

/** ingestBatch over the whole trace in 10k batches; returns records/s and trips per batch. */
async function endToEnd(
  redis: Redis | undefined,
  prefix: string,
  lines: readonly string[]
): Promise<{
  perSecond: number;
  trips: number[];
  published: number;
  clientCpuUs: number;
  redisCpuUs: number;
}> {
  const wrapped = redis ? counted(redis) : { client: undefined, trips: () => 0 };
  const store = wrapped.client
    ? new RedisWindowStore({ redis: wrapped.client, prefix, engine: ENGINE })
    : new MemoryWindowStore({ engine: ENGINE });
  const published: Finding[] = [];
  const publisher = { publish: async (f: readonly Finding[]) => void published.push(...f) };
  const trips: number[] = [];
  const batchTimes = batchClock(lines);
  const redisCpu0 = redis ? await redisCpuUs(redis) : 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i += BATCH) {
    const records = lines.slice(i, i + BATCH).map((body, j) => ({ id: String(i + j), body }));
    const now = batchTimes[i / BATCH]!;
    const before = wrapped.trips();
    const result = await ingestBatch(records, {
      store,
      publisher,
      clock: { now: () => now, sleep: async () => undefined },
      rootDirectory: 'harbor',
    });
    if (result.failures.length > 0) throw result.failures[0]!.error;
    trips.push(wrapped.trips() - before);
  }
  const perSecond = lines.length / seconds(start);
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond,
    trips,
    published: published.length,
    clientCpuUs: cpu.user + cpu.system,
    redisCpuUs: redis ? (await redisCpuUs(redis)) - redisCpu0 : 0,
  };
}

/** CPU time the redis-server process has used (INFO cpu), in µs. */
async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

/** The time of the last event of each batch (what a live consumer's clock would read). */
function batchClock(lines: readonly string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < lines.length; i += BATCH) {
    const last = lines[Math.min(i + BATCH, lines.length) - 1]!;
    const record = (JSON.parse(last) as { Records: { eventTime: string }[] }).Records[0]!;
    times.push(Date.parse(record.eventTime));
  }
  return times;
}

async function awaitedSets(
  redis: Redis,
  prefix: string,
  lines: readonly string[]
): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) await redis.set(`${prefix}set:${i}`, '1', 'EX', 600);
  return lines.length / seconds(start);
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const lines = syntheticTrace(RECORDS, 'state');
  const redis = await connectRedis(ctx.redisUrl, { commandTimeoutMs: 60_000 });
  const prefix = `pushguard-bench:${randomBytes(4).toString('hex')}:`;
  try {
    // warm-up: JIT, script cache, connection; a whole trace on every path
    const warm = syntheticTrace(RECORDS, 'warm-up');
    bareLoop(warm);
    await endToEnd(redis, `${prefix}warm:`, warm);
    await endToEnd(undefined, '', warm);
    await awaitedSets(redis, `${prefix}warm:`, lines.slice(0, BATCH));
    let bare = 0;
    let sets = 0;
    let memory: Awaited<ReturnType<typeof endToEnd>> | undefined;
    let e2e: Awaited<ReturnType<typeof endToEnd>> | undefined;
    const trips: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const start = process.hrtime.bigint();
      bareLoop(lines);
      bare = Math.max(bare, lines.length / seconds(start));
      const m = await endToEnd(undefined, '', lines);
      if (!memory || m.perSecond > memory.perSecond) memory = m;
      // a fresh prefix per run: the same trace again would only be duplicates
      const e = await endToEnd(redis, `${prefix}state${r}:`, lines);
      trips.push(...e.trips);
      if (!e2e || e.perSecond > e2e.perSecond) e2e = e;
      sets = Math.max(sets, await awaitedSets(redis, prefix, lines));
    }
    if (!memory || !e2e) throw new Error('no rounds ran');
    const meanTrips = trips.reduce((a, b) => a + b, 0) / trips.length;
    return [
      {
        name: 'state: ingestBatch on Redis, 100k-record trace in 10k batches (end to end)',
        value: Math.round(e2e.perSecond),
        unit: 'records/s',
        baseline: { name: 'bare loop: JSON.parse + key decode', value: Math.round(bare) },
        goal: '≥ 0.3× the bare loop',
      },
      {
        name: 'state: ingestBatch on Redis vs one awaited SET per record',
        value: Math.round(e2e.perSecond),
        unit: 'records/s',
        baseline: { name: 'awaited SET loop, one client', value: Math.round(sets) },
        goal: '≥ 3× the SET loop',
      },
      {
        name: 'state: ingestBatch on Redis vs the same on MemoryWindowStore (cost of Redis)',
        value: Math.round(e2e.perSecond),
        unit: 'records/s',
        baseline: { name: 'ingestBatch on MemoryWindowStore', value: Math.round(memory.perSecond) },
      },
      {
        name: 'state: client CPU per record, ingestBatch on Redis (robust to a busy machine)',
        value: e2e.clientCpuUs / lines.length,
        unit: 'µs/record',
        baseline: {
          name: 'ingestBatch on MemoryWindowStore',
          value: memory.clientCpuUs / lines.length,
        },
      },
      {
        name: 'state: redis-server CPU per record (whole server while the trace ran)',
        value: e2e.redisCpuUs / lines.length,
        unit: 'µs/record',
      },
      {
        name: 'state: Redis round trips per 10k-record batch (max over every batch of every run)',
        value: Math.max(...trips),
        unit: 'round trips',
        goal: '≤ 10',
      },
      {
        name: 'state: Redis round trips per 10k-record batch (mean)',
        value: meanTrips,
        unit: 'round trips',
        goal: '≤ 10',
      },
    ];
  } finally {
    await removeKeysWithPrefix(redis, prefix);
    redis.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let url = process.env.REDIS_URL;
  const server = url ? undefined : await startRedisServer();
  url ??= server!.url;
  try {
    for (const f of await run({ redisUrl: url })) {
      const base = f.baseline
        ? ` (baseline ${f.baseline.name}: ${f.baseline.value}; ${(f.value / f.baseline.value).toFixed(2)}×)`
        : '';
      console.log(`${f.name}: ${f.value} ${f.unit}${base}${f.goal ? `  goal: ${f.goal}` : ''}`);
    }
  } finally {
    await server?.stop();
  }
}
