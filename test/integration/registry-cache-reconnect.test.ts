/**
 * R8: a connection killed around a delete must not replay it after the reconnect. Runs on its own
 * redis-server (CLIENT PAUSE would stall every other test file on the shared one).
 *
 * In flight: CLIENT PAUSE WRITE holds the compare-and-delete script on the server, CLIENT KILL
 * drops the connection, the server never runs it, and ioredis reconnects. With ioredis defaults
 * the script is resent and deletes (the control test shows the hazard is real); with the options
 * RedisRegistryCache requires, it is not.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisRegistryCache } from '../../lambdas/adapters/redis-registry-cache.ts';
import { registryKeysFor } from '../../lambdas/domain/remediation.ts';
import { type RunningRedis, startRedisServer } from '../support/redis-server.ts';
import { connectFailFast, seedFromTrace } from '../support/seed-registry-cache.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
const LAYER = 'sha256:3a675ba150168bfe3bff53b39a3b926d510887d6379dc8da950cd142873f55ff';
const OTHER = 'sha256:59fe8815c3e1d65006a6bb92d8fb8c390ddd7c55cfbd4cc214e3e18ce8bd990f';
const DB = 1;

let server: RunningRedis;
let admin: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url, { db: DB, lazyConnect: true });
  await admin.connect();
});
afterAll(async () => {
  admin.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await admin.call('CLIENT', 'UNPAUSE');
  await admin.flushdb();
  await seedFromTrace(admin, TRACE, 'BEFORE');
});

async function clientId(name: string): Promise<string> {
  const list = String(await admin.call('CLIENT', 'LIST'));
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  const id = line && /id=(\d+)/.exec(line)?.[1];
  if (!id) throw new Error(`no client named ${name}`);
  return id;
}

/** Waits (polling CLIENT LIST) until `name` is blocked by the pause on a script. */
async function untilScriptHeld(name: string): Promise<void> {
  for (;;) {
    const list = String(await admin.call('CLIENT', 'LIST'));
    const line = list.split('\n').find((l) => l.includes(` name=${name} `)) ?? '';
    if (/ flags=b /.test(line) && / cmd=eval(sha)? /.test(line)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function once(client: Redis, event: 'ready' | 'close'): Promise<void> {
  return new Promise((resolve) => client.once(event, () => resolve()));
}

describe('R8 reconnect', () => {
  it('R8 reconnect: a compare-and-delete held when the connection is killed is not replayed', async () => {
    const name = 'remediator-inflight';
    // maxRetriesPerRequest 0: the cut-off command rejects at the close instead of at commandTimeout
    const victim = await connectFailFast(server.url, DB, {
      connectionName: name,
      maxRetriesPerRequest: 0,
    });
    try {
      const cache = new RedisRegistryCache(victim, { store: 'registry' });
      // load the script (EVALSHA then works) with a first, real delete of another digest
      await cache.compareAndDelete(await cache.snapshot(registryKeysFor('library/stale', OTHER)));
      const snaps = await cache.snapshot(registryKeysFor('library/stale', LAYER));

      await admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');
      const pending = cache.compareAndDelete(snaps).then(
        () => 'resolved',
        (e: Error) => `rejected: ${e.message}`
      );
      await untilScriptHeld(name);
      const closed = once(victim, 'close');
      const ready = once(victim, 'ready');
      await admin.call('CLIENT', 'KILL', 'ID', await clientId(name));
      await admin.call('CLIENT', 'UNPAUSE');
      await closed;
      await ready;
      expect(await victim.ping()).toBe('PONG'); // anything resent would have run before this

      expect(await pending).toMatch(/^rejected: /);
      expect(await admin.exists(`blobs::${LAYER}`)).toBe(1);
      expect(await admin.exists(`repository::library/stale::blobs::${LAYER}`)).toBe(1);
      expect(await admin.sismember('repository::library/stale::blobs', LAYER)).toBe(1);
    } finally {
      victim.disconnect();
    }
  });

  it('R8 reconnect: a delete asked for while disconnected is rejected, not queued', async () => {
    const name = 'remediator-offline';
    const victim = await connectFailFast(server.url, DB, { connectionName: name });
    try {
      const cache = new RedisRegistryCache(victim, { store: 'registry' });
      const snaps = await cache.snapshot(registryKeysFor('library/stale', LAYER));
      const closed = once(victim, 'close');
      const ready = once(victim, 'ready');
      await admin.call('CLIENT', 'KILL', 'ID', await clientId(name));
      await closed;
      await expect(cache.compareAndDelete(snaps)).rejects.toThrow(/enableOfflineQueue/);
      await ready;
      expect(await victim.ping()).toBe('PONG');
      expect(await admin.exists(`blobs::${LAYER}`)).toBe(1);
      expect(await admin.sismember('repository::library/stale::blobs', LAYER)).toBe(1);
    } finally {
      victim.disconnect();
    }
  });

  it('control: with ioredis defaults the held script IS replayed after the reconnect', async () => {
    const name = 'defaults-inflight';
    const naive = new Redis(server.url, { db: DB, connectionName: name, lazyConnect: true });
    await naive.connect();
    try {
      await admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');
      const pending = naive.eval("return redis.call('UNLINK', KEYS[1])", 1, `blobs::${LAYER}`);
      await untilScriptHeld(name);
      const ready = once(naive, 'ready');
      await admin.call('CLIENT', 'KILL', 'ID', await clientId(name));
      await admin.call('CLIENT', 'UNPAUSE');
      await ready;
      expect(await pending).toBe(1);
      expect(await admin.exists(`blobs::${LAYER}`)).toBe(0);
    } finally {
      naive.disconnect();
    }
  });
});
