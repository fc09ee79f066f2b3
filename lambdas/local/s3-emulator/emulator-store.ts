/**
 * fauxqs's S3Store with two changes: listings in S3 byte order (list-order.ts), and a change feed
 * for S3 event notifications. Every write that creates an object (Put, Copy, multipart complete)
 * and every delete of a key that existed (DeleteObject and each key of DeleteObjects) is reported
 * right after it is applied, from the object as stored, in the order the writes happened.
 */
import type {
  FauxS3Store,
  FauxS3StoreClass,
  ListOptions,
  ListResult,
  StoredObject,
} from './fauxqs-internals.ts';
import { listInByteOrder } from './list-order.ts';

export type CreatedEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload';

export type ObjectChange =
  | {
      op: 'created';
      eventName: CreatedEventName;
      bucket: string;
      key: string;
      size: number;
      /** As stored: quoted hex MD5, or `"<md5>-<parts>"` for multipart objects. */
      etag: string;
      time: Date;
    }
  | { op: 'removed'; eventName: 'ObjectRemoved:Delete'; bucket: string; key: string; time: Date };

export interface EmulatorStore {
  /** Called synchronously after each applied change. */
  onChange: ((change: ObjectChange) => void) | undefined;
  /** The key's current object, or undefined (no object, or a delete marker). */
  current(bucket: string, key: string): StoredObject | undefined;
  /** PutObject that reports the given event name (CopyObject reports `ObjectCreated:Copy`). */
  putObjectAs(
    eventName: CreatedEventName,
    bucket: string,
    key: string,
    body: Buffer,
    contentType?: string,
    metadata?: Record<string, string>
  ): StoredObject;
}

/** Builds the emulator's store class on top of fauxqs's S3Store. */
export function emulatorStoreClass(Base: FauxS3StoreClass): new () => FauxS3Store & EmulatorStore {
  return class extends Base implements EmulatorStore {
    onChange: ((change: ObjectChange) => void) | undefined;

    current(bucket: string, key: string): StoredObject | undefined {
      return this.buckets.get(bucket)?.get(key);
    }

    override putObject(
      bucket: string,
      key: string,
      body: Buffer,
      contentType?: string,
      metadata?: Record<string, string>
    ): StoredObject {
      return this.putObjectAs('ObjectCreated:Put', bucket, key, body, contentType, metadata);
    }

    putObjectAs(
      eventName: CreatedEventName,
      bucket: string,
      key: string,
      body: Buffer,
      contentType?: string,
      metadata?: Record<string, string>
    ): StoredObject {
      const obj = super.putObject(bucket, key, body, contentType, metadata);
      this.created(eventName, bucket, obj);
      return obj;
    }

    override completeMultipartUpload(
      uploadId: string,
      parts: { partNumber: number; etag: string }[]
    ): StoredObject {
      const bucket = this.multipartUploads.get(uploadId)?.bucket ?? '';
      const obj = super.completeMultipartUpload(uploadId, parts);
      this.created('ObjectCreated:CompleteMultipartUpload', bucket, obj);
      return obj;
    }

    override deleteObject(bucket: string, key: string): void {
      const existed = this.buckets.get(bucket)?.has(key) ?? false;
      super.deleteObject(bucket, key);
      if (existed) {
        this.onChange?.({
          op: 'removed',
          eventName: 'ObjectRemoved:Delete',
          bucket,
          key,
          time: new Date(),
        });
      }
    }

    override listObjects(bucket: string, options?: ListOptions): ListResult {
      const objects = this.buckets.get(bucket);
      // The base class raises NoSuchBucket.
      if (!objects) return super.listObjects(bucket, options);
      return listInByteOrder(objects, options);
    }

    private created(eventName: CreatedEventName, bucket: string, obj: StoredObject): void {
      this.onChange?.({
        op: 'created',
        eventName,
        bucket,
        key: obj.key,
        size: obj.contentLength,
        etag: obj.etag,
        time: obj.lastModified,
      });
    }
  };
}
