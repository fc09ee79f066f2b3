/**
 * Issue 12's three figures, with a real registry on `pushguard local --enforce` (default settle
 * 500 ms) and a peer registry on filesystem storage, as in test/e2e/restore.e2e.test.ts:
 *  1. removal → cache entry cleared, p95: blob data PushGuard never saw linked is deleted from
 *     the bucket; timed from the DeleteObject call to the `blobs::<d>` key gone (settle included);
 *  2. removal → restored and pull 200, p95, 10 MiB layer: a pushed layer's data is deleted; timed
 *     to the first GET /v2/<repo>/blobs/<L> on registry A that answers 200 with the exact bytes;
 *  3. bytes hashed per second while restoring (S3BlobStager: sha256 + multipart parts to the
 *     emulator) against a bare sha256 over the same chunks, best of 3 each.
 * Runs alone with `npx tsx bench/restore.bench.ts` (needs `npm run build`, docker-registry and
 * skopeo). Prints figures; never fails on speed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3BlobStager } from '../lambdas/adapters/s3-blob-stager.ts';
import { blobDataKey } from '../lambdas/domain/keys.ts';
import { dataKey, deleteObject, type Stack, startStack } from '../test/e2e/harness.ts';
import { buildImage, sharedTmpBase } from '../test/support/oci-image.ts';
import { startRegistry } from '../test/support/registry.ts';
import { skopeoCopy } from '../test/support/skopeo.ts';
import type { BenchContext, Figure } from './figures.ts';
import { percentile } from './latency.bench.ts';

const REMOVALS = 20;
const RESTORES = 10;
const MiB = 1024 * 1024;

async function until(
  what: string,
  ok: () => Promise<boolean>,
  timeoutMs = 30_000
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now();
}

/** Figure 1: DeleteObject of unlinked data → blobs::<d> gone. */
async function removalToCleared(stack: Stack): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REMOVALS; i++) {
    const body = randomBytes(2048);
    const d = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    await stack.s3.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: dataKey(stack, d), Body: body })
    );
    await stack.cache.hset(`blobs::${d}`, {
      digest: d,
      size: String(body.length),
      mediatype: 'application/octet-stream',
    });
    const t0 = performance.now();
    await deleteObject(stack, dataKey(stack, d));
    out.push(
      (await until(
        `blobs::${d} cleared`,
        async () => (await stack.cache.exists(`blobs::${d}`)) === 0
      )) - t0
    );
  }
  return out;
}

/** Figure 2: DeleteObject of a 10 MiB layer → A serves it again, byte for byte. */
async function removalToPull(stack: Stack, peerHost: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < RESTORES; i++) {
    const repo = `bench/restore-${i}`;
    const img = buildImage({
      dir: join(stack.work, `b${i}`),
      seed: `bench-restore-${i}-${Date.now()}`,
      layers: [10 * MiB],
      tag: 'v1',
    });
    for (const host of [stack.registry.host, peerHost]) {
      const res = await skopeoCopy(stack.skopeo, img.ref, { host, repository: repo, tag: 'v1' });
      if (res.code !== 0) throw new Error(`push to ${host}: ${res.stderr}`);
    }
    const layer = img.layers[0]!;
    const t0 = performance.now();
    await deleteObject(stack, dataKey(stack, layer.digest));
    const pulled = await until(`${repo} layer restored`, async () => {
      try {
        const res = await fetch(`${stack.registry.url}/v2/${repo}/blobs/${layer.digest}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        return res.status === 200 && bytes.equals(layer.bytes);
      } catch {
        return false; // the registry cut a read of data that went away mid-stream
      }
    });
    out.push(pulled - t0);
  }
  return out;
}

/**
 * Figure 3: a 64 MiB restore staged through its multipart upload to the emulator; the bytes the
 * stager hashed per second of hashing (measured inside the restore, uploads running meanwhile)
 * against a bare sha256 of the same chunks; and the whole staging (upload-bound). Best of 3.
 */
async function hashing(
  stack: Stack
): Promise<{ inRestore: number; staging: number; bare: number }> {
  const chunks = Array.from({ length: 64 }, () => randomBytes(MiB));
  const total = chunks.length * MiB;
  const h0 = createHash('sha256');
  for (const c of chunks) h0.update(c);
  const digest = `sha256:${h0.digest('hex')}`;
  const key = blobDataKey(stack.root, digest);
  const best = { inRestore: 0, staging: 0, bare: 0 };
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    const h = createHash('sha256');
    for (const c of chunks) h.update(c);
    h.digest();
    best.bare = Math.max(best.bare, total / ((performance.now() - t) / 1000));
    const stager = new S3BlobStager(stack.s3, stack.bucket);
    t = performance.now();
    const r = await stager.stage({ key, digest, body: chunks, source: 'bench', origin: 'memory' });
    if (!('staged' in r)) throw new Error(r.failed);
    best.staging = Math.max(best.staging, total / ((performance.now() - t) / 1000));
    best.inRestore = Math.max(best.inRestore, stager.hashed.bytes / (stager.hashed.ms / 1000));
    await r.staged.discard();
  }
  return best;
}

export async function run(_ctx: BenchContext): Promise<Figure[]> {
  const peerDir = mkdtempSync(join(sharedTmpBase(), 'pushguard-bench-peer-'));
  const peer = await startRegistry({
    storage: { kind: 'filesystem', dir: peerDir },
    logLevel: 'error',
  });
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      rootDirectory: '/harbor',
      windowMs: 10_000,
      enforce: true,
      extraArgs: ['--restore-from', peer.url],
    });
    const cleared = await removalToCleared(stack);
    const restored = await removalToPull(stack, peer.host);
    const h = await hashing(stack);
    return [
      {
        name: `restore: removal → cache entry cleared, p50 (local --enforce, settle 500 ms, ${REMOVALS} runs)`,
        value: percentile(cleared, 50),
        unit: 'ms',
      },
      {
        name: `restore: removal → cache entry cleared, p95 (local --enforce, settle 500 ms, ${REMOVALS} runs)`,
        value: percentile(cleared, 95),
        unit: 'ms',
        goal: '≤ 1,500 ms',
      },
      {
        name: `restore: removal → restored and pull 200, 10 MiB layer, p50 (${RESTORES} runs)`,
        value: percentile(restored, 50),
        unit: 'ms',
      },
      {
        name: `restore: removal → restored and pull 200, 10 MiB layer, p95 (${RESTORES} runs)`,
        value: percentile(restored, 95),
        unit: 'ms',
        goal: '≤ 3,000 ms',
      },
      {
        name: 'restore: bytes hashed per second while restoring (64 MiB, multipart upload to the emulator running)',
        value: h.inRestore / MiB,
        unit: 'MiB/s',
        baseline: { name: 'bare sha256 of the same chunks', value: h.bare / MiB },
        goal: '≥ 0.8× baseline',
      },
      {
        name: 'restore: 64 MiB staged end to end (hash, part buffers, multipart upload to the emulator)',
        value: h.staging / MiB,
        unit: 'MiB/s',
        baseline: { name: 'bare sha256 of the same chunks', value: h.bare / MiB },
      },
    ];
  } finally {
    await stack?.stop();
    await peer.stop();
    rmSync(peerDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await run({ redisUrl: '' })) {
    const base = f.baseline
      ? `  (baseline ${f.baseline.name}: ${f.baseline.value.toFixed(0)}; ${(f.value / f.baseline.value).toFixed(2)}×)`
      : '';
    console.log(
      `${f.name}: ${f.value.toFixed(0)} ${f.unit}${base}${f.goal ? `  goal: ${f.goal}` : ''}`
    );
  }
}
