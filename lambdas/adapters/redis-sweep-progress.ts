/**
 * SweepProgress in PushGuard's state DB: one string key holding the registry DB's SCAN cursor
 * where the last sweep stopped. It expires after a week, so a sweep that stopped for good (config
 * changed, DB flushed) starts over rather than resuming from a meaningless cursor.
 */
import type { Redis } from 'ioredis';
import type { SweepProgress } from '../ports.ts';

const WEEK_SECONDS = 7 * 24 * 3600;

export class RedisSweepProgress implements SweepProgress {
  constructor(
    private readonly redis: Pick<Redis, 'get' | 'set' | 'del'>,
    private readonly key = 'pushguard:sweep:cursor'
  ) {}

  async load(): Promise<string | undefined> {
    const v = await this.redis.get(this.key);
    return v !== null && /^\d+$/.test(v) ? v : undefined;
  }

  async save(cursor: string): Promise<void> {
    if (cursor === '0') await this.redis.del(this.key);
    else await this.redis.set(this.key, cursor, 'EX', WEEK_SECONDS);
  }
}
