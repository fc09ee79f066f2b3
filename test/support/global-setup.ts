/**
 * Builds the CLI once (`npm run build`: the tests that spawn `bin/pushguard.mjs` run what ships),
 * starts one real redis-server for the whole test run on a free 127.0.0.1 port (unless REDIS_URL
 * is set) and hands its URL to the tests through `inject('redisUrl')`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.ts';

let stop: (() => Promise<void>) | undefined;

/** The repository root. */
const root = join(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
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
