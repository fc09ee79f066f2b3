import { describe, expect, it } from 'vitest';
import { InvalidReferenceError, MalformedEventError } from '../../../lambdas/domain/errors.ts';
import {
  assertRepositoryName,
  assertSha256Digest,
  blobDataKey,
  classifyKey,
  decodeS3Key,
  detectRootDirectory,
  isSha256Digest,
  isValidRepositoryName,
  isValidTag,
  layerLinkKey,
  normalizeRootDirectory,
  parseDigest,
  registryPrefix,
  revisionLinkKey,
  tagCurrentLinkKey,
  tagIndexLinkKey,
} from '../../../lambdas/domain/keys.ts';
import type { StorageKey } from '../../../lambdas/domain/types.ts';

const HEX = '8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';
const D = `sha256:${HEX}`;
const HEX512 = `${HEX}${HEX}`;
const UPLOAD = 'e95d718e-47d0-4dbd-aa27-dc3c08ce5781';
const R = 'harbor/docker/registry/v2/';

describe('decodeS3Key', () => {
  it.each([
    ['docker/registry/v2/blobs/data', 'docker/registry/v2/blobs/data'],
    ['a+b', 'a b'],
    ['a%2Bb', 'a+b'],
    ['a%2bb', 'a+b'],
    ['a%20b', 'a b'],
    ['a+%2B+b', 'a + b'],
    ['a%2Fb', 'a/b'],
    ['%E2%82%AC', '€'],
    ['v1%5F0', 'v1_0'],
    ['', ''],
  ])('%j → %j', (raw, decoded) => {
    expect(decodeS3Key(raw)).toBe(decoded);
  });

  it.each(['%', '%2', '%zz', 'a%G0', '%E2%82', '%FF'])('%j is a MalformedEventError', (raw) => {
    expect(() => decodeS3Key(raw)).toThrow(MalformedEventError);
    expect(() => decodeS3Key(raw, 'Records[0].s3.object.key')).toThrow(
      /^Records\[0\]\.s3\.object\.key: /
    );
  });
});

describe('root directory', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['/', ''],
    ['harbor', 'harbor'],
    ['/harbor', 'harbor'],
    ['harbor/', 'harbor'],
    ['//harbor//', 'harbor'],
    ['/s3/object/name/prefix', 's3/object/name/prefix'],
  ])('normalizeRootDirectory(%j) = %j', (input, out) => {
    expect(normalizeRootDirectory(input)).toBe(out);
  });

  it.each([
    ['harbor', 'harbor/docker/registry/v2/'],
    ['/harbor/', 'harbor/docker/registry/v2/'],
    ['', 'docker/registry/v2/'],
    ['a/b', 'a/b/docker/registry/v2/'],
  ])('registryPrefix(%j) = %j', (root, prefix) => {
    expect(registryPrefix(root)).toBe(prefix);
  });

  it.each([
    ['docker/registry/v2/blobs/x', ''],
    ['harbor/docker/registry/v2/blobs/x', 'harbor'],
    ['s3/object/name/prefix/docker/registry/v2/repositories/a', 's3/object/name/prefix'],
    ['other/file.txt', undefined],
    ['/docker/registry/v2/blobs', undefined],
    ['xdocker/registry/v2/blobs', undefined],
    ['a//docker/registry/v2/blobs', undefined],
    ['docker/registry/v2', undefined],
  ])('detectRootDirectory(%j) = %j', (key, root) => {
    expect(detectRootDirectory(key)).toBe(root);
  });
});

describe('repository names (distribution reference grammar)', () => {
  it.each([
    'a',
    '0',
    'library/app',
    'team-a/payments-api',
    'a/b/c/d/e',
    'a.b',
    'a_b',
    'a__b',
    'a-b',
    'a---b',
    'a_b.c-d__e',
    'x'.repeat(255),
    `${'a'.repeat(127)}/${'b'.repeat(127)}`,
  ])('%j is valid', (name) => {
    expect(isValidRepositoryName(name)).toBe(true);
    expect(() => assertRepositoryName(name)).not.toThrow();
  });

  it.each([
    '',
    'A',
    'Library/app',
    'a/',
    '/a',
    'a//b',
    'a b',
    'a*',
    'a?',
    'a[0]',
    'a]',
    'a\\b',
    'a::b',
    'a:b',
    'a..b',
    'a._b',
    'a___b',
    '-a',
    'a-',
    '_a',
    'a.',
    'é',
    'x'.repeat(256),
    `${'a'.repeat(128)}/${'b'.repeat(127)}`,
    `${'a'.repeat(250)}!`,
  ])('%j is invalid', (name) => {
    expect(isValidRepositoryName(name)).toBe(false);
    expect(() => assertRepositoryName(name)).toThrow(InvalidReferenceError);
  });

  it.each([undefined, null, 42, {}, ['a']])('non-string %j is invalid', (name) => {
    expect(isValidRepositoryName(name)).toBe(false);
    expect(() => assertRepositoryName(name)).toThrow(InvalidReferenceError);
  });
});

describe('digests', () => {
  it.each([
    [D, 'sha256', HEX],
    [`sha512:${HEX512}`, 'sha512', HEX512],
    [`sha384:${HEX.slice(0, 32)}${HEX}`, 'sha384', `${HEX.slice(0, 32)}${HEX}`],
    [
      'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
      'multihash+base58',
      'QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
    ],
    ['b3:abc=_-XYZ', 'b3', 'abc=_-XYZ'],
  ])('parseDigest(%j) recognises %s', (s, algorithm, hex) => {
    expect(parseDigest(s)).toEqual({ algorithm, hex });
  });

  it.each([
    '',
    HEX,
    `sha256:${HEX.toUpperCase()}`,
    `sha256:${HEX.slice(1)}`,
    `sha256:${HEX}0`,
    `sha512:${HEX}`,
    `SHA256:${HEX}`,
    `sha256::${HEX}`,
    `:${HEX}`,
    'sha256:',
    'sha..256:abc',
    '-sha:abc',
    'sha256*:abc',
    `sha256:${HEX.slice(0, 63)}*`,
    'constructor:abc!',
  ])('parseDigest(%j) is undefined', (s) => {
    expect(parseDigest(s)).toBeUndefined();
  });

  it('only sha256 + 64 lowercase hex passes the sha256 checks', () => {
    expect(isSha256Digest(D)).toBe(true);
    expect(() => assertSha256Digest(D)).not.toThrow();
    for (const bad of [
      `sha512:${HEX512}`,
      `sha256:${HEX.toUpperCase()}`,
      `sha256:${HEX.slice(2)}`,
      `sha256:${HEX.slice(0, 63)}*`,
      `sha256:${HEX.slice(0, 63)}?`,
      `${D} `,
      42,
      undefined,
    ]) {
      expect(isSha256Digest(bad)).toBe(false);
      expect(() => assertSha256Digest(bad)).toThrow(InvalidReferenceError);
    }
  });
});

describe('tags', () => {
  it.each(['v1', 'latest', '1.4.2', '_x', 'V1.0-rc_1', 'a'.repeat(128)])('%j is valid', (t) => {
    expect(isValidTag(t)).toBe(true);
  });
  it.each(['', '-v1', '.v1', 'v 1', 'v1+b', 'v/1', 'a'.repeat(129), 'v1:x'])(
    '%j is invalid',
    (t) => {
      expect(isValidTag(t)).toBe(false);
    }
  );
});

describe('classifyKey: every key kind', () => {
  const cases: [string, StorageKey][] = [
    [`${R}blobs/sha256/82/${HEX}/data`, { kind: 'blob-data', root: 'harbor', digest: D }],
    [
      `${R}repositories/library/app/_uploads/${UPLOAD}/data`,
      { kind: 'upload-data', root: 'harbor', repository: 'library/app', uploadId: UPLOAD },
    ],
    [
      `${R}repositories/library/app/_uploads/${UPLOAD}/startedat`,
      { kind: 'upload-startedat', root: 'harbor', repository: 'library/app', uploadId: UPLOAD },
    ],
    [
      `${R}repositories/library/app/_uploads/${UPLOAD}/hashstates/sha256/262360`,
      {
        kind: 'upload-hashstate',
        root: 'harbor',
        repository: 'library/app',
        uploadId: UPLOAD,
        algorithm: 'sha256',
        offset: 262360,
      },
    ],
    [
      `${R}repositories/library/app/_uploads/${UPLOAD}/hashstates/sha256/0`,
      {
        kind: 'upload-hashstate',
        root: 'harbor',
        repository: 'library/app',
        uploadId: UPLOAD,
        algorithm: 'sha256',
        offset: 0,
      },
    ],
    [
      `${R}repositories/library/app/_layers/sha256/${HEX}/link`,
      { kind: 'layer-link', root: 'harbor', repository: 'library/app', digest: D },
    ],
    [
      `${R}repositories/library/app/_manifests/revisions/sha256/${HEX}/link`,
      { kind: 'revision-link', root: 'harbor', repository: 'library/app', digest: D },
    ],
    [
      `${R}repositories/library/app/_manifests/tags/v1/current/link`,
      { kind: 'tag-current-link', root: 'harbor', repository: 'library/app', tag: 'v1' },
    ],
    [
      `${R}repositories/library/app/_manifests/tags/v1.0-rc_1/index/sha256/${HEX}/link`,
      {
        kind: 'tag-index-link',
        root: 'harbor',
        repository: 'library/app',
        tag: 'v1.0-rc_1',
        digest: D,
      },
    ],
    // nested repository names
    [
      `${R}repositories/a/b/c/d/_layers/sha256/${HEX}/link`,
      { kind: 'layer-link', root: 'harbor', repository: 'a/b/c/d', digest: D },
    ],
    [
      `${R}repositories/single/_manifests/revisions/sha256/${HEX}/link`,
      { kind: 'revision-link', root: 'harbor', repository: 'single', digest: D },
    ],
    [
      // a repository may itself be called like the layout's folders
      `${R}repositories/team/blobs/repositories/_manifests/tags/latest/current/link`,
      {
        kind: 'tag-current-link',
        root: 'harbor',
        repository: 'team/blobs/repositories',
        tag: 'latest',
      },
    ],
    // other algorithms are recognised
    [
      `${R}blobs/sha512/${HEX512.slice(0, 2)}/${HEX512}/data`,
      { kind: 'blob-data', root: 'harbor', digest: `sha512:${HEX512}` },
    ],
    [
      `${R}repositories/library/app/_layers/sha512/${HEX512}/link`,
      { kind: 'layer-link', root: 'harbor', repository: 'library/app', digest: `sha512:${HEX512}` },
    ],
    [
      `${R}repositories/library/app/_uploads/${UPLOAD}/hashstates/sha512/1024`,
      {
        kind: 'upload-hashstate',
        root: 'harbor',
        repository: 'library/app',
        uploadId: UPLOAD,
        algorithm: 'sha512',
        offset: 1024,
      },
    ],
  ];

  it.each(cases)('%s', (key, expected) => {
    expect(classifyKey(key)).toEqual(expected);
    expect(classifyKey(key, { rootDirectory: 'harbor' })).toEqual(expected);
    expect(classifyKey(key, { rootDirectory: '/harbor/' })).toEqual(expected);
    // the same key without a root, and under a deeper root
    const bare = key.slice('harbor/'.length);
    const nested = `s3/object/name/prefix/${bare}`;
    if (expected.kind === 'unrelated') throw new Error('table holds layout keys only');
    expect(classifyKey(bare)).toEqual({ ...expected, root: '' });
    expect(classifyKey(bare, { rootDirectory: '' })).toEqual({ ...expected, root: '' });
    expect(classifyKey(nested)).toEqual({ ...expected, root: 's3/object/name/prefix' });
    expect(classifyKey(nested, { rootDirectory: '/s3/object/name/prefix' })).toEqual({
      ...expected,
      root: 's3/object/name/prefix',
    });
    // a configured root that does not match makes the key unrelated
    expect(classifyKey(key, { rootDirectory: 'other' }).kind).toBe('unrelated');
    expect(classifyKey(key, { rootDirectory: '' }).kind).toBe('unrelated');
    expect(classifyKey(bare, { rootDirectory: 'harbor' }).kind).toBe('unrelated');
  });
});

describe('classifyKey: unrelated keys (never a throw)', () => {
  it.each([
    ['', 'empty'],
    ['README.md', 'other file'],
    ['harbor/backups/db.sql', 'other file under the root'],
    ['docker/registry/v2/', 'the prefix alone'],
    ['/docker/registry/v2/blobs/sha256/82/x/data', 'leading slash'],
    ['harbor//docker/registry/v2/blobs/sha256/82/x/data', 'empty root component'],
    [`${R}blobs/sha256/82/${HEX}`, 'blob folder, no data'],
    [`${R}blobs/sha256/82/${HEX}/data/x`, 'below data'],
    [`${R}blobs/sha256/83/${HEX}/data`, 'shard mismatch'],
    [`${R}blobs/sha256/8/${HEX}/data`, 'short shard'],
    [`${R}blobs/sha256/82/${HEX.toUpperCase()}/data`, 'uppercase hex'],
    [`${R}blobs/sha256/82/${HEX.slice(0, 63)}/data`, 'short hex'],
    [`${R}blobs/sha512/82/${HEX}/data`, 'sha512 needs 128 hex'],
    [`${R}blobs/SHA256/82/${HEX}/data`, 'uppercase algorithm'],
    [`${R}repositories/library/app`, 'repository folder'],
    [`${R}repositories/library/app/_other/x`, 'unknown underscore folder'],
    [`${R}repositories/_layers/sha256/${HEX}/link`, 'no repository name'],
    [`${R}repositories/Library/app/_layers/sha256/${HEX}/link`, 'uppercase name'],
    [`${R}repositories/a//b/_layers/sha256/${HEX}/link`, 'empty component'],
    [`${R}repositories/a*/_layers/sha256/${HEX}/link`, 'wildcard in name'],
    [`${R}repositories/a?/_layers/sha256/${HEX}/link`, 'wildcard in name'],
    [`${R}repositories/a[b]/_layers/sha256/${HEX}/link`, 'glob class in name'],
    [`${R}repositories/a b/_layers/sha256/${HEX}/link`, 'space in name'],
    [`${R}repositories/a::b/_layers/sha256/${HEX}/link`, ':: in name'],
    [`${R}repositories/${'a'.repeat(256)}/_layers/sha256/${HEX}/link`, 'name too long'],
    [`${R}repositories/library/app/_layers/sha256/${HEX}`, 'layer folder'],
    [`${R}repositories/library/app/_layers/sha256/${HEX}/data`, 'not a link'],
    [`${R}repositories/library/app/_layers/sha256/${HEX}*/link`, 'wildcard digest'],
    [`${R}repositories/library/app/_manifests/revisions/sha256/${HEX}/link/x`, 'below link'],
    [`${R}repositories/library/app/_manifests/revisions/sha256/${HEX}`, 'revision folder'],
    [`${R}repositories/library/app/_manifests/tags/v1/current`, 'current folder'],
    [`${R}repositories/library/app/_manifests/tags/-v1/current/link`, 'invalid tag'],
    [
      `${R}repositories/library/app/_manifests/tags/${'t'.repeat(129)}/current/link`,
      'tag too long',
    ],
    [`${R}repositories/library/app/_manifests/tags/v1/index/sha256/${HEX}`, 'index folder'],
    [`${R}repositories/library/app/_manifests/tags/v1/index/sha256/bad/link`, 'bad index digest'],
    [`${R}repositories/library/app/_manifests/other/x/link`, 'unknown manifests folder'],
    [`${R}repositories/library/app/_uploads/${UPLOAD}/other`, 'unknown upload object'],
    [`${R}repositories/library/app/_uploads/${UPLOAD}/hashstates/sha256/01`, 'leading zero'],
    [`${R}repositories/library/app/_uploads/${UPLOAD}/hashstates/sha256/x`, 'bad offset'],
    [`${R}repositories/library/app/_uploads/${UPLOAD}/hashstates/sha256`, 'no offset'],
    [`${R}repositories/library/app/_uploads/a*b/data`, 'bad upload id'],
    [`${R}repositories/library/app/_uploads/../data`, 'dot-dot upload id'],
    [`${R}other/x`, 'unknown top folder'],
  ])('%s (%s)', (key) => {
    const sk = classifyKey(key);
    expect(sk).toMatchObject({ kind: 'unrelated', key, reason: expect.stringMatching(/./) });
    expect(classifyKey(key, { rootDirectory: 'harbor' }).kind).toBe('unrelated');
  });

  it('a configured root is not a detected one', () => {
    const key = `other/docker/registry/v2/blobs/sha256/82/${HEX}/data`;
    expect(classifyKey(key).kind).toBe('blob-data');
    expect(classifyKey(key, { rootDirectory: 'harbor' })).toMatchObject({
      kind: 'unrelated',
      reason: 'outside harbor/docker/registry/v2/',
    });
  });

  it('non-string input is unrelated, not a throw', () => {
    expect(classifyKey(undefined as unknown as string).kind).toBe('unrelated');
    expect(classifyKey(42 as unknown as string).kind).toBe('unrelated');
  });
});

describe('key builders', () => {
  it('produce exactly the layout keys', () => {
    expect(blobDataKey('harbor', D)).toBe(`${R}blobs/sha256/82/${HEX}/data`);
    expect(blobDataKey('', D)).toBe(`docker/registry/v2/blobs/sha256/82/${HEX}/data`);
    expect(blobDataKey('/harbor/', D)).toBe(`${R}blobs/sha256/82/${HEX}/data`);
    expect(layerLinkKey('harbor', 'library/app', D)).toBe(
      `${R}repositories/library/app/_layers/sha256/${HEX}/link`
    );
    expect(revisionLinkKey('harbor', 'a/b/c', D)).toBe(
      `${R}repositories/a/b/c/_manifests/revisions/sha256/${HEX}/link`
    );
    expect(tagCurrentLinkKey('harbor', 'library/app', 'v1')).toBe(
      `${R}repositories/library/app/_manifests/tags/v1/current/link`
    );
    expect(tagIndexLinkKey('harbor', 'library/app', 'v1', D)).toBe(
      `${R}repositories/library/app/_manifests/tags/v1/index/sha256/${HEX}/link`
    );
    expect(blobDataKey('harbor', `sha512:${HEX512}`)).toBe(
      `${R}blobs/sha512/${HEX512.slice(0, 2)}/${HEX512}/data`
    );
  });

  it('round-trip through classifyKey', () => {
    for (const root of ['', 'harbor', 'a/b/c']) {
      for (const repo of ['library/app', 'x', 'a.b/c__d/e-f']) {
        expect(classifyKey(blobDataKey(root, D))).toEqual({ kind: 'blob-data', root, digest: D });
        expect(classifyKey(layerLinkKey(root, repo, D))).toEqual({
          kind: 'layer-link',
          root,
          repository: repo,
          digest: D,
        });
        expect(classifyKey(revisionLinkKey(root, repo, D), { rootDirectory: root })).toEqual({
          kind: 'revision-link',
          root,
          repository: repo,
          digest: D,
        });
        expect(classifyKey(tagCurrentLinkKey(root, repo, 'v2'))).toEqual({
          kind: 'tag-current-link',
          root,
          repository: repo,
          tag: 'v2',
        });
        expect(classifyKey(tagIndexLinkKey(root, repo, '_t', D))).toEqual({
          kind: 'tag-index-link',
          root,
          repository: repo,
          tag: '_t',
          digest: D,
        });
      }
    }
  });

  it.each([
    ['bad digest', () => blobDataKey('harbor', 'sha256:*')],
    ['uppercase digest', () => blobDataKey('harbor', `sha256:${HEX.toUpperCase()}`)],
    ['one-char encoding', () => blobDataKey('harbor', 'b3:a')],
    ['wildcard repo', () => layerLinkKey('harbor', 'library/*', D)],
    ['uppercase repo', () => revisionLinkKey('harbor', 'Library/app', D)],
    ['empty repo', () => tagCurrentLinkKey('harbor', '', 'v1')],
    ['bad tag', () => tagCurrentLinkKey('harbor', 'library/app', 'v/1')],
    ['bad index tag', () => tagIndexLinkKey('harbor', 'library/app', '', D)],
    ['bad index digest', () => tagIndexLinkKey('harbor', 'library/app', 'v1', 'sha256:?')],
  ])('%s throws InvalidReferenceError', (_what, build) => {
    expect(build).toThrow(InvalidReferenceError);
  });
});
