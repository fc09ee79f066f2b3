/**
 * The parts of fauxqs 1.9.2 the emulator layer works with directly: its in-memory S3, SQS and SNS
 * stores. fauxqs exports only `buildApp`, so the store classes are loaded from the files next to its
 * entry point (resolved, not a hard-coded node_modules path). Typed here with exactly what we use.
 */
import { buildApp } from 'fauxqs';

export interface StoredObject {
  key: string;
  body: Buffer;
  contentType: string;
  contentLength: number;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

export interface StoredPart {
  partNumber: number;
  body: Buffer;
  etag: string;
  lastModified: Date;
}

export interface StoredUpload {
  uploadId: string;
  bucket: string;
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  parts: Map<number, StoredPart>;
  initiated: Date;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  startAfter?: string;
  marker?: string;
}

export interface ListResult {
  objects: StoredObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

/** fauxqs's S3Store, with the fields its JavaScript keeps public. */
export interface FauxS3Store {
  buckets: Map<string, Map<string, StoredObject>>;
  multipartUploads: Map<string, StoredUpload>;
  multipartUploadsByBucket: Map<string, Set<string>>;
  createBucket(name: string): void;
  hasBucket(name: string): boolean;
  putObject(
    bucket: string,
    key: string,
    body: Buffer,
    contentType?: string,
    metadata?: Record<string, string>
  ): StoredObject;
  getObject(bucket: string, key: string): StoredObject;
  deleteObject(bucket: string, key: string): void;
  deleteObjects(bucket: string, keys: string[]): string[];
  listObjects(bucket: string, options?: ListOptions): ListResult;
  createMultipartUpload(
    bucket: string,
    key: string,
    contentType?: string,
    metadata?: Record<string, string>
  ): string;
  uploadPart(uploadId: string, partNumber: number, body: Buffer): string;
  completeMultipartUpload(
    uploadId: string,
    parts: { partNumber: number; etag: string }[]
  ): StoredObject;
  abortMultipartUpload(uploadId: string): void;
}

export type FauxS3StoreClass = new () => FauxS3Store;

export interface FauxSqsMessage {
  messageId: string;
  body: string;
}

export interface FauxSqsQueue {
  name: string;
  url: string;
  arn: string;
  enqueue(msg: FauxSqsMessage): void;
}

export interface FauxSqsStore {
  host: string;
  getQueueByArn(arn: string): FauxSqsQueue | undefined;
  getQueueByName(name: string): FauxSqsQueue | undefined;
}

export interface FauxSqsStoreClass {
  new (): FauxSqsStore;
  createMessage(body: string, attributes?: Record<string, unknown>): FauxSqsMessage;
}

export type FauxSnsStore = object;

/** fauxqs's S3 error: `code`, `statusCode` and an XML body. */
export interface FauxS3Error extends Error {
  code: string;
  statusCode: number;
  toXml(): string;
}

export interface FauxqsInternals {
  S3Store: FauxS3StoreClass;
  SqsStore: FauxSqsStoreClass;
  SnsStore: new () => FauxSnsStore;
  S3Error: new (
    code: string,
    message: string,
    statusCode?: number,
    resource?: string
  ) => FauxS3Error;
}

export type FauxqsApp = ReturnType<typeof buildApp>;

let loaded: Promise<FauxqsInternals> | undefined;

async function load(): Promise<FauxqsInternals> {
  const entry = import.meta.resolve('fauxqs');
  const at = (p: string) => import(new URL(p, entry).href);
  const [s3, sqs, sns, errors] = await Promise.all([
    at('./s3/s3Store.js'),
    at('./sqs/sqsStore.js'),
    at('./sns/snsStore.js'),
    at('./common/errors.js'),
  ]);
  return {
    S3Store: s3.S3Store,
    SqsStore: sqs.SqsStore,
    SnsStore: sns.SnsStore,
    S3Error: errors.S3Error,
  };
}

/** Loads (once) the store classes of the installed fauxqs. */
export function fauxqsInternals(): Promise<FauxqsInternals> {
  loaded ??= load();
  return loaded;
}

/** True for an error thrown by a fauxqs store (NoSuchKey, NoSuchUpload, InvalidPart...). */
export function isFauxS3Error(err: unknown): err is FauxS3Error {
  return (
    err instanceof Error &&
    err.name === 'S3Error' &&
    typeof (err as FauxS3Error).statusCode === 'number' &&
    typeof (err as FauxS3Error).toXml === 'function'
  );
}

export { buildApp };
