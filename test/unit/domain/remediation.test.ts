import { describe, expect, it } from 'vitest';
import { InvalidReferenceError } from '../../../lambdas/domain/errors.ts';
import {
  isAllowListed,
  planForStaleDigest,
  planRemediation,
  registryKeysFor,
  repushCommand,
} from '../../../lambdas/domain/remediation.ts';
import type { Finding } from '../../../lambdas/domain/types.ts';

const M = `sha256:${'ab'.repeat(32)}`;
const OPTS = { rootDirectory: 'harbor', registryHost: 'harbor.example.com', cacheLayer: true };
const finding = (over: Partial<Finding> = {}): Finding => ({
  id: 'x',
  kind: 'manifest-data-missing',
  repository: 'team-a/payments-api',
  digest: M,
  tag: '1.4.2',
  firstSeen: '2026-11-25T10:00:00.000Z',
  lastSeen: '2026-11-25T10:00:01.000Z',
  evidence: [],
  verified: true,
  action: 'clear-cache',
  ...over,
});

describe('Function: registryKeysFor', () => {
  it('builds exactly the three keys distribution v2.8 writes for a (repository, digest)', () => {
    expect(registryKeysFor('team-a/payments-api', M).map((k) => [k.type, k.key, k.member])).toEqual(
      [
        ['hash', `blobs::${M}`, undefined],
        ['set-member', 'repository::team-a/payments-api::blobs', M],
        ['hash', `repository::team-a/payments-api::blobs::${M}`, undefined],
      ]
    );
  });
  it('refuses glob characters, bad names and non-sha256 digests', () => {
    for (const [repo, digest] of [
      ['team-a/*', M],
      ['Team/App', M],
      ['a//b', M],
      ['team-a/app', 'sha256:*'],
      ['team-a/app', `sha512:${'a'.repeat(128)}`],
      ['team-a/app', `sha256:${'A'.repeat(64)}`],
    ] as const) {
      expect(() => registryKeysFor(repo, digest)).toThrow(InvalidReferenceError);
    }
  });
});

describe('Function: isAllowListed', () => {
  it('accepts only the exact shapes PushGuard may delete', () => {
    expect(isAllowListed({ store: 'registry', key: `blobs::${M}`, type: 'hash' })).toBe(true);
    expect(isAllowListed({ store: 'registry', key: 'blobs::*', type: 'hash' })).toBe(false);
    expect(
      isAllowListed({
        store: 'registry',
        key: 'repository::a/b::blobs',
        type: 'set-member',
        member: '*',
      })
    ).toBe(false);
    expect(
      isAllowListed({ store: 'registry', key: `cache:manifest:digest:${M}`, type: 'hash' })
    ).toBe(false);
    expect(
      isAllowListed({ store: 'cache-layer', key: `cache:manifest:digest:${M}`, type: 'string' })
    ).toBe(true);
    expect(
      isAllowListed({ store: 'cache-layer', key: 'cache:project:name:team-a', type: 'string' })
    ).toBe(false);
  });
});

describe('Function: planRemediation', () => {
  it('clears the registry and cache-layer keys of a verified manifest-data-missing, after checking the data', () => {
    const plan = planRemediation(finding(), OPTS);
    expect(plan.keys.map((k) => k.key)).toEqual([
      `blobs::${M}`,
      'repository::team-a/payments-api::blobs',
      `repository::team-a/payments-api::blobs::${M}`,
      `cache:manifest:digest:${M}`,
      `cache:artifact:repository:team-a/payments-api:digest:${M}`,
    ]);
    expect(plan.mustBeMissing).toEqual([
      `harbor/docker/registry/v2/blobs/sha256/ab/${M.slice(7)}/data`,
    ]);
    expect(plan.repushCommand).toBe('docker push harbor.example.com/team-a/payments-api:1.4.2');
  });
  it('plans no key for unverified findings or findings that only notify or open a ticket', () => {
    for (const f of [
      finding({ verified: false, action: 'notify' }),
      finding({ kind: 'incomplete-push', action: 'notify', digest: undefined }),
      finding({ kind: 'webhook-without-commit', action: 'open-ticket' }),
      finding({ kind: 'abandoned-upload', action: 'notify', digest: undefined }),
    ]) {
      expect(planRemediation(f, OPTS).keys).toEqual([]);
    }
  });
  it('never builds a Redis key from a digest of another algorithm', () => {
    expect(() => planRemediation(finding({ digest: `sha512:${'a'.repeat(128)}` }), OPTS)).toThrow(
      InvalidReferenceError
    );
  });
});

describe('Function: planForStaleDigest', () => {
  it('a digest listed by repository sets is a layer: blobs:: plus each repository entry', () => {
    const plan = planForStaleDigest(M, ['b/two', 'a/one', 'a/one'], {
      ...OPTS,
      now: '2026-11-25T10:00:00Z',
      evidence: ['404'],
    });
    expect(plan.finding).toMatchObject({
      kind: 'layer-data-missing',
      repository: 'a/one',
      verified: true,
    });
    expect(plan.keys.map((k) => `${k.key}${k.member ? ` ${k.member}` : ''}`)).toEqual([
      `blobs::${M}`,
      `repository::a/one::blobs ${M}`,
      `repository::a/one::blobs::${M}`,
      `repository::b/two::blobs ${M}`,
      `repository::b/two::blobs::${M}`,
    ]);
  });
  it('a digest no repository lists is a manifest (v2.8 caches manifests only in blobs::)', () => {
    const plan = planForStaleDigest(M, [], { ...OPTS, now: '2026-11-25T10:00:00Z', evidence: [] });
    expect(plan.finding.kind).toBe('manifest-data-missing');
    expect(plan.keys.map((k) => k.key)).toEqual([`blobs::${M}`, `cache:manifest:digest:${M}`]);
  });
});

describe('Function: repushCommand', () => {
  it('pushes the tag when it is known', () => {
    expect(repushCommand('h:5000', finding())).toBe('docker push h:5000/team-a/payments-api:1.4.2');
  });
  it('asks for a tag of the digest when none is known (docker push cannot push a digest)', () => {
    const cmd = repushCommand('h:5000', finding({ tag: undefined }));
    expect(cmd).toBe(`docker push h:5000/team-a/payments-api:<tag>   # any tag of ${M}`);
    expect(cmd).not.toContain('@sha256');
  });
});
