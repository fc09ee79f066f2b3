/**
 * PushGuard end to end in its default mode (dry-run) and with no rootdirectory: keys start
 * `docker/registry/v2/`. A normal push and a multi-arch index report nothing; the seed bug as a
 * user meets it (the manifest's data deleted from S3 under a live manifest while Redis keeps
 * `blobs::<M>`) is reported with the stale key as evidence, nothing is deleted, and the re-push
 * keeps answering 201 followed by a 404 MANIFEST_UNKNOWN.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, buildMultiArchIndex } from '../support/oci-image.ts';
import { findingOf } from '../support/pushguard-local.ts';
import { fetchManifest, skopeoCopy } from '../support/skopeo.ts';
import {
  cacheKeysOf,
  DECOYS,
  dataKey,
  deleteObject,
  dumpKeys,
  linesFor,
  objectExists,
  type Stack,
  startStack,
  waitLine,
  windowsClosedUpToNow,
} from './harness.ts';

const WINDOW_MS = 3_000;

describe('PushGuard e2e: real registry on pushguard local (no rootdirectory, dry-run)', () => {
  let stack: Stack;
  let decoysBefore: (string | null)[];

  beforeAll(async () => {
    stack = await startStack({ rootDirectory: '', windowMs: WINDOW_MS, enforce: false });
    decoysBefore = await dumpKeys(stack.cache, DECOYS.registry);
  }, 120_000);

  afterAll(async () => {
    if (process.env.PUSHGUARD_E2E_DUMP && stack) {
      for (const r of stack.pg.received) console.log(JSON.stringify(r.data));
    }
    await stack?.stop();
  });

  it('runs in dry-run mode unless --enforce is given', () => {
    expect(stack.pg.ready.mode).toBe('dry-run');
    expect(stack.pg.ready.rootDirectory).toBe('');
  });

  it('case 1 without a root directory: a normal push reports nothing', async () => {
    const img = buildImage({
      dir: join(stack.work, 'plain'),
      seed: 'dry-plain',
      layers: [100_000, 3_000],
      tag: 'v1',
    });
    const res = await skopeoCopy(stack.skopeo, img.ref, {
      host: stack.registry.host,
      repository: 'library/plain',
      tag: 'v1',
    });
    expect(res.code).toBe(0);
    expect(dataKey(stack, res.digest!)).toMatch(/^docker\/registry\/v2\/blobs\/sha256\//);
    expect(await objectExists(stack, dataKey(stack, res.digest!))).toBe(true);
    expect((await fetchManifest(stack.registry.url, 'library/plain', 'v1')).status).toBe(200);
  });

  it('a multi-arch index (Docker manifest list, two children) reports nothing', async () => {
    const idx = buildMultiArchIndex({
      dir: join(stack.work, 'multi'),
      seed: 'dry-multi',
      layerSizes: [20_000],
      tag: 'v1',
    });
    const res = await skopeoCopy(
      stack.skopeo,
      idx.ref,
      { host: stack.registry.host, repository: 'library/multi', tag: 'v1' },
      { all: true }
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const got = await fetchManifest(stack.registry.url, 'library/multi', 'v1');
    expect(got.status).toBe(200);
    expect(got.contentType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
  });

  it('case 5 as users meet it: data deleted under a live manifest, reported, nothing deleted in dry-run, re-push 201 then 404', async () => {
    const repo = 'library/stale';
    const img = buildImage({
      dir: join(stack.work, 'stale'),
      seed: 'dry-stale',
      layers: [40_000],
      tag: 'v1',
    });
    const first = await skopeoCopy(stack.skopeo, img.ref, {
      host: stack.registry.host,
      repository: repo,
      tag: 'v1',
    });
    expect(first.code).toBe(0);
    const m = first.digest!;
    expect((await fetchManifest(stack.registry.url, repo, 'v1')).status).toBe(200);
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(1);
    const before = await dumpKeys(stack.cache, [`blobs::${m}`]);

    await deleteObject(stack, dataKey(stack, m));
    const lost = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(lost.status).toBe(404);
    expect(lost.errors[0]?.code).toBe('MANIFEST_UNKNOWN');

    const finding = await waitLine(stack, 'finding', repo, 'manifest-data-missing', m);
    const f = findingOf(finding.data);
    expect(f.verified).toBe(true);
    expect(JSON.stringify(f.evidence)).toContain(dataKey(stack, m));
    expect(JSON.stringify(f.evidence)).toContain(`blobs::${m}`);
    const action = (await waitLine(stack, 'action', repo, 'manifest-data-missing', m)).data;
    expect(action.mode).toBe('dry-run');
    expect(action.plannedKeys).toContain(`blobs::${m}`);
    expect(action.clearedKeys).toEqual([]);
    // Detected from the delete itself, so the tag may not be known yet: by tag or by digest.
    expect(action.repushCommand).toMatch(
      new RegExp(`^docker push ${stack.registry.host}/${repo}(:v1|:<tag> {3}# any tag of ${m})$`)
    );

    // Dry-run deleted nothing, so the re-push hits the bug: 201, no data write, then 404.
    expect(await dumpKeys(stack.cache, [`blobs::${m}`])).toEqual(before);
    const again = await skopeoCopy(stack.skopeo, img.ref, {
      host: stack.registry.host,
      repository: repo,
      tag: 'v1',
    });
    expect(again.code).toBe(0);
    expect(again.digest).toBe(m);
    expect(await objectExists(stack, dataKey(stack, m))).toBe(false);
    const broken = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(broken.status).toBe(404);
    expect(broken.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
    expect(await cacheKeysOf(stack.cache, repo, img.layers[0]!.digest)).toEqual({
      blob: true,
      member: true,
      repoHash: true,
    });
    expect(await dumpKeys(stack.cache, [`blobs::${m}`])).toEqual(before);
  }, 60_000);

  it('no finding for the healthy pushes once their windows closed; decoys untouched', async () => {
    await windowsClosedUpToNow(stack, 'team-a/marker-dry');
    expect(linesFor(stack, 'finding', 'library/plain')).toEqual([]);
    expect(linesFor(stack, 'finding', 'library/multi')).toEqual([]);
    expect(await dumpKeys(stack.cache, DECOYS.registry)).toEqual(decoysBefore);
  }, 30_000);
});
