/**
 * StorageChecker on S3 (the registry bucket). The only file that imports @aws-sdk/client-s3 for
 * reads of the registry's objects.
 *
 * Doubt is never absence:
 * - only an HTTP 404 `NotFound`/`NoSuchKey` on an object is `missing`, and only once the bucket
 *   itself answered HeadBucket (a HEAD on a missing or misnamed bucket is also a bodiless 404; read
 *   as "missing" it would condemn every key);
 * - timeouts (AbortSignal), throttling, 403, 5xx and network errors are `unknown`;
 * - a manifest that cannot be parsed is `present` with an `error` and no references.
 * Without `s3:ListBucket` S3 answers 403 for absent objects: everything is then `unknown`.
 */
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { MAX_MANIFEST_BYTES, parseManifest } from '../domain/manifest.ts';
import type { Digest } from '../domain/types.ts';
import type { Presence, StorageChecker } from '../ports.ts';
import type { ClientOrConfig } from './client-or-config.ts';

export type S3StorageCheckerOptions = {
  bucket: string;
  /** Deadline of one check, body read included. @default 3000 */
  timeoutMs?: number;
  /** How long a successful HeadBucket is trusted. @default 60000 */
  bucketCheckTtlMs?: number;
} & ClientOrConfig<S3Client, S3ClientConfig>;

export interface HeadResult {
  presence: Presence;
  /** Why the answer is `unknown` (error name and HTTP status), for reports. */
  reason?: string;
}

export interface ManifestReadResult {
  presence: Presence;
  references?: Digest[];
  mediaType?: string;
  kind?: 'image' | 'index';
  /** Set when the object exists but is not a manifest PushGuard can read. */
  error?: string;
  reason?: string;
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function describeError(err: unknown): { notFound: boolean; reason: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const notFound = status === 404 && (name === 'NotFound' || name === 'NoSuchKey');
  return { notFound, reason: status ? `${name} (HTTP ${status})` : name };
}

export class S3StorageChecker implements StorageChecker {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly timeoutMs: number;
  private readonly bucketCheckTtlMs: number;
  private bucketVerifiedAt = Number.NEGATIVE_INFINITY;
  private bucketCheck: Promise<boolean> | undefined;

  constructor(options: S3StorageCheckerOptions) {
    this.bucket = options.bucket;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.bucketCheckTtlMs = options.bucketCheckTtlMs ?? 60_000;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new S3Client(options.clientConfig ?? {});
  }

  async head(key: string): Promise<Presence> {
    return (await this.headDetailed(key)).presence;
  }

  /** HeadObject with the reason of an `unknown` answer. */
  async headDetailed(key: string): Promise<HeadResult> {
    const deadline = this.deadline();
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: deadline.signal,
      });
      return { presence: 'present' };
    } catch (err) {
      return this.classify(err);
    } finally {
      deadline.clear();
    }
  }

  async readManifest(key: string): Promise<ManifestReadResult> {
    const deadline = this.deadline();
    const signal = deadline.signal;
    let bytes: Uint8Array;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      });
      if ((out.ContentLength ?? 0) > MAX_MANIFEST_BYTES) {
        out.Body?.transformToWebStream().cancel();
        return { presence: 'present', error: `manifest over ${MAX_MANIFEST_BYTES} bytes` };
      }
      if (!out.Body) return { presence: 'present', error: 'empty body' };
      bytes = await withDeadline(out.Body.transformToByteArray(), signal);
    } catch (err) {
      return this.classify(err);
    } finally {
      deadline.clear();
    }
    try {
      const parsed = parseManifest(bytes);
      return {
        presence: 'present',
        references: parsed.references,
        mediaType: parsed.mediaType,
        kind: parsed.kind,
      };
    } catch (err) {
      return { presence: 'present', error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * A deadline cleared as soon as the call settles (AbortSignal.timeout would keep a timer and
   * its signal alive for the whole timeout after each of thousands of checks per second).
   */
  private deadline(): { signal: AbortSignal; clear: () => void } {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('storage check timed out', 'TimeoutError')),
      this.timeoutMs
    );
    return { signal: controller.signal, clear: () => clearTimeout(timer) };
  }

  /** Releases the client when this checker built it. */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private async classify(err: unknown): Promise<HeadResult> {
    const { notFound, reason } = describeError(err);
    if (!notFound) return { presence: 'unknown', reason };
    if (await this.bucketExists()) return { presence: 'missing' };
    return { presence: 'unknown', reason: `bucket ${this.bucket} did not answer HeadBucket` };
  }

  /** HeadBucket, shared by concurrent callers; a success is trusted for bucketCheckTtlMs. */
  private bucketExists(): Promise<boolean> {
    if (Date.now() - this.bucketVerifiedAt < this.bucketCheckTtlMs) return Promise.resolve(true);
    if (this.bucketCheck) return this.bucketCheck;
    const deadline = this.deadline();
    this.bucketCheck = this.client
      .send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: deadline.signal })
      .then(
        () => {
          this.bucketVerifiedAt = Date.now();
          return true;
        },
        () => false
      )
      .finally(() => {
        deadline.clear();
        this.bucketCheck = undefined;
      });
    return this.bucketCheck;
  }
}

function withDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
