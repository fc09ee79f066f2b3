/**
 * fauxqs's S3Store with three changes: listings in S3 byte order (list-order.ts), versions
 * (object-versions.ts: the current object of a key is its latest version unless that is a delete
 * marker), and a change feed for S3 event notifications. Every write that creates an object (Put,
 * Copy, multipart complete), every delete of a key that existed, every delete marker and every
 * version deleted for good is reported right after it is applied, in the order they happened.
 */

import type { PersistedBucket } from './disk-persistence.ts';
import {
  fauxqsInternals,
  type ListOptions,
  type ListResult,
  type StoredObject,
} from './fauxqs-internals.ts';
import { listInByteOrder } from './list-order.ts';
import { NULL_VERSION, type ObjectVersion, VersionIndex } from './object-versions.ts';
import { noSuchBucket, S3ApiError } from './s3-errors.ts';

export type CreatedEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload';

export type RemovedEventName = 'ObjectRemoved:Delete' | 'ObjectRemoved:DeleteMarkerCreated';

interface ChangeBase {
  bucket: string;
  key: string;
  time: Date;
  /** Only in buckets with versioning configured (S3 sends none otherwise). */
  versionId?: string;
}

export type ObjectChange =
  | (ChangeBase & {
      op: 'created';
      eventName: CreatedEventName;
      size: number;
      /** As stored: quoted hex MD5, or `"<md5>-<parts>"` for multipart objects. */
      etag: string;
    })
  | (ChangeBase & { op: 'removed'; eventName: RemovedEventName });

/** A stored object with the version id S3 reports for it (none in unversioned buckets). */
export type EmulatedObject = StoredObject & { versionId?: string };

export interface PutRequest {
  bucket: string;
  key: string;
  body: Buffer;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface EmulatorStore {
  /** Called synchronously after each applied change. */
  onChange: ((change: ObjectChange) => void) | undefined;
  readonly versions: VersionIndex;
  /** The key's current object, or undefined (no object, or a delete marker). */
  current(bucket: string, key: string): EmulatedObject | undefined;
  /** PutObject that reports the given event name (CopyObject reports `ObjectCreated:Copy`). */
  putObjectAs(eventName: CreatedEventName, put: PutRequest): EmulatedObject;
  /** DeleteObject without a version id; returns the delete marker it created, if any. */
  deleteCurrent(bucket: string, key: string): ObjectVersion | undefined;
  /** DeleteObject with a version id: removes that version (object or marker) for good. */
  deleteVersion(bucket: string, key: string, versionId: string): ObjectVersion | undefined;
  /** Puts back a bucket read from disk (disk-persistence.ts). */
  load(bucket: string, saved: PersistedBucket): void;
  /** One version by id: NoSuchVersion (404) when there is none. */
  version(bucket: string, key: string, versionId: string): ObjectVersion;
}

// S3 events carry a versionId only for real versions (dedupe keys use it), never `null`.
function eventVersion(versionId: string | undefined): { versionId?: string } {
  return versionId && versionId !== NULL_VERSION ? { versionId } : {};
}

// fauxqs exports only buildApp: its store class is loaded at run time (fauxqs-internals.ts).
const { S3Store } = await fauxqsInternals();

/** The emulator's S3 store: fauxqs's S3Store with S3 list order, versions and a change feed. */
export class EmulatorS3Store extends S3Store implements EmulatorStore {
  onChange: ((change: ObjectChange) => void) | undefined;
  readonly versions = new VersionIndex();

  current(bucket: string, key: string): EmulatedObject | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  override putObject(
    bucket: string,
    key: string,
    body: Buffer,
    contentType?: string,
    metadata?: Record<string, string>
  ): StoredObject {
    return this.putObjectAs('ObjectCreated:Put', { bucket, key, body, contentType, metadata });
  }

  putObjectAs(eventName: CreatedEventName, put: PutRequest): EmulatedObject {
    const { bucket, key, body, contentType, metadata } = put;
    const obj = super.putObject(bucket, key, body, contentType, metadata);
    return this.created(eventName, bucket, obj);
  }

  override completeMultipartUpload(
    uploadId: string,
    parts: { partNumber: number; etag: string }[]
  ): EmulatedObject {
    const bucket = this.multipartUploads.get(uploadId)?.bucket ?? '';
    const obj = super.completeMultipartUpload(uploadId, parts);
    return this.created('ObjectCreated:CompleteMultipartUpload', bucket, obj);
  }

  override deleteObject(bucket: string, key: string): void {
    this.deleteCurrent(bucket, key);
  }

  deleteCurrent(bucket: string, key: string): ObjectVersion | undefined {
    const existed = this.current(bucket, key) !== undefined;
    // The base class raises NoSuchBucket.
    super.deleteObject(bucket, key);
    if (this.versions.status(bucket) === undefined) {
      const removed = this.versions.latest(bucket, key);
      if (removed)
        this.guarded(bucket, key, () => this.versions.remove(bucket, key, removed.versionId));
      if (existed) this.removed('ObjectRemoved:Delete', bucket, key, undefined);
      return undefined;
    }
    const marker = this.guarded(bucket, key, () =>
      this.versions.add(bucket, key, undefined, new Date())
    );
    this.removed('ObjectRemoved:DeleteMarkerCreated', bucket, key, marker.versionId);
    return marker;
  }

  deleteVersion(bucket: string, key: string, versionId: string): ObjectVersion | undefined {
    if (!this.hasBucket(bucket)) throw noSuchBucket(bucket);
    const removed = this.versions.remove(bucket, key, versionId);
    if (!removed) return undefined;
    this.syncCurrent(bucket, key);
    this.removed('ObjectRemoved:Delete', bucket, key, versionId);
    return removed;
  }

  override createBucket(name: string): void {
    if (!this.hasBucket(name)) this.versions.observer?.bucketCreated(name);
    super.createBucket(name);
  }

  /** Puts back a bucket read from disk: its status, its versions and so its current objects. */
  load(bucket: string, saved: PersistedBucket): void {
    super.createBucket(bucket);
    if (saved.status) this.versions.loadStatus(bucket, saved.status);
    for (const version of saved.versions) {
      if (version.object && saved.status)
        (version.object as EmulatedObject).versionId = version.versionId;
      this.versions.restore(bucket, version);
      this.syncCurrent(bucket, version.key);
    }
  }

  version(bucket: string, key: string, versionId: string): ObjectVersion {
    const found = this.versions.find(bucket, key, versionId);
    if (!found) {
      throw new S3ApiError('NoSuchVersion', 'The specified version does not exist.', 404, {
        details: { Key: key, VersionId: versionId },
      });
    }
    return found;
  }

  override listObjects(bucket: string, options?: ListOptions): ListResult {
    const objects = this.buckets.get(bucket);
    // The base class raises NoSuchBucket.
    if (!objects) return super.listObjects(bucket, options);
    return listInByteOrder(objects, options);
  }

  /** The key's current object as its latest version says (none for a delete marker). */
  private syncCurrent(bucket: string, key: string): void {
    const latest = this.versions.latest(bucket, key)?.object;
    if (latest) this.buckets.get(bucket)?.set(key, latest);
    else this.buckets.get(bucket)?.delete(key);
  }

  /** Runs a version change; if it fails (the disk), the current object is what it was. */
  private guarded<T>(bucket: string, key: string, change: () => T): T {
    try {
      return change();
    } catch (err) {
      this.syncCurrent(bucket, key);
      throw err;
    }
  }

  private created(eventName: CreatedEventName, bucket: string, obj: EmulatedObject) {
    const add = () => this.versions.add(bucket, obj.key, obj, obj.lastModified);
    const version = this.guarded(bucket, obj.key, add);
    if (this.versions.status(bucket) !== undefined) obj.versionId = version.versionId;
    this.onChange?.({
      op: 'created',
      eventName,
      bucket,
      key: obj.key,
      size: obj.contentLength,
      etag: obj.etag,
      time: obj.lastModified,
      ...eventVersion(obj.versionId),
    });
    return obj;
  }

  private removed(name: RemovedEventName, bucket: string, key: string, versionId?: string) {
    const time = new Date();
    this.onChange?.({
      op: 'removed',
      eventName: name,
      bucket,
      key,
      time,
      ...eventVersion(versionId),
    });
  }
}
