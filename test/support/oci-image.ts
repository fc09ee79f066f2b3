/**
 * Builds OCI images offline into an `oci:` layout directory (oci-layout, index.json,
 * blobs/sha256/<hex>) for skopeo to push. Layers are valid gzip of a valid ustar archive holding
 * one file of seeded random bytes (AES-CTR keystream, so 48 MiB costs milliseconds), so the same
 * seed always gives the same digests and different seeds never share a layer by accident.
 * Directories are 0755 and files 0644 so skopeo can read them as another user.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface Blob {
  digest: string;
  size: number;
  bytes: Buffer;
}

export interface Layer extends Blob {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
}

export interface BuiltImage {
  /** The layout directory. */
  dir: string;
  tag: string;
  /** `oci:<dir>:<tag>`, the skopeo source reference. */
  ref: string;
  /** The OCI manifest as written (skopeo --format v2s2 pushes a converted one: other digest). */
  manifest: Blob;
  config: Blob;
  layers: Layer[];
}

export interface BuiltIndex {
  dir: string;
  tag: string;
  ref: string;
  index: Blob;
  children: { platform: { os: string; architecture: string }; manifest: Blob; config: Blob }[];
  layers: Layer[];
}

/**
 * The temporary directory, if every directory above it lets other users through (skopeo may run
 * as `nobody`); otherwise /tmp.
 */
export function sharedTmpBase(): string {
  const base = tmpdir();
  let dir = base;
  for (;;) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) return '/tmp';
    } catch {
      return '/tmp';
    }
    const up = dirname(dir);
    if (up === dir) return base;
    dir = up;
  }
}

/** A new temporary directory other users can read (mkdtemp makes 0700), for layouts. */
export function readableTempDir(prefix = 'pushguard-oci-'): string {
  const dir = mkdtempSync(join(sharedTmpBase(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `n` deterministic pseudo-random bytes for `seed`. */
export function seededBytes(seed: string, n: number): Buffer {
  const key = createHash('sha256').update(`key:${seed}`).digest().subarray(0, 16);
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(Buffer.alloc(n)), c.final()]);
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A ustar archive with one regular file. */
export function tarOneFile(name: string, content: Buffer, mtime = 1_700_000_000): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`tar name too long: ${name}`);
  const header = Buffer.alloc(512, 0);
  header.write(name, 0, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(content.length, 12), 124, 'ascii');
  header.write(octal(mtime, 12), 136, 'ascii');
  header.write('        ', 148, 'ascii'); // checksum placeholder
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const pad = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header, content, Buffer.alloc(pad), Buffer.alloc(1024)]);
}

/** A gzip'd tar layer holding `size` seeded random bytes (so the blob is about `size` bytes). */
export function makeLayer(seed: string, size: number): Layer {
  const tar = tarOneFile(
    `data/${createHash('sha256').update(seed).digest('hex').slice(0, 16)}`,
    seededBytes(seed, size)
  );
  // Random data does not compress: level 1 keeps big layers cheap and still valid gzip.
  const bytes = gzipSync(tar, { level: 1 });
  return { digest: sha256(bytes), size: bytes.length, bytes, diffId: sha256(tar) };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function blobOf(bytes: Buffer): Blob {
  return { digest: sha256(bytes), size: bytes.length, bytes };
}

function writeBlob(dir: string, blob: Blob): void {
  const hex = blob.digest.slice('sha256:'.length);
  writeFileSync(join(dir, 'blobs', 'sha256', hex), blob.bytes, { mode: 0o644 });
}

function initLayout(dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true, mode: 0o755 });
  for (const d of [dir, join(dir, 'blobs'), join(dir, 'blobs', 'sha256')]) chmodSync(d, 0o755);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}', { mode: 0o644 });
}

function configFor(
  seed: string,
  layers: Layer[],
  platform: { os: string; architecture: string }
): Blob {
  return blobOf(
    json({
      created: '2026-01-01T00:00:00Z',
      architecture: platform.architecture,
      os: platform.os,
      config: { Env: [`PUSHGUARD_SEED=${seed}`] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({
        created: '2026-01-01T00:00:00Z',
        created_by: `pushguard test layer ${i}`,
      })),
    })
  );
}

function manifestFor(config: Blob, layers: Layer[]): Blob {
  return blobOf(
    json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER_GZIP, digest: l.digest, size: l.size })),
    })
  );
}

export interface ImageSpec {
  /** Layout directory (created; one image per directory). */
  dir: string;
  tag?: string;
  /** Distinguishes images: same seed, same digests. */
  seed: string;
  /** New layers by size in bytes, or layers reused from another image (shared digests). */
  layers: (number | Layer)[];
  platform?: { os: string; architecture: string };
}

/** Builds one single-platform image. */
export function buildImage(spec: ImageSpec): BuiltImage {
  const tag = spec.tag ?? 'latest';
  initLayout(spec.dir);
  const layers = spec.layers.map((l, i) =>
    typeof l === 'number' ? makeLayer(`${spec.seed}/layer/${i}`, l) : l
  );
  const config = configFor(
    spec.seed,
    layers,
    spec.platform ?? { os: 'linux', architecture: 'amd64' }
  );
  const manifest = manifestFor(config, layers);
  for (const b of [...layers, config, manifest]) writeBlob(spec.dir, b);
  writeFileSync(
    join(spec.dir, 'index.json'),
    json({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: manifest.digest,
          size: manifest.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
    { mode: 0o644 }
  );
  return { dir: spec.dir, tag, ref: `oci:${spec.dir}:${tag}`, manifest, config, layers };
}

/** Builds a multi-arch OCI index with two child manifests (linux/amd64 and linux/arm64). */
export function buildMultiArchIndex(spec: {
  dir: string;
  tag?: string;
  seed: string;
  /** Layer sizes of each child image (each child gets its own layers). */
  layerSizes: number[];
}): BuiltIndex {
  const tag = spec.tag ?? 'latest';
  initLayout(spec.dir);
  const platforms = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64' },
  ];
  const allLayers: Layer[] = [];
  const children = platforms.map((platform) => {
    const seed = `${spec.seed}/${platform.architecture}`;
    const layers = spec.layerSizes.map((n, i) => makeLayer(`${seed}/layer/${i}`, n));
    const config = configFor(seed, layers, platform);
    const manifest = manifestFor(config, layers);
    for (const b of [...layers, config, manifest]) writeBlob(spec.dir, b);
    allLayers.push(...layers);
    return { platform, manifest, config };
  });
  const index = blobOf(
    json({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c) => ({
        mediaType: OCI_MANIFEST,
        digest: c.manifest.digest,
        size: c.manifest.size,
        platform: c.platform,
      })),
    })
  );
  writeBlob(spec.dir, index);
  writeFileSync(
    join(spec.dir, 'index.json'),
    json({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: OCI_INDEX,
          digest: index.digest,
          size: index.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
    { mode: 0o644 }
  );
  return { dir: spec.dir, tag, ref: `oci:${spec.dir}:${tag}`, index, children, layers: allLayers };
}
