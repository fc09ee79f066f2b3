/**
 * Redis dies in the middle of a batch: apply rejects and nothing is half-written. A second,
 * private redis-server with an append-only file (fsync always) is killed with SIGKILL and started
 * again from the same directory, so what survives is exactly what Redis had acknowledged.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisWindowStore } from '../../lambdas/adapters/redis-window-store.ts';
import { ingestBatch } from '../../lambdas/app/ingest.ts';
import type { EngineConfig } from '../../lambdas/domain/engine.ts';
import { MalformedEventError } from '../../lambdas/domain/errors.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import type { NormalizedEvent } from '../../lambdas/domain/types.ts';
import { allocateDbs, redisUrlForDb } from '../support/redis.ts';
import { type RunningRedis, startRedisServer } from '../support/redis-server.ts';
import {
  collectingPublisher,
  countingRedis,
  dumpDb,
  manualClock,
  traceRecords,
} from './window-store.helpers.ts';

const ENGINE: EngineConfig = { windowMs: 60_000, reportUnverified: false, rootDirectory: 'harbor' };

const eventsOf = (records: { body: string }[]): NormalizedEvent[] =>
  records.flatMap((r) => normalizeMessage(r.body, { rootDirectory: 'harbor' }).events);
const lastTime = (records: { body: string }[]) => Math.max(...eventsOf(records).map((e) => e.time));
const values = (d: Awaited<ReturnType<typeof dumpDb>>) =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.value]));

describe('Adapter: RedisWindowStore when Redis dies mid-batch', () => {
  let dataDir: string;
  let server: RunningRedis | undefined;
  const clients: Redis[] = [];
  const records = traceRecords('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
  const batch1 = eventsOf(records.slice(0, 24));
  const batch2 = eventsOf(records.slice(24));
  const now = lastTime(records);
  let afterBatch1: Record<string, unknown>;
  let afterBoth: Record<string, unknown>;

  const start = async () => {
    server = await startRedisServer([
      '--dir',
      dataDir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ]);
    return server;
  };
  const client = async (url: string) => {
    const c = await connectRedis(url);
    clients.push(c);
    return c;
  };
  /** SIGKILL, as a crash or an OOM kill would (no shutdown, no final fsync). */
  const kill = () => {
    const s = server;
    if (!s) return;
    server = undefined;
    const ownDir = s.process.spawnargs[s.process.spawnargs.indexOf('--dir') + 1];
    s.process.once('exit', () => {
      if (ownDir && ownDir !== dataDir) rmSync(ownDir, { recursive: true, force: true });
    });
    s.process.kill('SIGKILL');
  };
  const waitForExit = async (s: RunningRedis) => {
    if (s.process.exitCode === null && s.process.signalCode === null) {
      await new Promise((r) => s.process.once('exit', r));
    }
  };

  beforeAll(async () => {
    // The reference states, computed on the shared server.
    const [one, both] = await allocateDbs(2);
    const a = await client(redisUrlForDb(one!));
    const b = await client(redisUrlForDb(both!));
    await a.flushdb();
    await b.flushdb();
    await new RedisWindowStore({ redis: a, engine: ENGINE }).apply(batch1, now);
    const full = new RedisWindowStore({ redis: b, engine: ENGINE });
    await full.apply(batch1, now);
    await full.apply(batch2, now);
    afterBatch1 = values(await dumpDb(a));
    afterBoth = values(await dumpDb(b));
    expect(afterBoth).not.toEqual(afterBatch1);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    const s = server;
    if (s) {
      server = undefined;
      await s.stop();
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  const freshDir = () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pushguard-crash-'));
  };

  it('rejects when Redis dies between the read and the write, and leaves the state as it was', async () => {
    // Prepare
    freshDir();
    const first = await start();
    const redis = await client(first.url);
    let armed = false;
    const wrapped = countingRedis(redis, {
      beforeCommand: async (name) => {
        if (!armed || !isScript(name)) return;
        armed = false;
        const s = server!;
        kill();
        await waitForExit(s);
      },
    });
    const store = new RedisWindowStore({ redis: wrapped.client, engine: ENGINE });
    await store.apply(batch1, now);
    // Act
    armed = true;
    await expect(store.apply(batch2, now)).rejects.toThrow();
    // Assess: restarted from its append-only file, Redis holds exactly batch 1
    const second = await start();
    const after = await client(second.url);
    expect(values(await dumpDb(after))).toEqual(afterBatch1);
    // and the redelivered batch applies cleanly (ioredis sends EVAL on NOSCRIPT)
    const counted = countingRedis(after);
    await new RedisWindowStore({ redis: counted.client, engine: ENGINE }).apply(batch2, now);
    expect(counted.commands).toEqual(['pushguardWindowRead', 'pushguardWindowApply']);
    expect(values(await dumpDb(after))).toEqual(afterBoth);
  });

  it('writes all of a batch or none of it when Redis dies as the script is sent', async () => {
    freshDir();
    const first = await start();
    const redis = await client(first.url);
    let armed = false;
    const wrapped = countingRedis(redis, {
      afterSend: (name) => {
        if (!armed || !isScript(name)) return;
        armed = false;
        kill();
      },
    });
    const store = new RedisWindowStore({ redis: wrapped.client, engine: ENGINE });
    await store.apply(batch1, now);
    armed = true;
    const outcome = await store.apply(batch2, now).then(
      () => 'resolved',
      () => 'rejected'
    );
    const second = await start();
    const after = values(await dumpDb(await client(second.url)));
    // Either the script never ran, or it ran in full (a lost reply): never a mix.
    // A resolved apply ran in full; a rejected one may have run or not (a lost reply).
    const possible = outcome === 'resolved' ? [afterBoth] : [afterBatch1, afterBoth];
    expect(possible).toContainEqual(after);
  });

  it('fails every record that carried events when Redis is down, and still reports the malformed one', async () => {
    freshDir();
    const first = await start();
    const redis = await client(first.url);
    const store = new RedisWindowStore({ redis, engine: ENGINE });
    kill();
    await waitForExit(first);
    const input = [
      ...records.slice(0, 3),
      {
        id: 'test-event',
        body: readFileSync(
          join(import.meta.dirname, '../fixtures/s3-events/s3_sqs_test_event.json'),
          'utf8'
        ),
      },
      { id: 'bad', body: '{"Records":[{"eventName":42}]}' },
    ];
    const result = await ingestBatch(input, {
      store,
      publisher: collectingPublisher(),
      clock: manualClock(now),
    });
    expect(result.skipped).toBe(1);
    expect(result.failures.map((f) => f.id).sort()).toEqual(
      ['bad', ...records.slice(0, 3).map((r) => r.id)].sort()
    );
    expect(result.failures.find((f) => f.id === 'bad')?.error).toBeInstanceOf(MalformedEventError);
    const down = result.failures.find((f) => f.id !== 'bad')?.error;
    expect(down).not.toBeInstanceOf(MalformedEventError);
    expect(down?.message).toMatch(/writeable|closed|ECONNREFUSED|Connection/i);
  });
});

/** A window store script (registered with defineCommand, see redis-window-scripts.ts). */
function isScript(name: string): boolean {
  return name.startsWith('pushguardWindow');
}
