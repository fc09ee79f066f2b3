/**
 * Delivery dedupe on Redis: `SET key 1 NX EX ttl`, one round trip, atomic across concurrent
 * invocations. Lives in PushGuard's own state DB, never the registry's.
 */
import type { Redis } from 'ioredis';

export class RedisDedupe {
  constructor(
    private readonly redis: Pick<Redis, 'set' | 'del'>,
    private readonly prefix = 'pushguard:dedupe:'
  ) {}

  /** `true` the first time `key` is seen within `ttlSeconds`. */
  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    return (await this.redis.set(this.prefix + key, '1', 'EX', ttl, 'NX')) === 'OK';
  }

  /** Forgets `key` (the delivery it stood for was not processed). */
  async release(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}
