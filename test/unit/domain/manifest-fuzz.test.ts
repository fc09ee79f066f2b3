import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ManifestParseError,
  MEDIA_TYPES,
  parseManifest,
} from '../../../lambdas/domain/manifest.ts';
import { thrown } from '../../support/thrown.ts';

const SHA256 = /^sha256:[a-f0-9]{64}$/;

describe('Function: parseManifest() under fuzzing', () => {
  it('never crashes on arbitrary bytes or JSON: a result or a ManifestParseError', () => {
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.string({ maxLength: 300 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          schemaVersion: fc.constantFrom(1, 2, 3, '2'),
          mediaType: fc.option(fc.constantFrom(...Object.values(MEDIA_TYPES), 'x/y', 5)),
          config: fc.anything(),
          layers: fc.anything(),
          manifests: fc.anything(),
          fsLayers: fc.anything(),
        })
        .map((v) => JSON.stringify(v))
    );
    fc.assert(
      fc.property(inputs, (input) => {
        // A parsed image or index, or a ManifestParseError: the outcome as one value.
        const err = thrown(() => parseManifest(input));
        const outcome =
          err === undefined ? parseManifest(input) : { kind: 'error', references: [], err };
        expect(['image', 'index', 'error']).toContain(outcome.kind);
        expect(Array.isArray(outcome.references)).toBe(true);
        expect(err === undefined || err instanceof ManifestParseError).toBe(true);
      }),
      { numRuns: 2000 }
    );
  });

  it('returns exactly the digests of a generated schema2 manifest, deduplicated', () => {
    const hex = fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`);
    fc.assert(
      fc.property(hex, fc.array(hex, { maxLength: 20 }), (config, layers) => {
        const body = JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.dockerSchema2,
          config: { mediaType: 'x', size: 1, digest: config },
          layers: layers.map((digest) => ({ mediaType: 'y', size: 1, digest })),
        });
        const parsed = parseManifest(body);
        expect(parsed.references).toEqual([...new Set([config, ...layers])]);
        for (const r of parsed.references) expect(r).toMatch(SHA256);
      })
    );
  });
});
