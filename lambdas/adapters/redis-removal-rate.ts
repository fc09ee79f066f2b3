/**
 * RemovalRate in PushGuard's own Redis state DB: one counter per 10-second bucket
 * (`<prefix>removals:<bucket>`, expiring after 70 s), so every remediator sees the same rate of
 * blob data removals. INCR then MGET of the six buckets of the last minute: one round trip.
 */
import type { Redis } from 'ioredis';
import type { RemovalRate } from '../ports.ts';

const BUCKET_MS = 10_000;

export class RedisRemovalRate implements RemovalRate {
  constructor(
    private readonly client: Redis,
    private readonly prefix = 'pushguard:'
  ) {}

  async current(now: number): Promise<number> {
    const bucket = Math.floor(now / BUCKET_MS);
    const keys = Array.from({ length: 6 }, (_, i) => `${this.prefix}removals:${bucket - i}`);
    return (await this.client.mget(...keys)).reduce((n, v) => n + Number(v ?? 0), 0);
  }

  async record(now: number): Promise<number> {
    const bucket = Math.floor(now / BUCKET_MS);
    const keys = Array.from({ length: 6 }, (_, i) => `${this.prefix}removals:${bucket - i}`);
    const replies = await this.client
      .multi()
      .incr(keys[0]!)
      .pexpire(keys[0]!, 7 * BUCKET_MS)
      .mget(...keys.slice(1))
      .exec();
    if (!replies) throw new Error('removal rate: transaction aborted');
    const [incr, , older] = replies;
    if (incr?.[0] || older?.[0]) throw incr?.[0] ?? older?.[0];
    const past = ((older?.[1] ?? []) as (string | null)[]).reduce((n, v) => n + Number(v ?? 0), 0);
    return Number(incr?.[1] ?? 0) + past;
  }
}
