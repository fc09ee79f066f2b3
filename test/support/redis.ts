/**
 * Test helpers for the shared redis-server: each call hands out DB numbers nobody else in this run
 * uses (an INCR in DB 0), so test files can run in parallel and FLUSHDB their own DBs.
 */
import { Redis } from 'ioredis';
import { inject } from 'vitest';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** Returns `n` unused DB numbers (1..255) for this test file. */
export async function allocateDbs(n: number): Promise<number[]> {
  const admin = new Redis(redisUrl(), { db: 0, lazyConnect: true });
  await admin.connect();
  try {
    const last = await admin.incrby('pushguard-test:db-counter', n);
    const dbs = Array.from({ length: n }, (_, i) => last - n + 1 + i);
    if (dbs.some((d) => d > 255)) throw new Error('out of test Redis DBs');
    return dbs;
  } finally {
    admin.disconnect();
  }
}

/** A connected client on `db`; remember to `disconnect()` it. */
export async function redisClient(db: number): Promise<Redis> {
  const client = new Redis(redisUrl(), { db, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

/** `redis://127.0.0.1:port/db` for code under test that takes a URL. */
export function redisUrlForDb(db: number): string {
  return `${redisUrl()}/${db}`;
}
