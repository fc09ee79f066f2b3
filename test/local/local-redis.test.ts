import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  baseRedisUrl,
  redisAnswers,
  resolveRedis,
  startRedisServer,
} from '../../lambdas/local/local-redis.ts';
import { redisUrl } from '../support/redis.ts';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('pushguard local: finding Redis', () => {
  it('uses a Redis that answers, dropping any DB from its URL', async () => {
    expect(await redisAnswers(redisUrl())).toBe(true);
    const got = await resolveRedis({ url: `${redisUrl()}/7`, env: {} });
    expect(got).toEqual({ url: redisUrl() });
    expect(baseRedisUrl('redis://:pw@127.0.0.1:6390/3')).toBe('redis://:pw@127.0.0.1:6390');
  });

  it('starts its own redis-server when none answers, says so, and stops it', async () => {
    const port = await closedPort();
    expect(await redisAnswers(`redis://127.0.0.1:${port}`)).toBe(false);
    const got = await resolveRedis({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    try {
      expect(got.started).toBeDefined();
      expect(got.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(got.note).toContain(`no Redis answered at redis://127.0.0.1:${port}`);
      expect(await redisAnswers(got.url)).toBe(true);
    } finally {
      await got.started?.stop();
    }
    expect(await redisAnswers(got.url)).toBe(false);
  });

  it('without redis-server on PATH the error names the install command', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startRedisServer()).rejects.toThrow(/apt-get install -y redis-server/);
    } finally {
      process.env.PATH = path;
    }
  });
});
