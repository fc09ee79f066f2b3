/**
 * Test helpers for the shared redis-server: each call hands out DB numbers nobody else in this run
 * uses, so test files can run in parallel and FLUSHDB their own DBs. Claims are directories made
 * with mkdir (atomic across processes) under a folder the global setup created: no FLUSHDB of any
 * Redis DB can reset them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

export function redisUrl(): string {
  return inject('redisUrl');
}

const MAX_DB = 1023;
/** DBs below this are the ones real deployments and defaults use (0, 1, 2, 15...): never handed out. */
const FIRST_TEST_DB = 32;

/** Returns `n` unused DB numbers (32..1023) for this test file. */
export async function allocateDbs(n: number): Promise<number[]> {
  const dir = inject('dbClaimDir');
  const dbs: number[] = [];
  for (let db = FIRST_TEST_DB; db <= MAX_DB && dbs.length < n; db++) {
    try {
      mkdirSync(join(dir, String(db)));
      dbs.push(db);
    } catch {
      // claimed by another test file
    }
  }
  if (dbs.length < n) throw new Error(`out of test Redis DBs (wanted ${n}, got ${dbs.length})`);
  return dbs;
}

function assertDb(db: number): void {
  if (!Number.isInteger(db) || db < 1 || db > MAX_DB) {
    throw new Error(`test DB must be an allocated number 1..${MAX_DB}, got ${db}`);
  }
}

/** A connected client on `db`; remember to `disconnect()` it. */
export async function redisClient(db: number): Promise<Redis> {
  assertDb(db);
  const client = new Redis(redisUrl(), { db, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

/** `redis://127.0.0.1:port/db` for code under test that takes a URL. */
export function redisUrlForDb(db: number): string {
  assertDb(db);
  return `${redisUrl()}/${db}`;
}
