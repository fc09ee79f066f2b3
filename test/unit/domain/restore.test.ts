/**
 * Pure rules of clear-on-removal and restore: which findings restore what, which links prove a
 * reference, what a removal finding plans.
 */
import { describe, expect, it } from 'vitest';
import { normalizeMessage } from '../../../lambdas/domain/events.ts';
import { parseFinding } from '../../../lambdas/domain/finding-schema.ts';
import { planRemediation } from '../../../lambdas/domain/remediation.ts';
import { isRemoval, isSweep, removalFinding } from '../../../lambdas/domain/removal.ts';
import { linksTo, restoreTarget } from '../../../lambdas/domain/restore.ts';
import type { Finding, StorageEvent } from '../../../lambdas/domain/types.ts';

const D = `sha256:${'ab'.repeat(32)}`;
const base: Finding = {
  id: 'x',
  kind: 'manifest-data-missing',
  repository: 'team/sub/app',
  digest: D,
  tag: 'v1',
  firstSeen: '2026-01-01T00:00:00.000Z',
  lastSeen: '2026-01-01T00:00:00.000Z',
  evidence: [],
  verified: true,
  action: 'clear-cache',
};

function s3Event(eventName: string): StorageEvent {
  const body = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2026-01-01T00:00:00.000Z',
        eventName,
        s3: {
          bucket: { name: 'registry' },
          object: {
            key: `harbor/docker/registry/v2/blobs/sha256/ab/${'ab'.repeat(32)}/data`,
            sequencer: '0A',
          },
        },
      },
    ],
  };
  return normalizeMessage(body, { rootDirectory: 'harbor' }).events[0] as StorageEvent;
}

describe('restoreTarget', () => {
  it('a manifest finding restores its data key, proven by its revision link or its tag link', () => {
    expect(restoreTarget(base, 'harbor')).toEqual({
      digest: D,
      repository: 'team/sub/app',
      key: `harbor/docker/registry/v2/blobs/sha256/ab/${'ab'.repeat(32)}/data`,
      manifest: true,
      revisionLink: `harbor/docker/registry/v2/repositories/team/sub/app/_manifests/revisions/sha256/${'ab'.repeat(32)}/link`,
      tagCurrentLink:
        'harbor/docker/registry/v2/repositories/team/sub/app/_manifests/tags/v1/current/link',
      layerLink: `harbor/docker/registry/v2/repositories/team/sub/app/_layers/sha256/${'ab'.repeat(32)}/link`,
    });
  });

  it('a layer finding has no tag link; other kinds, unverified findings and bad names restore nothing', () => {
    const layer = restoreTarget({ ...base, kind: 'layer-data-missing' }, '');
    expect(layer?.manifest).toBe(false);
    expect(layer?.tagCurrentLink).toBeUndefined();
    expect(layer?.key.startsWith('docker/registry/v2/blobs/')).toBe(true);
    for (const f of [
      { ...base, kind: 'incomplete-push' as const },
      { ...base, kind: 'blob-data-removed' as const },
      { ...base, verified: false },
      { ...base, repository: 'Bad/Name' },
      { ...base, digest: 'sha512:abc' },
    ]) {
      expect(restoreTarget(f, 'harbor')).toBeUndefined();
    }
    expect(restoreTarget({ ...base, tag: '__bad tag__' }, '')?.tagCurrentLink).toBeUndefined();
  });

  it('a link proves a reference only when it names exactly the digest', () => {
    expect(linksTo(`${D}\n`, D)).toBe(true);
    expect(linksTo(`sha256:${'cd'.repeat(32)}`, D)).toBe(false);
    expect(linksTo('', D)).toBe(false);
  });
});

describe('removal', () => {
  it('ObjectRemoved:* and LifecycleExpiration:* are removals; a creation is not', () => {
    expect(isRemoval(s3Event('ObjectRemoved:Delete'))).toBe(true);
    expect(isRemoval(s3Event('ObjectRemoved:DeleteMarkerCreated'))).toBe(true);
    expect(isRemoval(s3Event('LifecycleExpiration:Delete'))).toBe(true);
    expect(isRemoval(s3Event('ObjectCreated:Put'))).toBe(false);
  });

  it('a removal finding carries its evidence and plans blobs::<d> (and the manifest-bytes entry) only', () => {
    const f = removalFinding({
      digest: D,
      root: 'harbor',
      at: Date.UTC(2026, 0, 1),
      evidence: ['s3 LifecycleExpiration:Delete …', 'check blob-data … → missing'],
    });
    expect(f).toMatchObject({
      id: `blob-data-removed||${D}`,
      kind: 'blob-data-removed',
      repository: '',
      digest: D,
      firstSeen: '2026-01-01T00:00:00.000Z',
      verified: true,
      action: 'clear-cache',
    });
    expect(f.evidence.slice(0, 2)).toEqual([
      's3 LifecycleExpiration:Delete …',
      'check blob-data … → missing',
    ]);
    const plan = planRemediation(f, {
      rootDirectory: 'harbor',
      registryHost: 'h',
      cacheLayer: true,
    });
    expect(plan.keys).toEqual([
      { store: 'registry', key: `blobs::${D}`, type: 'hash' },
      { store: 'cache-layer', key: `cache:manifest:digest:${D}`, type: 'string' },
    ]);
    expect(plan.mustBeMissing).toEqual([
      `harbor/docker/registry/v2/blobs/sha256/ab/${'ab'.repeat(32)}/data`,
    ]);
    expect(plan.repushCommand).toBeUndefined();
    const off = { rootDirectory: '', registryHost: 'h', cacheLayer: false };
    expect(planRemediation({ ...f, verified: false }, off).keys).toEqual([]);
  });

  it('the finding schema takes an empty repository for a removal only', () => {
    const f = removalFinding({ digest: D, root: '', at: Date.UTC(2026, 0, 1), evidence: [] });
    expect(parseFinding(JSON.stringify(f))).toEqual(f);
    expect(() => parseFinding({ ...f, kind: 'layer-data-missing' })).toThrow(
      /finding\.repository: not a valid repository name/
    );
  });

  it('a sweep starts at the threshold', () => {
    expect(isSweep(99, 100)).toBe(false);
    expect(isSweep(100, 100)).toBe(true);
  });
});
