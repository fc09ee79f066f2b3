/**
 * Starts one real redis-server for the whole test run on a free 127.0.0.1 port (unless REDIS_URL
 * is set) and hands its URL to the tests through `inject('redisUrl')`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.ts';

let stop: (() => Promise<void>) | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.REDIS_URL;
  if (!url) {
    const server = await startRedisServer();
    url = server.url;
    stop = server.stop;
  }
  project.provide('redisUrl', url);
  const claims = mkdtempSync(join(tmpdir(), 'pushguard-test-dbs-'));
  project.provide('dbClaimDir', claims);
  return async () => {
    await stop?.();
    rmSync(claims, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    dbClaimDir: string;
  }
}
