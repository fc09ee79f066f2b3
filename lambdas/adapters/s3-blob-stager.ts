/**
 * Stages bytes for a restore into the registry bucket with a running sha256, and writes them only
 * on commit, with `If-None-Match: *` (an object that reappeared meanwhile is never overwritten).
 *  - Up to `partBytes`: kept in memory, verified, then one PutObject on commit.
 *  - Larger: a multipart upload on the final key, part by part as the bytes stream in (memory
 *    stays at one part); a digest mismatch aborts it. Nothing is visible before
 *    CompleteMultipartUpload, which commit sends with If-None-Match: *.
 * The only adapter that writes registry objects; it can only create `.../blobs/sha256/.../data`.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SafetyRefusalError } from '../domain/errors.ts';
import type { StagedRestore } from '../ports.ts';

/** S3's minimum part size is 5 MiB (all but the last part). */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

const BLOB_DATA = /(^|\/)docker\/registry\/v2\/blobs\/sha256\/([a-f0-9]{2})\/([a-f0-9]{64})\/data$/;

export interface StageInput {
  key: string;
  digest: string;
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  source: string;
  origin: string;
}

export type StageResult = { staged: StagedRestore } | { failed: string };

/** Time spent hashing, summed over stagings (for the restore benchmark and metrics). */
export interface HashStats {
  bytes: number;
  ms: number;
}

export class S3BlobStager {
  /** Bytes hashed and the time hash.update took, across every staging of this stager. */
  readonly hashed: HashStats = { bytes: 0, ms: 0 };

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly partBytes = DEFAULT_PART_BYTES
  ) {
    if (partBytes < 5 * 1024 * 1024) throw new RangeError('partBytes must be at least 5 MiB');
  }

  async stage(input: StageInput): Promise<StageResult> {
    assertBlobKey(input.key, input.digest);
    const hash = createHash('sha256');
    const parts: Uint8Array[] = [];
    let buffered = 0;
    let size = 0;
    let upload: MultipartStaging | undefined;
    let inFlight: Promise<void> | undefined;
    try {
      for await (const chunk of input.body) {
        const t = performance.now();
        hash.update(chunk);
        this.hashed.ms += performance.now() - t;
        this.hashed.bytes += chunk.byteLength;
        size += chunk.byteLength;
        parts.push(chunk);
        buffered += chunk.byteLength;
        if (buffered >= this.partBytes) {
          upload ??= await MultipartStaging.start(this.client, this.bucket, input.key);
          // One part uploads while the next is read and hashed.
          await inFlight;
          inFlight = upload.send(Buffer.concat(parts, buffered));
          parts.length = 0;
          buffered = 0;
        }
      }
      await inFlight;
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== input.digest) {
        // Without s3:AbortMultipartUpload the incomplete upload (never an object) is left to the
        // bucket's AbortIncompleteMultipartUpload rule.
        const aborted = upload
          ? await upload.abort().then(
              () => true,
              () => false
            )
          : true;
        const left = aborted
          ? ''
          : ' (its incomplete multipart upload is left to the lifecycle rule)';
        return {
          failed: `${input.origin} served ${size} bytes hashing to ${actual}, not ${input.digest}; nothing written${left}`,
        };
      }
      const rest = Buffer.concat(parts, buffered);
      const base = { source: input.source, origin: input.origin, verifiedDigest: actual, size };
      if (!upload) return { staged: { ...base, ...this.single(input.key, rest) } };
      if (rest.byteLength > 0) await upload.send(rest);
      const u = upload;
      return { staged: { ...base, commit: () => u.complete(), discard: () => u.abort() } };
    } catch (err) {
      await inFlight?.catch(() => undefined);
      await upload?.abort().catch(() => undefined);
      throw err;
    }
  }

  private single(key: string, bytes: Buffer): Pick<StagedRestore, 'commit' | 'discard'> {
    return {
      commit: () =>
        ifAbsent(() =>
          this.client.send(
            new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, IfNoneMatch: '*' })
          )
        ),
      discard: async () => undefined,
    };
  }
}

/** One multipart upload on the final key, parts sent as they fill. */
class MultipartStaging {
  private readonly etags: { PartNumber: number; ETag: string }[] = [];
  private parts = 0;
  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly uploadId: string
  ) {}

  static async start(client: S3Client, bucket: string, key: string): Promise<MultipartStaging> {
    const out = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    if (!out.UploadId) throw new Error(`CreateMultipartUpload of ${key} returned no UploadId`);
    return new MultipartStaging(client, bucket, key, out.UploadId);
  }

  async send(bytes: Buffer): Promise<void> {
    const PartNumber = ++this.parts;
    const out = await this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        PartNumber,
        Body: bytes,
      })
    );
    this.etags[PartNumber - 1] = { PartNumber, ETag: out.ETag ?? '' };
  }

  async complete(): Promise<'written' | 'exists'> {
    const result = await ifAbsent(() =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.etags },
          IfNoneMatch: '*',
        })
      )
    );
    if (result === 'exists') await this.abort().catch(() => undefined);
    return result;
  }

  async abort(): Promise<void> {
    await this.client.send(
      new AbortMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
      })
    );
  }
}

/** A write with If-None-Match: * — 412 means the object exists (it reappeared): nothing written. */
export async function ifAbsent(write: () => Promise<unknown>): Promise<'written' | 'exists'> {
  try {
    await write();
    return 'written';
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 412 || e.name === 'PreconditionFailed') return 'exists';
    throw err;
  }
}

/** Only a blob's data key, and only the one its digest names. */
export function assertBlobKey(key: string, digest: string): void {
  const m = BLOB_DATA.exec(key);
  if (!m || `sha256:${m[3]}` !== digest || m[3]!.slice(0, 2) !== m[2]) {
    throw new SafetyRefusalError(`refusing to write ${key}: not the blob data key of ${digest}`);
  }
}
