/**
 * Gap: fauxqs has no bucket versioning. This is the version index of the emulator store: for each
 * bucket its versioning status, and for each key its versions, oldest first, each an object or a
 * delete marker. Every bucket has one, versioned or not (an unversioned key has one version,
 * `null`), so the store derives the current object of every key from it the same way.
 */
import { randomBytes } from 'node:crypto';
import type { StoredObject } from './fauxqs-internals.ts';
import { compareUtf8 } from './list-order.ts';

export type VersioningStatus = 'Enabled' | 'Suspended';

/** The version id of writes to a bucket whose versioning is not enabled. */
export const NULL_VERSION = 'null';

export interface ObjectVersion {
  key: string;
  versionId: string;
  lastModified: Date;
  /** Undefined for a delete marker. */
  object: StoredObject | undefined;
}

export interface VersionPage {
  versions: (ObjectVersion & { isLatest: boolean })[];
  isTruncated: boolean;
}

export interface VersionListOptions {
  prefix?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys?: number;
}

/** Told of every change before it is applied (disk-persistence.ts); a throw cancels it. */
export interface VersionObserver {
  bucketCreated(bucket: string): void;
  statusSet(bucket: string, status: VersioningStatus): void;
  versionAdded(bucket: string, version: ObjectVersion): void;
  versionRemoved(bucket: string, key: string, versionId: string): void;
}

function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

export class VersionIndex {
  private readonly statuses = new Map<string, VersioningStatus>();
  private readonly keys = new Map<string, Map<string, ObjectVersion[]>>();
  observer: VersionObserver | undefined;

  /** Sets a status read back from disk (unobserved). */
  loadStatus(bucket: string, status: VersioningStatus): void {
    this.statuses.set(bucket, status);
  }

  status(bucket: string): VersioningStatus | undefined {
    return this.statuses.get(bucket);
  }

  setStatus(bucket: string, status: VersioningStatus): void {
    this.observer?.statusSet(bucket, status);
    this.statuses.set(bucket, status);
  }

  /** Versions of one key, oldest first (empty when none). */
  versionsOf(bucket: string, key: string): readonly ObjectVersion[] {
    return this.keys.get(bucket)?.get(key) ?? [];
  }

  latest(bucket: string, key: string): ObjectVersion | undefined {
    return this.versionsOf(bucket, key).at(-1);
  }

  find(bucket: string, key: string, versionId: string): ObjectVersion | undefined {
    return this.versionsOf(bucket, key).find((v) => v.versionId === versionId);
  }

  /**
   * Records a write (an object, or a delete marker when `object` is undefined) as the key's new
   * latest version: a new id when versioning is enabled, else `null`, replacing the `null` one.
   */
  add(bucket: string, key: string, object: StoredObject | undefined, at: Date): ObjectVersion {
    const versionId = this.status(bucket) === 'Enabled' ? newVersionId() : NULL_VERSION;
    const version: ObjectVersion = { key, versionId, lastModified: at, object };
    this.observer?.versionAdded(bucket, version);
    this.restore(bucket, version);
    return version;
  }

  /** Puts back a version as the key's latest, unobserved (how persisted versions are loaded). */
  restore(bucket: string, version: ObjectVersion): void {
    let byKey = this.keys.get(bucket);
    if (!byKey) {
      byKey = new Map();
      this.keys.set(bucket, byKey);
    }
    const list = (byKey.get(version.key) ?? []).filter((v) => v.versionId !== version.versionId);
    list.push(version);
    byKey.set(version.key, list);
  }

  /** Removes one version for good; returns it, or undefined if there was none. */
  remove(bucket: string, key: string, versionId: string): ObjectVersion | undefined {
    const byKey = this.keys.get(bucket);
    const list = byKey?.get(key);
    const at = list?.findIndex((v) => v.versionId === versionId) ?? -1;
    if (!byKey || !list || at < 0) return undefined;
    this.observer?.versionRemoved(bucket, key, versionId);
    const [removed] = list.splice(at, 1);
    if (list.length === 0) byKey.delete(key);
    return removed;
  }

  /** ListObjectVersions: keys in S3 order, each key's versions newest first, after the markers. */
  list(bucket: string, options: VersionListOptions = {}): VersionPage {
    const prefix = options.prefix ?? '';
    const maxKeys = options.maxKeys ?? 1000;
    const byKey = this.keys.get(bucket) ?? new Map<string, ObjectVersion[]>();
    const keys = [...byKey.keys()].filter((k) => k.startsWith(prefix)).sort(compareUtf8);
    const out: VersionPage['versions'] = [];
    for (const key of keys) {
      const newestFirst = [...(byKey.get(key) ?? [])].reverse();
      let from = 0;
      if (options.keyMarker !== undefined && options.keyMarker !== '') {
        const order = compareUtf8(key, options.keyMarker);
        if (order < 0 || (order === 0 && !options.versionIdMarker)) continue;
        if (order === 0)
          from = newestFirst.findIndex((v) => v.versionId === options.versionIdMarker) + 1;
      }
      for (let i = from; i < newestFirst.length; i++) {
        if (out.length === maxKeys) return { versions: out, isTruncated: true };
        out.push({ ...(newestFirst[i] as ObjectVersion), isLatest: i === 0 });
      }
    }
    return { versions: out, isTruncated: false };
  }
}
