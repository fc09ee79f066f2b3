/**
 * PushGuard end to end against a real registry: Debian's docker-registry (distribution 2.8.2, S3
 * driver, Redis blob-descriptor cache in DB 1) writes to the S3 emulator of `pushguard local`;
 * skopeo pushes images built offline. Each case asserts PushGuard's `finding` and `action` lines
 * and the Redis keys, key by key (see registry-on-s3-emulator.md for what the registry writes).
 *
 *   1 normal push: no findings            2 re-push + second tag: no findings
 *   3 mount into another repo: none       4 push cut mid-PATCH: incomplete-push + abandoned-upload
 *   5 the seed bug (stale blobs::<M>)     6 layer data lost under its cache keys
 *   7 PUSH_ARTIFACT webhook for a digest that never reached storage
 *
 * Case 5's detection latency over 20 runs is a figure: bench/registry-latency.bench.ts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { type BuiltImage, buildImage } from '../support/oci-image.ts';
import { findingOf } from '../support/pushguard-local.ts';
import { fetchManifest, type SkopeoResult, skopeoCopy } from '../support/skopeo.ts';
import {
  cacheKeysOf,
  DECOYS,
  dataKey,
  deleteObject,
  dumpKeys,
  linesFor,
  matches,
  objectExists,
  postPushWebhook,
  removeAndRecache,
  type Stack,
  startStack,
  WEBHOOK_TOKEN,
  waitLine,
  windowsClosedUpToNow,
} from './harness.ts';

const WINDOW_MS = 4_000;

function push(
  stack: Stack,
  img: BuiltImage,
  repository: string,
  tag: string
): Promise<SkopeoResult> {
  return skopeoCopy(stack.skopeo, img.ref, { host: stack.registry.host, repository, tag });
}

async function pushOk(
  stack: Stack,
  img: BuiltImage,
  repository: string,
  tag: string
): Promise<string> {
  const res = await push(stack, img, repository, tag);
  expect(res.stderr, `skopeo push ${repository}:${tag}`).toBe('');
  expect(res.code).toBe(0);
  return res.digest!;
}

describe('PushGuard e2e: real registry on pushguard local (rootdirectory /harbor, --enforce)', () => {
  let stack: Stack;
  let decoysBefore: { registry: (string | null)[]; core: (string | null)[] };
  let appImage: BuiltImage;

  beforeAll(async () => {
    stack = await startStack({ rootDirectory: '/harbor', windowMs: WINDOW_MS, enforce: true });
    decoysBefore = {
      registry: await dumpKeys(stack.cache, DECOYS.registry),
      core: await dumpKeys(stack.core, DECOYS.core),
    };
  }, 120_000);

  afterAll(async () => {
    if (process.env.PUSHGUARD_E2E_DUMP && stack) {
      for (const r of stack.pg.received) console.log(JSON.stringify(r.data));
    }
    await stack?.stop();
  });

  it('prints ready with its S3 endpoint, bucket, webhook URL and Redis on 127.0.0.1', () => {
    expect(stack.pg.ready.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.pg.ready.webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(stack.bucket).toBe('registry');
  });

  it('case 1: a normal push of a new image writes its keys and reports nothing', async () => {
    appImage = buildImage({
      dir: join(stack.work, 'app'),
      seed: 'e2e-app',
      layers: [262_144, 70_000, 5_000],
      tag: 'v1',
    });
    const digest = await pushOk(stack, appImage, 'library/app', 'v1');
    expect((await fetchManifest(stack.registry.url, 'library/app', 'v1')).status).toBe(200);
    expect(await objectExists(stack, dataKey(stack, digest))).toBe(true);
    expect(dataKey(stack, digest)).toMatch(/^harbor\/docker\/registry\/v2\/blobs\//);
    for (const l of appImage.layers) {
      expect(await cacheKeysOf(stack.cache, 'library/app', l.digest)).toEqual({
        blob: true,
        member: true,
        repoHash: true,
      });
    }
  });

  it('case 2: the same image again and a second tag report nothing', async () => {
    const d1 = await pushOk(stack, appImage, 'library/app', 'v1');
    const d2 = await pushOk(stack, appImage, 'library/app', 'v2');
    expect(d2).toBe(d1);
    expect((await fetchManifest(stack.registry.url, 'library/app', 'v2')).status).toBe(200);
  });

  it('case 3: an image sharing layers pushed to another repository (mount) reports nothing', async () => {
    const derived = buildImage({
      dir: join(stack.work, 'derived'),
      seed: 'e2e-derived',
      layers: [appImage.layers[0]!, appImage.layers[1]!, 9_000],
      tag: 'v1',
    });
    await pushOk(stack, derived, 'team/other', 'v1');
    expect(stack.registry.logs()).toMatch(
      /POST \/v2\/team\/other\/blobs\/uploads\/\?from=library%2Fapp&mount=/
    );
    expect((await fetchManifest(stack.registry.url, 'team/other', 'v1')).status).toBe(200);
  });

  it('case 4: a push cut mid-PATCH gives incomplete-push and abandoned-upload, not before the window', async () => {
    const proxy: FaultProxy = await startFaultProxy({
      host: '127.0.0.1',
      port: stack.registry.port,
    });
    try {
      const img = buildImage({
        dir: join(stack.work, 'cut'),
        seed: 'e2e-cut',
        layers: [40_000, 24 * 1024 * 1024],
        tag: 'v1',
      });
      const from = stack.pg.received.length;
      proxy.set({ cut: { direction: 'upstream', afterBytes: 12 * 1024 * 1024, scope: 'total' } });
      const cutDone = new Promise((r) => proxy.events.once('cut', r));
      const res = await skopeoCopy(stack.skopeo, img.ref, {
        host: proxy.address,
        repository: 'library/cut',
        tag: 'v1',
      });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(
        /writing blob: Patch .*(connection reset by peer|use of closed network connection|broken pipe|EOF)/
      );
      await cutDone;
      // The small layer was committed; the big one never was.
      expect(await cacheKeysOf(stack.cache, 'library/cut', img.layers[0]!.digest)).toMatchObject({
        blob: true,
        member: true,
      });
      expect(await objectExists(stack, dataKey(stack, img.layers[1]!.digest))).toBe(false);
      expect((await fetchManifest(stack.registry.url, 'library/cut', 'v1')).errors[0]?.code).toBe(
        'MANIFEST_UNKNOWN'
      );
      const incomplete = await waitLine(stack, 'finding', 'library/cut', 'incomplete-push');
      const abandoned = await waitLine(stack, 'finding', 'library/cut', 'abandoned-upload');
      // Every finding about the cut push (these two and any other) was reported once the window
      // after the last upload write had closed, never before: judged on the lines' own wall times.
      const cut = stack.pg.received.filter(
        (r) => r.data.event === 'finding' && matches(r.data, 'library/cut')
      );
      expect(cut).toEqual(expect.arrayContaining([incomplete, abandoned]));
      for (const r of cut) {
        const f = findingOf(r.data);
        expect(r.wall).toBeGreaterThanOrEqual(Date.parse(String(f.lastSeen)) + WINDOW_MS);
        expect(stack.pg.received.indexOf(r)).toBeGreaterThanOrEqual(from);
      }
      expect(findingOf(abandoned.data).uploadId).toMatch(/^[0-9a-f-]{36}$/);
      // Neither kind clears keys: PushGuard only reports them (notification or ticket).
      for (const kind of ['incomplete-push', 'abandoned-upload']) {
        const action = (await waitLine(stack, 'action', 'library/cut', kind)).data;
        expect(action.clearedKeys).toEqual([]);
        expect(action.plannedKeys).toEqual([]);
      }
      expect(JSON.stringify(findingOf(incomplete.data).evidence)).toContain('_layers');
      // Neither finding clears cache keys: the committed small layer keeps its keys.
      expect(await cacheKeysOf(stack.cache, 'library/cut', img.layers[0]!.digest)).toMatchObject({
        blob: true,
        member: true,
      });
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it('cases 1–3: still no finding about library/app or team/other once their windows closed', async () => {
    await windowsClosedUpToNow(stack, 'team-a/marker-1');
    expect(linesFor(stack, 'finding', 'library/app')).toEqual([]);
    expect(linesFor(stack, 'finding', 'team/other')).toEqual([]);
    expect(linesFor(stack, 'action', 'library/app')).toEqual([]);
    expect(linesFor(stack, 'action', 'team/other')).toEqual([]);
  }, 30_000);

  it('case 5: stale blobs::<M> after the data went: re-push 201 but 404, PushGuard clears exactly it, re-push heals', async () => {
    const repo = 'library/stale';
    const img = buildImage({
      dir: join(stack.work, 'stale'),
      seed: 'e2e-stale',
      layers: [30_000, 4_000],
      tag: 'v1',
    });
    const m = await pushOk(stack, img, repo, 'v1');
    expect((await fetchManifest(stack.registry.url, repo, 'v1')).status).toBe(200);
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(1); // written by the GET
    // The image is deleted and garbage-collected, but the GC never flushes Redis (harbor#22571):
    // the manifest's links go through the registry API, its data object straight from S3.
    const del = await fetch(`${stack.registry.url}/v2/${repo}/manifests/${m}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(202);
    await removeAndRecache(stack, m);
    expect(await objectExists(stack, dataKey(stack, m))).toBe(false);
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(1);
    const layerKeys = img.layers
      .flatMap((l) => [`blobs::${l.digest}`, `repository::${repo}::blobs::${l.digest}`])
      .concat([`repository::${repo}::blobs`, `blobs::${img.layers[0]!.digest}`]);
    const configKey = `blobs::${img.config.digest}`;
    const othersBefore = await dumpKeys(stack.cache, [...layerKeys, configKey]);

    // The re-push: 201, but the stale key made the registry skip the data write.
    const from = stack.pg.received.length;
    const again = await push(stack, img, repo, 'v1');
    expect(again.code).toBe(0);
    expect(again.digest).toBe(m);
    const broken = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(broken.status).toBe(404);
    expect(broken.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
    expect(await objectExists(stack, dataKey(stack, m))).toBe(false);

    const finding = await waitLine(stack, 'finding', repo, 'manifest-data-missing', m);
    expect(stack.pg.received.indexOf(finding)).toBeGreaterThanOrEqual(from);
    const f = findingOf(finding.data);
    expect(f.verified).toBe(true);
    expect(f.tag).toBe('v1');
    // Evidence: the storage check that found the data missing, and the stale key itself.
    expect(JSON.stringify(f.evidence)).toContain(dataKey(stack, m));
    expect(JSON.stringify(f.evidence)).toContain(`blobs::${m}`);
    const action = (await waitLine(stack, 'action', repo, 'manifest-data-missing', m)).data;
    expect(action.mode).toBe('enforce');
    expect(action.decision).toBe('cleared');
    expect(action.plannedKeys).toEqual([
      `blobs::${m}`,
      `repository::${repo}::blobs ${m}`,
      `repository::${repo}::blobs::${m}`,
    ]);
    // v2.8 caches manifests only in blobs::<M>: that is the one key that existed and went.
    expect(action.clearedKeys).toEqual([`blobs::${m}`]);
    expect(action.repushCommand).toBe(`docker push ${stack.registry.host}/${repo}:v1`);
    expect(action.auditId).toEqual(expect.any(String));
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(0);
    // Exactly that key: every layer/config key of the repository and every decoy is untouched.
    expect(await dumpKeys(stack.cache, [...layerKeys, configKey])).toEqual(othersBefore);

    // After PushGuard, the same re-push stores the data and GET answers 200.
    const healed = await push(stack, img, repo, 'v1');
    expect(healed.code).toBe(0);
    expect(await objectExists(stack, dataKey(stack, m))).toBe(true);
    const ok = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(ok.status).toBe(200);
    expect(ok.digest).toBe(m);
  }, 90_000);

  it('case 6: a layer whose data is gone while its cache keys remain is cleared key by key', async () => {
    const repo = 'library/layers';
    const img = buildImage({
      dir: join(stack.work, 'layers'),
      seed: 'e2e-layers',
      layers: [50_000, 20_000],
      tag: 'v1',
    });
    await pushOk(stack, img, repo, 'v1');
    const lost = img.layers[0]!.digest;
    const kept = img.layers[1]!.digest;
    expect(await cacheKeysOf(stack.cache, repo, lost)).toEqual({
      blob: true,
      member: true,
      repoHash: true,
    });
    const keptKeys = [
      `blobs::${kept}`,
      `repository::${repo}::blobs::${kept}`,
      `blobs::${img.config.digest}`,
    ];
    const keptBefore = await dumpKeys(stack.cache, keptKeys);
    await deleteObject(stack, dataKey(stack, lost));
    const finding = await waitLine(stack, 'finding', repo, 'layer-data-missing', lost);
    expect(findingOf(finding.data).verified).toBe(true);
    expect(JSON.stringify(findingOf(finding.data).evidence)).toContain(dataKey(stack, lost));
    expect(JSON.stringify(findingOf(finding.data).evidence)).toContain(`blobs::${lost}`);
    const action = (await waitLine(stack, 'action', repo, 'layer-data-missing', lost)).data;
    expect(action.decision).toBe('cleared');
    expect(action.clearedKeys).toEqual([
      `blobs::${lost}`,
      `repository::${repo}::blobs ${lost}`,
      `repository::${repo}::blobs::${lost}`,
    ]);
    expect(await cacheKeysOf(stack.cache, repo, lost)).toEqual({
      blob: false,
      member: false,
      repoHash: false,
    });
    expect(await stack.cache.sismember(`repository::${repo}::blobs`, kept)).toBe(1);
    expect(await dumpKeys(stack.cache, keptKeys)).toEqual(keptBefore);
    // With the keys gone the registry answers the truth: the layer is unknown, a push uploads it.
    const res = await fetch(`${stack.registry.url}/v2/${repo}/blobs/${lost}`, { method: 'HEAD' });
    expect(res.status).toBe(404);
    await pushOk(stack, img, repo, 'v1');
    expect(await objectExists(stack, dataKey(stack, lost))).toBe(true);
  }, 60_000);

  it('case 7: a PUSH_ARTIFACT webhook for a digest that never reached storage gives webhook-without-commit', async () => {
    const repo = 'team-a/ghost';
    const digest = `sha256:${'ab12'.repeat(16)}`;
    const post = (auth: string) => postPushWebhook(stack, repo, digest, '9.9.9', auth);
    expect((await post('Basic d3Jvbmc=')).status).toBe(401);
    const sent = Date.now();
    const res = await post(WEBHOOK_TOKEN);
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    const finding = await waitLine(stack, 'finding', repo, 'webhook-without-commit', digest);
    expect(finding.wall).toBeGreaterThanOrEqual(sent + WINDOW_MS - 1_000);
    const f = findingOf(finding.data);
    expect(f.tag).toBe('9.9.9');
    expect(JSON.stringify(f.evidence)).toContain('PUSH_ARTIFACT');
    const action = (await waitLine(stack, 'action', repo, 'webhook-without-commit', digest)).data;
    expect(action.clearedKeys).toEqual([]);
    expect(
      await objectExists(
        stack,
        `harbor/docker/registry/v2/repositories/${repo}/_manifests/revisions/sha256/${digest.slice(7)}/link`
      )
    ).toBe(false);
  }, 60_000);

  it('never touched a decoy key, in the registry DB or in Harbor core’s DB', async () => {
    expect(await dumpKeys(stack.cache, DECOYS.registry)).toEqual(decoysBefore.registry);
    expect(await dumpKeys(stack.core, DECOYS.core)).toEqual(decoysBefore.core);
  });
});
