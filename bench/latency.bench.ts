/**
 * Seed-bug detection latency in local mode, p50/p95 over 20 runs: `pushguard local --json
 * --enforce` as a user runs it (child process, default settle delay and window). Per run: the
 * registry DB caches `blobs::<M>` for a fresh manifest digest M, then the revision link of M is
 * written through PushGuard's S3 endpoint with the AWS SDK while M's data is absent (what a
 * re-push over lost manifest data does). Timed from the PutObject call to the `finding` line and
 * to the `action` line that reports `blobs::<M>` cleared (and the key really gone). No real
 * registry is needed for this figure; the e2e suite measures the same path behind a real one.
 *
 * Runs alone with `npx tsx bench/latency.bench.ts` (starts its own redis-server unless REDIS_URL
 * is set). Uses two DBs that are empty when it starts and empties them when it ends. Prints
 * figures; never fails on speed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { connectRedis } from '../lambdas/adapters/redis-client.ts';
import { findingOf, startPushguardLocal } from '../test/support/pushguard-local.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import type { BenchContext, Figure } from './figures.ts';

const RUNS = 20;
const REPOSITORY = 'bench/latency';

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** `n` DBs holding no key, highest numbers first (away from the usual 0, 1 and 15). */
export async function emptyDbs(redisUrl: string, n: number): Promise<number[]> {
  let databases = 16;
  const probe = await connectRedis(`${redisUrl}/0`);
  try {
    const reply = (await probe.call('CONFIG', 'GET', 'databases')) as string[];
    databases = Number(reply[1]) || 16;
  } catch {
    // CONFIG not allowed for this user: assume the default of 16
  } finally {
    probe.disconnect();
  }
  const found: number[] = [];
  for (let db = Math.min(databases, 251) - 1; db > 1 && found.length < n; db--) {
    if (db === 15) continue;
    const client = await connectRedis(`${redisUrl}/${db}`);
    try {
      if ((await client.dbsize()) === 0) found.push(db);
    } finally {
      client.disconnect();
    }
  }
  if (found.length < n) throw new Error(`bench needs ${n} empty Redis DBs at ${redisUrl}`);
  return found;
}

const revisionLink = (digest: string) =>
  `docker/registry/v2/repositories/${REPOSITORY}/_manifests/revisions/sha256/${digest.slice(7)}/link`;

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const base = ctx.redisUrl.replace(/\/\d+$/, '');
  const [registryDb, stateDb] = (await emptyDbs(base, 2)) as [number, number];
  const registry = await connectRedis(`${base}/${registryDb}`);
  const auditDir = mkdtempSync(join(tmpdir(), 'pushguard-latency-'));
  const local = await startPushguardLocal({
    redisUrl: base,
    registryDb,
    enforce: true,
    extraArgs: ['--state-db', String(stateDb), '--audit-dir', auditDir],
  });
  const s3 = new S3Client({
    endpoint: local.ready.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'pushguard', secretAccessKey: 'pushguard-local-secret' },
  });
  const toFinding: number[] = [];
  const toCleared: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const digest = `sha256:${randomBytes(32).toString('hex')}`;
      // What the registry cached when it first served M.
      await registry
        .multi()
        .hset(`blobs::${digest}`, 'digest', digest, 'size', String(500 + i))
        .hsetnx(`blobs::${digest}`, 'mediatype', 'application/vnd.oci.image.manifest.v1+json')
        .exec();
      const from = local.received.length;
      const start = performance.now();
      await s3.send(
        new PutObjectCommand({
          Bucket: local.ready.bucket,
          Key: revisionLink(digest),
          Body: digest,
        })
      );
      const finding = await local.waitFor(
        (e) => e.event === 'finding' && findingOf(e).digest === digest,
        { from, timeoutMs: 30_000, what: `the finding of run ${i + 1}` }
      );
      const action = await local.waitFor((e) => e.event === 'action' && e.digest === digest, {
        from,
        timeoutMs: 30_000,
        what: `the action of run ${i + 1}`,
      });
      const cleared = action.data.clearedKeys as string[] | undefined;
      if (action.data.decision !== 'cleared' || !cleared?.includes(`blobs::${digest}`)) {
        throw new Error(
          `run ${i + 1}: expected blobs::${digest} cleared, got ${JSON.stringify(action.data)}`
        );
      }
      if ((await registry.exists(`blobs::${digest}`)) !== 0) {
        throw new Error(
          `run ${i + 1}: the action says cleared but blobs::${digest} is still there`
        );
      }
      toFinding.push(finding.at - start);
      toCleared.push(action.at - start);
    }
  } finally {
    s3.destroy();
    await local.stop();
    for (const db of [registryDb, stateDb]) {
      const c = await connectRedis(`${base}/${db}`);
      await c.flushdb(); // both were empty before this bench
      c.disconnect();
    }
    registry.disconnect();
    rmSync(auditDir, { recursive: true, force: true });
  }
  const settle = 500; // `pushguard local`'s default --settle, part of every clear
  return [
    {
      name: `latency: S3 PutObject → finding line, p50 (local, ${RUNS} runs)`,
      value: percentile(toFinding, 50),
      unit: 'ms',
    },
    {
      name: `latency: S3 PutObject → finding line, p95 (local, ${RUNS} runs)`,
      value: percentile(toFinding, 95),
      unit: 'ms',
    },
    {
      name: `latency: S3 PutObject → blobs::<M> cleared, p50 (local --enforce, ${RUNS} runs, settle ${settle} ms)`,
      value: percentile(toCleared, 50),
      unit: 'ms',
      goal: '≤ 2,000 ms at p95',
    },
    {
      name: `latency: S3 PutObject → blobs::<M> cleared, p95 (local --enforce, ${RUNS} runs, settle ${settle} ms)`,
      value: percentile(toCleared, 95),
      unit: 'ms',
      goal: '≤ 2,000 ms',
    },
    {
      name: `latency: S3 PutObject → blobs::<M> cleared, max (local --enforce, ${RUNS} runs)`,
      value: Math.max(...toCleared),
      unit: 'ms',
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let url = process.env.REDIS_URL;
  const server = url ? undefined : await startRedisServer();
  url ??= server!.url;
  try {
    for (const f of await run({ redisUrl: url })) {
      console.log(`${f.name}: ${f.value.toFixed(0)} ${f.unit}${f.goal ? `  goal: ${f.goal}` : ''}`);
    }
  } finally {
    await server?.stop();
  }
}
