import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PushGuardError } from '../../../lambdas/domain/errors.ts';
import {
  MAX_MANIFEST_BYTES,
  ManifestParseError,
  MEDIA_TYPES,
  parseManifest,
} from '../../../lambdas/domain/manifest.ts';
import { thrown } from '../../support/thrown.ts';

const fixture = readFileSync(
  new URL('../../fixtures/manifests/docker-schema2.manifest', import.meta.url)
);
const d = (c: string) => `sha256:${c.repeat(64)}`;

function parseError(input: Uint8Array | string): ManifestParseError {
  const err = thrown(() => parseManifest(input));
  expect(err).toBeInstanceOf(ManifestParseError);
  expect(err).toBeInstanceOf(PushGuardError);
  return err as ManifestParseError;
}

describe('Function: parseManifest()', () => {
  it('reads the sample Docker schema2 manifest byte for byte (config first, then layers)', () => {
    // Prepare: the fixture is the manifest whose digest the webhook samples use.
    expect(createHash('sha256').update(fixture).digest('hex')).toBe(
      'd072586aa4ec0d482c731fb91a40e149586e7e89cf1cd68ae81f57daf525039a'
    );
    // Act
    const parsed = parseManifest(new Uint8Array(fixture));
    // Assess
    expect(parsed).toEqual({
      mediaType: MEDIA_TYPES.dockerSchema2,
      kind: 'image',
      references: [
        'sha256:6f945746a16063bf4de822d7e44d9caaeef93baa44a5b243957ff898fabf478e',
        'sha256:589f0d58b9053a4ff7329b8fdb4f9dd120e29354c086ad0b3b10733f6cfd6de3',
        'sha256:55fea2a37a9fc5963f1beccd0d162b856e6bd05ca07cdd3726847846ab740f0d',
        'sha256:e6c65c655ca8172ab7a2b634dab3220a45472dd6571b6efd956ccc05e229a201',
      ],
    });
    expect(parseManifest(fixture.toString('utf8'))).toEqual(parsed);
  });

  it('reads an OCI image manifest with a subject (referrers) and no repeats', () => {
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: 'application/vnd.example.sbom',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: d('1'), size: 2 },
      layers: [
        { mediaType: 'application/spdx+json', digest: d('2'), size: 10 },
        { mediaType: 'application/spdx+json', digest: d('2'), size: 10 },
      ],
      subject: { mediaType: MEDIA_TYPES.ociManifest, digest: d('3'), size: 500 },
    };
    expect(parseManifest(JSON.stringify(manifest))).toEqual({
      mediaType: MEDIA_TYPES.ociManifest,
      kind: 'image',
      references: [d('1'), d('2'), d('3')],
    });
  });

  it('reads an OCI index: child manifests and subject', () => {
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        { mediaType: MEDIA_TYPES.ociManifest, digest: d('a'), size: 1, platform: { os: 'linux' } },
        { mediaType: MEDIA_TYPES.ociManifest, digest: d('b'), size: 1 },
      ],
      subject: { mediaType: MEDIA_TYPES.ociManifest, digest: d('c'), size: 1 },
    };
    expect(parseManifest(JSON.stringify(index))).toEqual({
      mediaType: MEDIA_TYPES.ociIndex,
      kind: 'index',
      references: [d('a'), d('b'), d('c')],
    });
  });

  it('reads a Docker manifest list', () => {
    const list = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerList,
      manifests: [
        { mediaType: MEDIA_TYPES.dockerSchema2, digest: d('4'), size: 7, platform: {} },
        { mediaType: MEDIA_TYPES.dockerSchema2, digest: d('5'), size: 7, platform: {} },
      ],
    };
    const parsed = parseManifest(JSON.stringify(list));
    expect(parsed.kind).toBe('index');
    expect(parsed.mediaType).toBe(MEDIA_TYPES.dockerList);
    expect(parsed.references).toEqual([d('4'), d('5')]);
  });

  it('reads a signed schema1 manifest by its blobSums', () => {
    const schema1 = {
      schemaVersion: 1,
      name: 'library/old',
      tag: 'v1',
      architecture: 'amd64',
      fsLayers: [{ blobSum: d('6') }, { blobSum: d('7') }, { blobSum: d('6') }],
      history: [{ v1Compatibility: '{}' }],
      signatures: [{ header: {}, signature: 'x', protected: 'y' }],
    };
    expect(parseManifest(JSON.stringify(schema1, null, 3))).toEqual({
      mediaType: MEDIA_TYPES.dockerSchema1,
      kind: 'image',
      references: [d('6'), d('7')],
    });
  });

  it('tells an OCI index from an image manifest by shape when mediaType is absent', () => {
    const index = { schemaVersion: 2, manifests: [{ digest: d('8'), size: 1 }] };
    const image = { schemaVersion: 2, config: { digest: d('9'), size: 1 }, layers: [] };
    expect(parseManifest(JSON.stringify(index))).toMatchObject({
      mediaType: MEDIA_TYPES.ociIndex,
      kind: 'index',
      references: [d('8')],
    });
    expect(parseManifest(JSON.stringify(image))).toMatchObject({
      mediaType: MEDIA_TYPES.ociManifest,
      kind: 'image',
      references: [d('9')],
    });
  });

  it('keeps foreign and non-distributable layers with urls out of the references', () => {
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerSchema2,
      config: { digest: d('1'), size: 1 },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
          digest: d('e'),
          size: 1,
          urls: ['https://mcr.microsoft.com/x'],
        },
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d('f') },
      ],
    };
    const parsed = parseManifest(JSON.stringify(manifest));
    expect(parsed.references).toEqual([d('1'), d('f')]);
    expect(parsed.external).toEqual([d('e')]);
  });

  it.each([
    ['not JSON', '{"schemaVersion": 2,', 'body'],
    ['a JSON array', '[]', 'body'],
    ['an unknown schemaVersion', '{"schemaVersion": 3}', 'schemaVersion'],
    [
      'an unsupported media type',
      JSON.stringify({ schemaVersion: 2, mediaType: 'text/plain', config: {} }),
      'mediaType',
    ],
    ['a non-string media type', '{"schemaVersion":2,"mediaType":7}', 'mediaType'],
    [
      'layers that are not an array',
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerSchema2,
        config: { digest: d('1') },
        layers: {},
      }),
      'layers',
    ],
    [
      'a config without a digest',
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerSchema2, config: {} }),
      'config.digest',
    ],
    [
      'a short sha256 digest',
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerSchema2,
        config: { digest: d('1') },
        layers: [{ digest: 'sha256:abc' }],
      }),
      'layers[0].digest',
    ],
    [
      'an uppercase sha256 digest',
      JSON.stringify({ schemaVersion: 2, manifests: [{ digest: `sha256:${'A'.repeat(64)}` }] }),
      'manifests[0].digest',
    ],
    [
      'a glob in a digest',
      JSON.stringify({ schemaVersion: 1, fsLayers: [{ blobSum: 'sha256:*' }] }),
      'fsLayers[0].blobSum',
    ],
    ['a shapeless OCI document', '{"schemaVersion":2}', 'body'],
  ])('refuses %s with a typed error naming the field', (_what, body, field) => {
    expect(parseError(body).field).toBe(field);
  });

  it('refuses invalid UTF-8 and bodies over 4 MiB before parsing them', () => {
    expect(parseError(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])).message).toMatch(/UTF-8/);
    expect(parseError(new Uint8Array(MAX_MANIFEST_BYTES + 1)).message).toMatch(/4 MiB/);
  });
});
