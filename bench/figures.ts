import type { Redis } from 'ioredis';

/** One measured figure, printed by `npm run bench` and written to bench/results.json. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run, when the figure is compared to one. */
  baseline?: { name: string; value: number };
  /** The target, in words (e.g. "≥ 0.5× baseline"); benchmarks never fail on it. */
  goal?: string;
}

export interface BenchContext {
  redisUrl: string;
}

/** Runs `fn` repeatedly for at least `minMs` and returns operations per second. */
export async function throughput(
  ops: number,
  fn: () => unknown | Promise<unknown>
): Promise<{ perSecond: number; ms: number }> {
  const start = process.hrtime.bigint();
  await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { perSecond: (ops * 1000) / ms, ms };
}

export function ratio(value: number, baseline: number): string {
  return `${(value / baseline).toFixed(2)}×`;
}

/** Removes a benchmark's own keys (SCAN + UNLINK by prefix, never KEYS or FLUSH). */
export async function removeKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
