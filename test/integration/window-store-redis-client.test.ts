import { describe, expect, it } from 'vitest';
import {
  connectRedis,
  createRedisClient,
  redisOptionsFromUrl,
} from '../../lambdas/adapters/redis-client.ts';
import { ConfigError } from '../../lambdas/domain/errors.ts';
import { allocateDbs, redisClient, redisUrlForDb } from '../support/redis.ts';
import { freePort } from '../support/redis-server.ts';

describe('Adapter: redis-client', () => {
  describe('redisOptionsFromUrl', () => {
    it('reads user, password, host, port and DB, and makes the client fail fast', () => {
      const o = redisOptionsFromUrl('redis://remediator:p%40ss%3Aw0rd@10.0.0.7:6380/2');
      expect(o).toMatchObject({
        host: '10.0.0.7',
        port: 6380,
        db: 2,
        username: 'remediator',
        password: 'p@ss:w0rd',
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 1,
        commandTimeout: 5000,
      });
      expect(o.tls).toBeUndefined();
    });

    it('uses TLS with the host as server name for rediss://, port 6379 and DB 0 by default', () => {
      const o = redisOptionsFromUrl('rediss://:secret@cache.example.internal', {
        commandTimeoutMs: 750,
        maxRetriesPerRequest: 0,
      });
      expect(o).toMatchObject({ host: 'cache.example.internal', port: 6379, db: 0 });
      expect(o.tls).toEqual({ servername: 'cache.example.internal' });
      expect(o.password).toBe('secret');
      expect(o.username).toBeUndefined();
      expect(o.commandTimeout).toBe(750);
      expect(o.maxRetriesPerRequest).toBe(0);
    });

    it('accepts an IPv6 host', () => {
      expect(redisOptionsFromUrl('redis://[::1]:7000/1')).toMatchObject({
        host: '::1',
        port: 7000,
      });
    });

    it.each([
      ['not a url', /not a URL/],
      ['http://host:6379/1', /scheme must be redis/],
      ['redis://host:6379/one', /database must be a non-negative integer/],
      ['redis://host:6379/1/2', /database must be a non-negative integer/],
    ])('refuses %s with a ConfigError', (url, message) => {
      expect(() => redisOptionsFromUrl(url)).toThrow(ConfigError);
      expect(() => redisOptionsFromUrl(url)).toThrow(message);
    });

    it('never echoes the password of an unparseable URL', () => {
      const url = 'redis://user:hunter2@host:port';
      expect(() => redisOptionsFromUrl(url)).toThrow(
        /redis URL is not a URL: redis:\/\/\*\*\*@host/
      );
      expect(() => redisOptionsFromUrl(url)).not.toThrow(/hunter2/);
    });
  });

  describe('connectRedis', () => {
    it('connects to the DB named in the URL', async () => {
      const [db] = await allocateDbs(1);
      const client = await connectRedis(redisUrlForDb(db!));
      const check = await redisClient(db!);
      try {
        await client.set('pushguard-test:which-db', String(db));
        expect(await check.get('pushguard-test:which-db')).toBe(String(db));
      } finally {
        client.disconnect();
        check.disconnect();
      }
    });

    it('rejects at once, never queues, while the server is unreachable', async () => {
      const port = await freePort();
      await expect(connectRedis(`redis://127.0.0.1:${port}/0`)).rejects.toThrow();
      const client = createRedisClient(`redis://127.0.0.1:${port}/0`);
      try {
        await expect(client.del('blobs::sha256:x')).rejects.toThrow(/enableOfflineQueue/);
      } finally {
        client.disconnect();
      }
    });
  });
});
