/**
 * Names are data, live: a real registry (distribution 2.8, S3 driver, Redis cache) writing into
 * `pushguard local --enforce` gets images pushed under tags and projects named after JavaScript's
 * prototype members (`__proto__`, `constructor`, `hasOwnProperty`, `toString`, `valueOf`), with
 * Harbor webhooks for them. One of them is then made stale (data gone, cache key left, re-push
 * 201 but pull 404): PushGuard reports it, clears the stale key, and the re-push heals it. No
 * event fails on the way (before the fix, one push under `__proto__` made every event of its
 * repository fail).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../support/oci-image.ts';
import { findingOf } from '../support/pushguard-local.ts';
import { fetchManifest, skopeoCopy } from '../support/skopeo.ts';
import {
  dataKey,
  objectExists,
  removeAndRecache,
  type Stack,
  startStack,
  WEBHOOK_TOKEN,
  waitLine,
} from './harness.ts';

const WINDOW_MS = 4_000;
const TAGS = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf'];
/** Projects `constructor` and `tostring` (project names are lowercase). */
const REPOS = ['constructor/hasownproperty', 'tostring/valueof'];

describe('PushGuard e2e: prototype-named tags and projects through a real registry', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ rootDirectory: '/harbor', windowMs: WINDOW_MS, enforce: true });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const pushOk = async (img: ReturnType<typeof buildImage>, repository: string, tag: string) => {
    const res = await skopeoCopy(stack.skopeo, img.ref, {
      host: stack.registry.host,
      repository,
      tag,
    });
    expect(res.stderr, `skopeo push ${repository}:${tag}`).toBe('');
    expect(res.code).toBe(0);
    return res.digest!;
  };

  const webhook = (repository: string, digest: string, tag: string) =>
    fetch(stack.pg.ready.webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: WEBHOOK_TOKEN },
      body: JSON.stringify({
        type: 'PUSH_ARTIFACT',
        occur_at: Math.floor(Date.now() / 1000),
        operator: 'constructor',
        event_data: {
          resources: [{ digest, tag, resource_url: `${stack.registry.host}/${repository}:${tag}` }],
          repository: {
            name: repository.split('/')[1],
            namespace: repository.split('/')[0],
            repo_full_name: repository,
          },
        },
      }),
    });

  it('watches every push under prototype names, and heals the one made stale', async () => {
    const img = buildImage({
      dir: join(stack.work, 'proto'),
      seed: 'e2e-prototype-names',
      layers: [20_000, 3_000],
      tag: 'v1',
    });
    const [repo, other] = REPOS as [string, string];
    let m = '';
    for (const tag of TAGS) {
      m = await pushOk(img, repo, tag);
      expect((await webhook(repo, m, tag)).status).toBeLessThan(300);
    }
    const otherImg = buildImage({
      dir: join(stack.work, 'proto-other'),
      seed: 'e2e-prototype-other',
      layers: [5_000],
      tag: 'v1',
    });
    const o = await pushOk(otherImg, other, '__proto__');
    expect((await webhook(other, o, '__proto__')).status).toBeLessThan(300);
    for (const tag of TAGS)
      expect((await fetchManifest(stack.registry.url, repo, tag)).status).toBe(200);
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(1);

    // Stale: the manifest deleted and its data removed from S3; the cache key stays.
    const del = await fetch(`${stack.registry.url}/v2/${repo}/manifests/${m}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(202);
    // Cleared on the removal (issue 12), then cached again as a registry sharing the DB would.
    await removeAndRecache(stack, m);
    const again = await pushOk(img, repo, '__proto__');
    expect(again).toBe(m);
    expect((await fetchManifest(stack.registry.url, repo, '__proto__')).status).toBe(404);

    // PushGuard reports and clears the stale key
    const finding = findingOf(
      (await waitLine(stack, 'finding', repo, 'manifest-data-missing', m)).data
    );
    expect(finding.verified).toBe(true);
    expect(TAGS).toContain(finding.tag);
    const action = (await waitLine(stack, 'action', repo, 'manifest-data-missing', m)).data;
    expect(action.decision).toBe('cleared');
    expect(action.clearedKeys).toEqual([`blobs::${m}`]);
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(0);

    // and the re-push heals it
    expect(await pushOk(img, repo, '__proto__')).toBe(m);
    expect(await objectExists(stack, dataKey(stack, m))).toBe(true);
    const healed = await fetchManifest(stack.registry.url, repo, '__proto__');
    expect(healed.status).toBe(200);
    expect(healed.digest).toBe(m);

    // zero failed events, and no finding about anything but the stale manifest
    expect(stack.pg.stderr()).not.toMatch(/failed|TypeError|not a valid float/);
    const findings = stack.pg.events('finding').map((e) => findingOf(e));
    expect(findings.filter((f) => f.digest !== m)).toEqual([]);
    expect(Object.prototype).toEqual({});
  }, 120_000);
});
