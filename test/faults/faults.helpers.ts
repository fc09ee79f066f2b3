/**
 * Helpers shared by the fault tests (not a test file itself): S3 behind the fault proxy, Redis
 * clients that wait out a reconnect, a seeded PRNG, an SQS-like redelivery loop around
 * ingestBatch, and the recorded traces' expected storage contents.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { type IngestDeps, type IngestResult, ingestBatch } from '../../lambdas/app/ingest.ts';
import { closeDueWindows, type WindowCheckDeps } from '../../lambdas/app/window-check.ts';
import type { EngineConfig } from '../../lambdas/domain/engine.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import type { Finding } from '../../lambdas/domain/types.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';

export const ROOT = 'harbor';
export const W = 60_000;
export const ENGINE: EngineConfig = { windowMs: W, reportUnverified: false, rootDirectory: ROOT };
/** The manifest e1+e2+e3 leave cached with its data gone (registry-traces/README.md). */
export const STALE_M = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';

export type Records = { id: string; body: string }[];

export const eventsOf = (records: Records) =>
  records.flatMap((r) => normalizeMessage(r.body, { rootDirectory: ROOT }).events);
export const lastTime = (records: Records) => Math.max(...eventsOf(records).map((e) => e.time));

/** Object keys of blob data a trace leaves in place (created and not removed since). */
export function blobDataLeft(records: Records): string[] {
  const left = new Set<string>();
  for (const e of eventsOf(records)) {
    if (e.source !== 'storage' || e.storageKey.kind !== 'blob-data') continue;
    if (e.op === 'created') left.add(e.key);
    else left.delete(e.key);
  }
  return [...left];
}

/** Creates `bucket` and puts every key (a few bytes each). */
export async function seedBucket(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
}

/** A fault proxy in front of an HTTP endpoint and an S3 client that goes through it, no retries. */
export async function s3BehindProxy(
  endpoint: string
): Promise<{ proxy: FaultProxy; s3: S3Client; close(): Promise<void> }> {
  const url = new URL(endpoint);
  const proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
  const s3 = new S3Client({
    endpoint: `http://${proxy.address}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    proxy,
    s3,
    close: async () => {
      s3.destroy();
      await proxy.close();
    },
  };
}

/** Resolves once `client` is connected again (at once if it is). */
export function untilReady(client: Redis, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis client still ${client.status} after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** mulberry32: a small seeded PRNG, so every fuzzed or shuffled input can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface Delivery {
  /** Every ingestBatch result, in order. */
  results: { batch: string[]; result: IngestResult }[];
  /** Deliveries per record id. */
  receives: Map<string, number>;
  /** Records given up on (would be dead-lettered). */
  deadLettered: string[];
}

/**
 * SQS semantics around ingestBatch: batches of `batchSize`, a failed record comes back at the end
 * of the queue (after its visibility timeout), and is dead-lettered after `maxReceiveCount`
 * receives. `beforeRetry` runs before a batch that follows a failure (wait for Redis...).
 */
export async function deliverAll(
  records: Records,
  deps: IngestDeps,
  opts: { batchSize?: number; maxReceiveCount?: number; beforeRetry?: () => Promise<void> } = {}
): Promise<Delivery> {
  const queue = [...records];
  const out: Delivery = { results: [], receives: new Map(), deadLettered: [] };
  let failedBefore = false;
  while (queue.length > 0) {
    const batch = queue.splice(0, opts.batchSize ?? 10);
    if (failedBefore) await opts.beforeRetry?.();
    for (const r of batch) out.receives.set(r.id, (out.receives.get(r.id) ?? 0) + 1);
    const result = await ingestBatch(batch, deps);
    out.results.push({ batch: batch.map((r) => r.id), result });
    failedBefore = result.failures.length > 0 || (result.deferred?.length ?? 0) > 0;
    const failed = new Set(result.failures.map((f) => f.id));
    for (const r of batch) {
      if (!failed.has(r.id)) continue;
      if ((out.receives.get(r.id) ?? 0) >= (opts.maxReceiveCount ?? 5)) out.deadLettered.push(r.id);
      else queue.push(r);
    }
  }
  return out;
}

/**
 * The scheduled window check, `rounds` times a window apart (the clock must be a manual one).
 * A failing poll is retried at the next one, as the schedule would.
 */
export async function closeWindows(
  deps: WindowCheckDeps & { clock: { advance(ms: number): void } },
  rounds = 6,
  beforePoll?: () => Promise<void>
): Promise<{ findings: Finding[]; errors: Error[] }> {
  const findings: Finding[] = [];
  const errors: Error[] = [];
  for (let i = 0; i < rounds; i++) {
    deps.clock.advance(W);
    await beforePoll?.();
    try {
      const res = await closeDueWindows(deps);
      findings.push(...res.findings);
      errors.push(...(res.deferred ?? []));
    } catch (err) {
      errors.push(err as Error);
    }
  }
  return { findings, errors };
}

/** Findings reduced to what identifies them, sorted and without repeats. */
export function distinct(findings: readonly Finding[]): string[] {
  return [
    ...new Set(
      findings.map((f) => `${f.kind} ${f.repository} ${f.digest ?? f.uploadId ?? ''} ${f.verified}`)
    ),
  ].sort();
}

export interface PairedTiming<K extends string> {
  meanNs: Record<K, number>;
  medianNs: Record<K, number>;
  /** Median over rounds of (variant time / `base` time in the same round). */
  medianRatio: Record<K, number>;
}

/**
 * Paired timing: `rounds` rounds, each timing `perRound` calls of every variant in a shuffled
 * order, so drift, GC and JIT hit all variants alike. Returns per-call means and medians, and the
 * median per-round ratio of each variant to `base`.
 */
export async function pairedTiming<K extends string>(
  call: (input: string) => unknown | Promise<unknown>,
  variants: Record<K, string>,
  base: K,
  opts: { rounds?: number; perRound?: number; seed?: number } = {}
): Promise<PairedTiming<K>> {
  const rounds = opts.rounds ?? 100;
  const perRound = opts.perRound ?? 100;
  const random = prng(opts.seed ?? 4242);
  const keys = Object.keys(variants) as K[];
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < 2000; i++) for (const k of keys) await call(variants[k]); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const k of shuffle(keys, random)) {
      const input = variants[k];
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) await call(input);
      samples[k].push(Number(process.hrtime.bigint() - start) / perRound);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const out = { meanNs: {}, medianNs: {}, medianRatio: {} } as PairedTiming<K>;
  for (const k of keys) {
    out.meanNs[k] = samples[k].reduce((a, b) => a + b, 0) / samples[k].length;
    out.medianNs[k] = median(samples[k]);
    out.medianRatio[k] = median(samples[k].map((t, i) => t / samples[base][i]!));
  }
  return out;
}

/** What a short-circuiting comparison would do: stop at the first differing character. */
export function naiveMatches(given: string | undefined, secrets: readonly string[]): boolean {
  if (given === undefined) return false;
  for (const s of secrets) {
    if (s.length !== given.length) continue;
    let i = 0;
    while (i < s.length && s.charCodeAt(i) === given.charCodeAt(i)) i++;
    if (i === s.length) return true;
  }
  return false;
}

/** A 1 KB bearer token and two of the same length, wrong in the first or the last byte. */
export function tokenVariants(secret: string) {
  const flip = (s: string, at: number) =>
    s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
  return {
    right: secret,
    wrongFirstByte: flip(secret, 0),
    wrongLastByte: flip(secret, secret.length - 1),
  };
}
