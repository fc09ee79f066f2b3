/**
 * `pushguard local --data-dir`: the emulator's buckets on disk, written through on every change
 * and read back at start, so a restart (kill -9 included) finds every object it acknowledged.
 *
 * Layout: `<dir>/<bucket>/versioning` (Enabled or Suspended, if set) and, per version (an
 * unversioned object is version `null`), `<dir>/<bucket>/objects/<hh>/<id>.json` (metadata) with
 * `<id>.<seq>.data` (bytes), where id = sha256(key NUL versionId). Nothing is half-written: each
 * file is written under a temporary name and renamed; the metadata is renamed last and names its
 * data file, so a crash leaves either the old version or the new one. Data files no metadata
 * names (a crash between the two renames) are removed at the next start.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { StoredObject } from './fauxqs-internals.ts';
import type { ObjectVersion, VersioningStatus, VersionObserver } from './object-versions.ts';

interface VersionMeta {
  key: string;
  versionId: string;
  seq: number;
  lastModified: string;
  /** Absent for a delete marker. */
  object?: {
    data: string;
    contentType: string;
    etag: string;
    size: number;
    metadata: Record<string, string>;
  };
}

export interface PersistedBucket {
  status: VersioningStatus | undefined;
  /** Oldest first. */
  versions: ObjectVersion[];
}

const bucketDir = (name: string) => encodeURIComponent(name).replaceAll('.', '%2E');
const versionFileId = (key: string, versionId: string) =>
  createHash('sha256').update(`${key}\0${versionId}`).digest('hex');

/** Writes `bytes` to `path` atomically (temporary file, then rename). */
function writeAtomic(path: string, bytes: string | Buffer): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

function readMeta(path: string): VersionMeta | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VersionMeta;
  } catch {
    // Renamed into place whole, so unreadable only if the disk failed: skip, keep the rest.
    return undefined;
  }
}

function toVersion(meta: VersionMeta, dir: string): ObjectVersion | undefined {
  const lastModified = new Date(meta.lastModified);
  if (!meta.object)
    return { key: meta.key, versionId: meta.versionId, lastModified, object: undefined };
  const path = join(dir, meta.object.data);
  if (!existsSync(path)) return undefined;
  const body = readFileSync(path);
  if (body.length !== meta.object.size) return undefined;
  const object: StoredObject = {
    key: meta.key,
    body,
    contentType: meta.object.contentType,
    contentLength: body.length,
    etag: meta.object.etag,
    lastModified,
    metadata: Object.assign(Object.create(null), meta.object.metadata),
  };
  return { key: meta.key, versionId: meta.versionId, lastModified, object };
}

export class DiskPersistence implements VersionObserver {
  readonly dir: string;
  private seq = 0;
  /** Data file of each version file id, to remove the old one when a version is replaced. */
  private readonly dataFiles = new Map<string, string>();
  /** Shard directories known to exist (one mkdir each, not one per write). */
  private readonly shards = new Set<string>();

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** Reads every bucket back; removes leftovers of interrupted writes. */
  load(): Map<string, PersistedBucket> {
    const out = new Map<string, PersistedBucket>();
    for (const entry of readdirSync(this.dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const name = decodeURIComponent(entry.name);
      out.set(name, this.loadBucket(name));
    }
    return out;
  }

  private loadBucket(bucket: string): PersistedBucket {
    const root = join(this.dir, bucketDir(bucket));
    const statusFile = join(root, 'versioning');
    const status = existsSync(statusFile) ? readFileSync(statusFile, 'utf8').trim() : undefined;
    const metas: { meta: VersionMeta; dir: string }[] = [];
    const objects = join(root, 'objects');
    const shards = existsSync(objects) ? readdirSync(objects) : [];
    for (const shard of shards) {
      const dir = join(objects, shard);
      const files = readdirSync(dir);
      const named = new Set<string>();
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        const meta = readMeta(join(dir, file));
        if (!meta) continue;
        metas.push({ meta, dir });
        if (meta.object) {
          named.add(meta.object.data);
          this.dataFiles.set(file.slice(0, -'.json'.length), meta.object.data);
        }
        this.seq = Math.max(this.seq, meta.seq);
      }
      for (const file of files) {
        if (!file.endsWith('.json') && !named.has(file)) rmSync(join(dir, file), { force: true });
      }
    }
    metas.sort((a, b) => a.meta.seq - b.meta.seq);
    const versions = metas.flatMap(({ meta, dir }) => toVersion(meta, dir) ?? []);
    return {
      status: status === 'Enabled' || status === 'Suspended' ? status : undefined,
      versions,
    };
  }

  bucketCreated(bucket: string): void {
    mkdirSync(join(this.dir, bucketDir(bucket), 'objects'), { recursive: true });
  }

  statusSet(bucket: string, status: VersioningStatus): void {
    this.bucketCreated(bucket);
    writeAtomic(join(this.dir, bucketDir(bucket), 'versioning'), status);
  }

  versionAdded(bucket: string, version: ObjectVersion): void {
    const id = versionFileId(version.key, version.versionId);
    const dir = join(this.dir, bucketDir(bucket), 'objects', id.slice(0, 2));
    if (!this.shards.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.shards.add(dir);
    }
    const seq = ++this.seq;
    const meta: VersionMeta = {
      key: version.key,
      versionId: version.versionId,
      seq,
      lastModified: version.lastModified.toISOString(),
    };
    const obj = version.object;
    if (obj) {
      const data = `${id}.${seq}.data`;
      writeAtomic(join(dir, data), obj.body);
      meta.object = {
        data,
        contentType: obj.contentType,
        etag: obj.etag,
        size: obj.body.length,
        metadata: obj.metadata,
      };
    }
    writeAtomic(join(dir, `${id}.json`), JSON.stringify(meta));
    const previous = this.dataFiles.get(id);
    if (previous && previous !== meta.object?.data) rmSync(join(dir, previous), { force: true });
    if (meta.object) this.dataFiles.set(id, meta.object.data);
    else this.dataFiles.delete(id);
  }

  versionRemoved(bucket: string, key: string, versionId: string): void {
    const id = versionFileId(key, versionId);
    const dir = join(this.dir, bucketDir(bucket), 'objects', id.slice(0, 2));
    // Metadata first: once it is gone the version is gone, whatever happens to the data file.
    rmSync(join(dir, `${id}.json`), { force: true });
    const data = this.dataFiles.get(id);
    if (data) rmSync(join(dir, data), { force: true });
    this.dataFiles.delete(id);
  }
}
