/**
 * Manifest parsing (pure): which blobs and child manifests a stored manifest names.
 *
 * Supports Docker schema2 (config + layers), OCI image manifest (config, layers, subject), OCI
 * index and Docker manifest list (child manifests, subject) and Docker schema1 (fsLayers[].blobSum).
 * The format is taken from `mediaType`, or from the shape when `mediaType` is absent (OCI allows
 * that). Layers the registry never stores (Docker foreign layers, OCI non-distributable layers with
 * `urls`) are listed in `external`, not in `references`: distribution does not check them either.
 */
import { PushGuardError } from './errors.ts';
import type { Digest } from './types.ts';

/** A manifest body that is not JSON or not a supported manifest shape. */
export class ManifestParseError extends PushGuardError {
  /** Dotted path of the offending field, e.g. `layers[2].digest`; `body` for the whole document. */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`manifest ${field}: ${reason}`);
    this.field = field;
  }
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** Every blob and child manifest the registry must hold, in document order, without repeats. */
  references: Digest[];
  /** Layers fetched from elsewhere (foreign / non-distributable with urls): never in the bucket. */
  external?: Digest[];
}

export const MEDIA_TYPES = {
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema2: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

/** distribution refuses manifests over 4 MiB; so do we (before JSON.parse). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Known algorithms' hex lengths; looked up by a name from the manifest, so a Map. */
const HEX_LENGTH = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);
const EXTERNAL_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkDigest(value: unknown, field: string): Digest {
  if (typeof value !== 'string' || value.length > 200 || !DIGEST.test(value)) {
    throw new ManifestParseError(field, 'not a digest');
  }
  const [algorithm, hex] = value.split(':') as [string, string];
  const expected = HEX_LENGTH.get(algorithm);
  if (expected !== undefined && (hex.length !== expected || !/^[a-f0-9]+$/.test(hex))) {
    throw new ManifestParseError(field, `${algorithm} digest needs ${expected} lowercase hex`);
  }
  return value;
}

/** Reads one descriptor; returns its digest and whether it lives outside the registry. */
function descriptor(value: unknown, field: string): { digest: Digest; external: boolean } {
  if (!isObject(value)) throw new ManifestParseError(field, 'not a descriptor object');
  const digest = checkDigest(value.digest, `${field}.digest`);
  const urls = value.urls;
  const external =
    typeof value.mediaType === 'string' &&
    EXTERNAL_LAYER_TYPES.has(value.mediaType) &&
    Array.isArray(urls) &&
    urls.length > 0;
  return { digest, external };
}

function descriptorList(doc: Json, name: string, required: boolean): unknown[] {
  const list = doc[name];
  if (list === undefined && !required) return [];
  if (!Array.isArray(list)) throw new ManifestParseError(name, 'not an array');
  return list;
}

class Collector {
  readonly references: Digest[] = [];
  readonly external: Digest[] = [];
  private readonly seen = new Set<string>();
  add(d: { digest: Digest; external: boolean }): void {
    if (this.seen.has(d.digest)) return;
    this.seen.add(d.digest);
    (d.external ? this.external : this.references).push(d.digest);
  }
  result(mediaType: string, kind: 'image' | 'index'): ParsedManifest {
    const out: ParsedManifest = { mediaType, kind, references: this.references };
    if (this.external.length > 0) out.external = this.external;
    return out;
  }
}

function parseImage(doc: Json, mediaType: string, withSubject: boolean): ParsedManifest {
  const c = new Collector();
  c.add(descriptor(doc.config, 'config'));
  descriptorList(doc, 'layers', true).forEach((l, i) => {
    c.add(descriptor(l, `layers[${i}]`));
  });
  if (withSubject && doc.subject !== undefined) c.add(descriptor(doc.subject, 'subject'));
  return c.result(mediaType, 'image');
}

function parseIndex(doc: Json, mediaType: string): ParsedManifest {
  const c = new Collector();
  descriptorList(doc, 'manifests', true).forEach((m, i) => {
    c.add(descriptor(m, `manifests[${i}]`));
  });
  if (doc.subject !== undefined) c.add(descriptor(doc.subject, 'subject'));
  return c.result(mediaType, 'index');
}

function parseSchema1(doc: Json, mediaType: string): ParsedManifest {
  const c = new Collector();
  descriptorList(doc, 'fsLayers', true).forEach((l, i) => {
    if (!isObject(l)) throw new ManifestParseError(`fsLayers[${i}]`, 'not an object');
    c.add({ digest: checkDigest(l.blobSum, `fsLayers[${i}].blobSum`), external: false });
  });
  return c.result(mediaType, 'image');
}

function decode(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') {
    if (bytes.length > MAX_MANIFEST_BYTES) throw new ManifestParseError('body', 'over 4 MiB');
    return bytes;
  }
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw new ManifestParseError('body', 'over 4 MiB');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ManifestParseError('body', 'not valid UTF-8');
  }
}

/** Parses a stored manifest. Throws ManifestParseError on anything it cannot read with certainty. */
export function parseManifest(bytes: Uint8Array | string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(decode(bytes));
  } catch (err) {
    if (err instanceof ManifestParseError) throw err;
    throw new ManifestParseError('body', 'not JSON');
  }
  if (!isObject(doc)) throw new ManifestParseError('body', 'not a JSON object');
  const declared = doc.mediaType;
  if (declared !== undefined && typeof declared !== 'string') {
    throw new ManifestParseError('mediaType', 'not a string');
  }
  const schemaVersion = doc.schemaVersion;
  if (schemaVersion === 1) return parseSchema1(doc, declared ?? MEDIA_TYPES.dockerSchema1);
  if (schemaVersion !== 2) throw new ManifestParseError('schemaVersion', 'must be 1 or 2');
  switch (declared) {
    case MEDIA_TYPES.dockerSchema2:
      return parseImage(doc, declared, false);
    case MEDIA_TYPES.ociManifest:
      return parseImage(doc, declared, true);
    case MEDIA_TYPES.dockerList:
    case MEDIA_TYPES.ociIndex:
      return parseIndex(doc, declared);
    case undefined:
      // OCI makes mediaType optional: tell an index from an image manifest by its shape.
      if (Array.isArray(doc.manifests)) return parseIndex(doc, MEDIA_TYPES.ociIndex);
      if (doc.config !== undefined) return parseImage(doc, MEDIA_TYPES.ociManifest, true);
      throw new ManifestParseError('body', 'neither an image manifest nor an index');
    default:
      throw new ManifestParseError('mediaType', `unsupported ${JSON.stringify(declared)}`);
  }
}
