/**
 * Names are data, outside the engine: places where a name from a manifest, a request or a
 * finding used to be looked up as a property (the engine and the window store are covered by
 * test/property/).
 */
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../lambdas/domain/manifest.ts';
import { decodeXmlText } from '../../lambdas/local/s3-emulator/xml.ts';

const oci = (digest: string) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: 2 },
    layers: [],
  });

describe('Names are data outside the engine', () => {
  it('manifest: an unknown digest algorithm named after a prototype member is just unknown', () => {
    for (const alg of ['constructor', 'tostring', 'valueof', 'hasownproperty']) {
      const digest = `${alg}:abc`;
      expect(parseManifest(oci(digest)).references).toEqual([digest]);
    }
    // a known algorithm is still checked
    expect(() => parseManifest(oci('sha256:abc'))).toThrow(/sha256 digest needs 64/);
  });

  it('emulator XML: an entity named after a prototype member stays as written', () => {
    expect(decodeXmlText('a&constructor;b&tostring;&amp;')).toBe('a&constructor;b&tostring;&');
    expect(decodeXmlText('&lt;&gt;&quot;&apos;')).toBe(`<>"'`);
  });
});
