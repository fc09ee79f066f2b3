/**
 * The audit sweep: throughput on 100k cached digests against fauxqs, and peak RSS at 1M keys.
 *
 * - fauxqs runs in its own process (like S3, it is not on the sweep's CPU budget); the data
 *   objects are PUT into it with plain HTTP (seeding is not measured); 1% of the cached digests
 *   have no data (stale).
 * - The registry cache is seeded as distribution v2.8 writes it: 90% layers in repository sets
 *   (1,000 repositories), 10% manifests (`blobs::` only), in a Redis DB found empty on the server
 *   (200..255), claimed with a marker and flushed at the end.
 * - PushGuard: runAudit (SCAN, HEAD each digest, attribution, confirmation) at concurrency 32, in
 *   a child process of its own (so its peak RSS is its own too). Baselines in the same run: a bare
 *   loop of HeadObject calls over the same keys, 32 at a time, no Redis at all; and a serial loop.
 * - The same comparison with 20 ms added per round trip (10 ms each way, TCP fault proxy) on 20k
 *   digests: local fauxqs answers in well under a millisecond, real S3 does not, and concurrency
 *   only pays when there is latency to overlap.
 * - Peak RSS at 1M cached digests: the sweep in its own process with a raw node:http HEAD checker
 *   against a stub S3 (200, or 404 for 1/256 of the digests). The AWS SDK costs ~1 ms of CPU per
 *   request, which would make 1M HEADs take ~20 min here; its memory is per request in flight and
 *   is measured by the 100k SDK run. `BENCH_AUDIT_RSS_SDK=1` uses the SDK checker at 1M anyway.
 *
 * Runs alone with `npx tsx bench/audit.bench.ts` (starts its own redis-server unless REDIS_URL is
 * set; BENCH_AUDIT_DIGESTS / BENCH_AUDIT_RSS_KEYS shrink it). Prints figures; never fails on speed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { RedisRegistryCache } from '../lambdas/adapters/redis-registry-cache.ts';
import { S3StorageChecker } from '../lambdas/adapters/s3-storage-checker.ts';
import { runAudit } from '../lambdas/app/audit.ts';
import { blobDataKey } from '../lambdas/domain/keys.ts';
import type { Presence, StorageChecker } from '../lambdas/ports.ts';
import { startFaultProxy } from '../test/support/fault-proxy.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import type { BenchContext, Figure } from './figures.ts';

const HERE = fileURLToPath(import.meta.url);
const BUCKET = 'registry';
const ROOT = 'harbor';
const CONCURRENCY = 32;
const DIGESTS = Number(process.env.BENCH_AUDIT_DIGESTS ?? 100_000);
const LATENCY_DIGESTS = Math.min(20_000, DIGESTS);
const RTT_MS = 20;
const RSS_KEYS = Number(process.env.BENCH_AUDIT_RSS_KEYS ?? 1_000_000);
const CLAIM = 'pushguard-bench:audit-claim';
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

const log = (msg: string) => process.stderr.write(`bench audit: ${msg}\n`);
const digestAt = (i: number) =>
  `sha256:${createHash('sha256').update(`audit-bench-${i}`).digest('hex')}`;
/** 1% stale. */
const staleAt = (i: number) => i % 100 === 99;

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: CONCURRENCY } },
  });
}

interface SweepResult {
  checked: number;
  stale: number;
  unknown: number;
  s: number;
  maxRssMb: number;
  startRssMb: number;
}

/** Starts this file in a role, in a child process; resolves to its first JSON line. */
function child(role: string, env: Record<string, string>) {
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', HERE, `--role=${role}`], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.once('exit', (code) => reject(new Error(`bench child ${role} exited with ${code}`)));
  });
  return { proc, first };
}

/** The sweep alone in a child process. */
async function sweepInChild(
  redisUrl: string,
  endpoint: string,
  checker: 'sdk' | 'raw'
): Promise<SweepResult> {
  const c = child('sweep', { BENCH_REDIS: redisUrl, BENCH_S3: endpoint, BENCH_CHECKER: checker });
  const out = (await c.first) as unknown as SweepResult;
  await new Promise((r) => (c.proc.exitCode === null ? c.proc.once('exit', r) : r(null)));
  return out;
}

/** A DB found empty on the server, claimed with a marker; flushed by `release`. */
async function claimEmptyDb(redisUrl: string): Promise<{ db: number; client: Redis }> {
  for (let db = 255; db >= 200; db--) {
    const client = new Redis(`${redisUrl}/${db}`, { lazyConnect: true });
    await client.connect();
    if ((await client.dbsize()) === 0 && (await client.set(CLAIM, '1', 'NX')) === 'OK') {
      return { db, client };
    }
    client.disconnect();
  }
  throw new Error('no empty Redis DB in 200..255 for the audit bench');
}

async function reset(client: Redis): Promise<void> {
  if ((await client.get(CLAIM)) !== '1') throw new Error('bench DB lost its claim marker');
  await client.flushdb();
  await client.set(CLAIM, '1');
}

/** n digests: 90% layers in 1,000 repository sets, 10% manifests. Pipelined, bounded memory. */
async function seedCache(client: Redis, n: number): Promise<void> {
  const chunk = 2000;
  for (let start = 0; start < n; start += chunk) {
    const p = client.pipeline();
    for (let i = start; i < Math.min(n, start + chunk); i++) {
      const d = digestAt(i);
      p.hset(`blobs::${d}`, 'digest', d, 'size', String(1000 + (i % 977)));
      p.hsetnx(`blobs::${d}`, 'mediatype', 'application/octet-stream');
      if (i % 10 !== 0) {
        const repo = `project-${i % 50}/app-${i % 1000}`;
        p.sadd(`repository::${repo}::blobs`, d);
        p.hset(`repository::${repo}::blobs::${d}`, 'mediatype', 'application/octet-stream');
      }
    }
    await p.exec();
  }
}

/** Plain HTTP requests against an S3-like endpoint (seeding, and the raw RSS checker). */
function rawHttp(endpoint: string) {
  const url = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
  const send = (method: string, path: string, body?: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, agent }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      });
      req.once('error', reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

/** A StorageChecker over raw HTTP (no SDK, no signing): for the 1M-key RSS run only. */
class RawHttpChecker implements StorageChecker {
  private readonly http: ReturnType<typeof rawHttp>;
  constructor(endpoint: string) {
    this.http = rawHttp(endpoint);
  }
  async head(key: string): Promise<Presence> {
    try {
      const status = await this.http.send('HEAD', `/${BUCKET}/${key}`);
      return status === 200 ? 'present' : status === 404 ? 'missing' : 'unknown';
    } catch {
      return 'unknown';
    }
  }
  async readManifest(): Promise<{ presence: Presence }> {
    return { presence: 'unknown' };
  }
  destroy(): void {
    this.http.close();
  }
}

/** A minimal "S3" that has every object except 1/256 of them (hex starting with 00). */
async function stubS3(): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    const missing = /\/blobs\/sha256\/00\//.test(req.url ?? '');
    res.writeHead(missing ? 404 : 200, { 'content-length': '0', etag: '"e"' });
    res.end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, endpoint: `http://127.0.0.1:${port}` };
}

/** Bare HeadObject loops over `keys`: `workers` at a time. */
async function headLoop(s3: S3Client, keys: readonly string[], workers: number): Promise<number> {
  const t = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < keys.length) {
        const Key = keys[next++] as string;
        await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key })).catch(() => undefined);
      }
    })
  );
  return keys.length / seconds(t);
}

/** PushGuard vs the bare concurrent loop and the serial loop, on `n` digests at `endpoint`. */
async function compare(
  redisUrl: string,
  endpoint: string,
  n: number,
  serialSample: number
): Promise<{ sweep: SweepResult; rate: number; bare: number; serial: number }> {
  const s3 = s3Client(endpoint);
  try {
    const keys = Array.from({ length: n }, (_, i) => blobDataKey(ROOT, digestAt(i)));
    await headLoop(s3, keys.slice(0, Math.min(2000, n)), CONCURRENCY); // warm-up
    const sweep = await sweepInChild(redisUrl, endpoint, 'sdk');
    if (sweep.checked !== n || sweep.stale !== Math.floor(n / 100) || sweep.unknown !== 0) {
      throw new Error(`audit bench: unexpected sweep ${JSON.stringify(sweep)}`);
    }
    const rate = sweep.checked / sweep.s;
    log(`sweep of ${n}: ${rate.toFixed(0)} digests/s, peak RSS ${sweep.maxRssMb.toFixed(0)} MB`);
    const bare = await headLoop(s3, keys, CONCURRENCY);
    log(`bare loop: ${bare.toFixed(0)} HEAD/s`);
    const serial = await headLoop(s3, keys.slice(0, serialSample), 1);
    log(`serial loop: ${serial.toFixed(0)} HEAD/s`);
    return { sweep, rate, bare, serial };
  } finally {
    s3.destroy();
  }
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const figures: Figure[] = [];
  const fauxqs = child('fauxqs', {});
  const { endpoint } = (await fauxqs.first) as { endpoint: string };
  const { db, client } = await claimEmptyDb(ctx.redisUrl);
  const dbUrl = `${ctx.redisUrl}/${db}`;
  try {
    // Prepare: the bucket (plain HTTP PUTs) and the cache.
    log(`fauxqs at ${endpoint}, Redis DB ${db}; seeding ${DIGESTS} digests`);
    let t = process.hrtime.bigint();
    const http = rawHttp(endpoint);
    if ((await http.send('PUT', `/${BUCKET}`)) !== 200) throw new Error('cannot create bucket');
    const put = pLimit(CONCURRENCY);
    const puts: Promise<number>[] = [];
    for (let i = 0; i < DIGESTS; i++) {
      if (staleAt(i)) continue;
      const path = `/${BUCKET}/${blobDataKey(ROOT, digestAt(i))}`;
      puts.push(put(() => http.send('PUT', path, 'x')));
      if (puts.length >= 5000) {
        if ((await Promise.all(puts.splice(0))).some((s) => s !== 200)) throw new Error('PUT');
      }
    }
    if ((await Promise.all(puts)).some((s) => s !== 200)) throw new Error('PUT failed');
    http.close();
    await seedCache(client, DIGESTS);
    log(`seeded in ${seconds(t).toFixed(1)} s`);

    // 1. Straight to fauxqs.
    const direct = await compare(dbUrl, endpoint, DIGESTS, Math.min(5000, DIGESTS));
    const name = `audit sweep, ${DIGESTS / 1000}k cached digests, fauxqs, concurrency ${CONCURRENCY}`;
    figures.push(
      {
        name: `${name} vs bare concurrent HEAD loop`,
        value: direct.rate,
        unit: 'digests/s',
        baseline: { name: `bare HeadObject loop, ${CONCURRENCY} at a time`, value: direct.bare },
        goal: '≥ 0.8× baseline',
      },
      {
        name: `${name} vs serial HEAD loop`,
        value: direct.rate,
        unit: 'digests/s',
        baseline: { name: 'serial HeadObject loop', value: direct.serial },
        goal: '≥ 20× baseline',
      },
      {
        name: `audit sweep peak RSS (own process), ${DIGESTS / 1000}k cached digests, AWS SDK checker`,
        value: direct.sweep.maxRssMb,
        unit: 'MB',
        goal: '≤ 200 MB',
      }
    );

    // 2. With S3-like latency: 10 ms each way through the fault proxy, on 20k digests.
    await reset(client);
    await seedCache(client, LATENCY_DIGESTS);
    const port = Number(new URL(endpoint).port);
    const proxy = await startFaultProxy(
      { host: '127.0.0.1', port },
      { latency: { upstreamMs: RTT_MS / 2, downstreamMs: RTT_MS / 2 } }
    );
    try {
      const slow = await compare(dbUrl, `http://${proxy.address}`, LATENCY_DIGESTS, 300);
      const slowName = `audit sweep, ${LATENCY_DIGESTS / 1000}k cached digests, fauxqs + ${RTT_MS} ms RTT, concurrency ${CONCURRENCY}`;
      figures.push(
        {
          name: `${slowName} vs bare concurrent HEAD loop`,
          value: slow.rate,
          unit: 'digests/s',
          baseline: { name: `bare HeadObject loop, ${CONCURRENCY} at a time`, value: slow.bare },
          goal: '≥ 0.8× baseline',
        },
        {
          name: `${slowName} vs serial HEAD loop`,
          value: slow.rate,
          unit: 'digests/s',
          baseline: { name: 'serial HeadObject loop', value: slow.serial },
          goal: '≥ 20× baseline',
        }
      );
    } finally {
      await proxy.close();
    }

    // 3. Peak RSS at 1M keys (and at 100k with the same checker, to show it does not grow).
    const stub = await stubS3();
    const checker = process.env.BENCH_AUDIT_RSS_SDK === '1' ? 'sdk' : 'raw';
    try {
      const rss: Record<number, SweepResult> = {};
      for (const n of [DIGESTS, RSS_KEYS]) {
        await reset(client);
        t = process.hrtime.bigint();
        await seedCache(client, n);
        log(`seeded ${n} cached digests in ${seconds(t).toFixed(1)} s`);
        rss[n] = await sweepInChild(dbUrl, stub.endpoint, checker);
        if (rss[n]?.checked !== n) throw new Error(`rss sweep: ${JSON.stringify(rss[n])}`);
        log(`sweep of ${n} (${checker}): ${JSON.stringify(rss[n])}`);
      }
      const big = rss[RSS_KEYS] as SweepResult;
      figures.push(
        {
          name: `audit sweep peak RSS (own process), ${RSS_KEYS / 1e6}M cached digests, ${checker === 'raw' ? 'raw HTTP' : 'AWS SDK'} checker, stub S3`,
          value: big.maxRssMb,
          unit: 'MB',
          baseline: {
            name: `same sweep at ${DIGESTS / 1000}k cached digests`,
            value: (rss[DIGESTS] as SweepResult).maxRssMb,
          },
          goal: '≤ 200 MB',
        },
        {
          name: `audit sweep, ${RSS_KEYS / 1e6}M cached digests, ${checker === 'raw' ? 'raw HTTP' : 'AWS SDK'} checker, stub S3`,
          value: big.checked / big.s,
          unit: 'digests/s',
        }
      );
    } finally {
      stub.server.closeAllConnections();
      await new Promise((r) => stub.server.close(r));
    }
  } finally {
    if ((await client.get(CLAIM)) === '1') await client.flushdb();
    client.disconnect();
    fauxqs.proc.kill('SIGTERM');
  }
  return figures;
}

/** Child roles: `fauxqs` (the emulator in its own process) and `sweep` (the audit alone). */
async function role(name: string): Promise<void> {
  if (name === 'fauxqs') {
    const { buildApp } = await import('fauxqs');
    const app = buildApp({ logger: false, host: '127.0.0.1' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}` })}\n`);
    const stop = () => void app.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.stdin.once('end', stop);
    return;
  }
  if (name !== 'sweep') throw new Error(`unknown bench role ${name}`);
  const startRssMb = process.memoryUsage().rss / 2 ** 20;
  const registry = new Redis(process.env.BENCH_REDIS as string, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    commandTimeout: 10_000,
    lazyConnect: true,
  });
  await registry.connect();
  const endpoint = process.env.BENCH_S3 as string;
  const checker =
    process.env.BENCH_CHECKER === 'raw'
      ? new RawHttpChecker(endpoint)
      : new S3StorageChecker({ client: s3Client(endpoint), bucket: BUCKET, timeoutMs: 30_000 });
  const t = process.hrtime.bigint();
  const summary = await runAudit({
    checker,
    registryCache: new RedisRegistryCache(registry, { store: 'registry' }),
    rootDirectory: ROOT,
    concurrency: CONCURRENCY,
  });
  const s = seconds(t);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const { checked, stale, unknown } = summary;
  process.stdout.write(
    `${JSON.stringify({ checked, stale, unknown, s, maxRssMb, startRssMb } satisfies SweepResult)}\n`
  );
  process.exit(0);
}

const roleArg = process.argv.find((a) => a.startsWith('--role='));
if (roleArg) {
  await role(roleArg.slice('--role='.length));
} else if (process.argv[1] === HERE) {
  let url = process.env.REDIS_URL;
  const server = url ? undefined : await startRedisServer();
  url ??= server!.url;
  try {
    for (const f of await run({ redisUrl: url })) {
      const base = f.baseline
        ? ` (baseline ${f.baseline.name}: ${f.baseline.value.toFixed(1)}; ${(f.value / f.baseline.value).toFixed(2)}×)`
        : '';
      console.log(
        `${f.name}: ${f.value.toFixed(1)} ${f.unit}${base}${f.goal ? `  goal: ${f.goal}` : ''}`
      );
    }
  } finally {
    await server?.stop();
  }
}
