/** Helpers shared by the window-store integration tests (not a test file itself). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Finding } from '../../lambdas/domain/types.ts';
import type { Clock, FindingPublisher } from '../../lambdas/ports.ts';

const TRACES = join(import.meta.dirname, '..', 'fixtures', 'registry-traces');

/** Message bodies of recorded traces, in delivery order, as SQS records. */
export function traceRecords(...names: string[]): { id: string; body: string }[] {
  return names.flatMap((name) =>
    readFileSync(join(TRACES, `${name}.s3events.ndjson`), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((body, i) => ({ id: `${name}#${i + 1}`, body }))
  );
}

/** A clock the test moves by hand. */
export function manualClock(
  start: number
): Clock & { set(t: number): void; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    set: (v: number) => {
      t = v;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** Collects what is published; fails the next `failures` calls first. */
export function collectingPublisher(failures = 0): FindingPublisher & {
  published: Finding[];
  calls: number;
} {
  const p = {
    published: [] as Finding[],
    calls: 0,
    async publish(findings: readonly Finding[]) {
      p.calls++;
      if (failures > 0) {
        failures--;
        throw new Error('publisher unavailable');
      }
      p.published.push(...findings);
    },
  };
  return p;
}

/**
 * Wraps a client and counts round trips: one per pipeline `exec`, one per direct command call.
 * `beforeCommand` runs before each counted call (to interleave another client, or kill the server).
 */
export function countingRedis(
  client: Redis,
  hooks: {
    afterPipeline?: (n: number) => Promise<void> | void;
    beforeCommand?: (name: string) => Promise<void> | void;
    /** Runs synchronously right after a command was handed to the client (sent or queued). */
    afterSend?: (name: string) => void;
  } = {}
): { client: Redis; count(): number; reset(): void; commands: string[] } {
  let n = 0;
  let pipelines = 0;
  const commands: string[] = [];
  const proxy = new Proxy(client, {
    get(target, prop, _receiver) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => unknown;
      if (prop === 'pipeline') {
        return (...args: unknown[]) => {
          const pipeline = fn.apply(target, args) as {
            exec: (...a: unknown[]) => Promise<unknown>;
          };
          const exec = pipeline.exec.bind(pipeline);
          pipeline.exec = async (...a: unknown[]) => {
            n++;
            commands.push('pipeline');
            const result = await exec(...a);
            await hooks.afterPipeline?.(++pipelines);
            return result;
          };
          return pipeline;
        };
      }
      if (
        [
          'on',
          'once',
          'off',
          'disconnect',
          'quit',
          'duplicate',
          'connect',
          'defineCommand',
        ].includes(String(prop))
      ) {
        return fn.bind(target);
      }
      return async (...args: unknown[]) => {
        const name = prop === 'call' ? String(args[0]) : String(prop);
        await hooks.beforeCommand?.(name);
        n++;
        commands.push(name);
        const sent = fn.apply(target, args);
        hooks.afterSend?.(name);
        return sent;
      };
    },
  });
  return {
    client: proxy,
    count: () => n,
    reset: () => {
      n = 0;
      commands.length = 0;
    },
    commands,
  };
}

export interface DumpedKey {
  type: string;
  value: unknown;
  pttl: number;
  /** Absolute expiry (PEXPIRETIME, epoch ms); -1 without a TTL. */
  expireAt: number;
}

/** Every key of the DB with its value (state version tokens left out) and its TTL. */
export async function dumpDb(redis: Redis): Promise<Record<string, DumpedKey>> {
  const out: Record<string, DumpedKey> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const pttl = await redis.pttl(key);
      const expireAt = Number(await redis.call('pexpiretime', key));
      let value: unknown;
      if (type === 'string') {
        const raw = (await redis.get(key)) ?? '';
        value = raw.startsWith('{"v":') ? (JSON.parse(raw) as { s: unknown }).s : raw;
      } else if (type === 'zset') {
        value = await redis.zrange(key, 0, -1, 'WITHSCORES');
      } else if (type === 'set') {
        value = (await redis.smembers(key)).sort();
      } else if (type === 'list') {
        value = (await redis.lrange(key, 0, -1)).map(
          (e) => (JSON.parse(e) as { finding: Finding }).finding
        );
      }
      out[key] = { type, value, pttl, expireAt };
    }
  } while (cursor !== '0');
  return out;
}

/** Findings reduced to what identifies them, sorted. */
export function summary(findings: readonly Finding[]): string[] {
  return findings
    .map((f) => `${f.kind} ${f.repository} ${f.digest ?? f.uploadId ?? ''} ${f.verified}`)
    .sort();
}
