/**
 * AuditLog in an S3 bucket (in AWS: a bucket with Object Lock, written by the remediator only).
 * One object per record, `<prefix><id>.json`, written with ONE `PutObject` + `IfNoneMatch: '*'`:
 * S3 refuses atomically to overwrite an existing key. The role needs `s3:PutObject` and nothing
 * else (a HEAD first would need GetObject and ListBucket: without ListBucket S3 answers a missing
 * key with 403, not 404).
 *
 * - 412 PreconditionFailed: a record with this id is already there. Ids carry 32 random bits, so
 *   that is this very write landing twice (an SDK retry after a lost response): "already written",
 *   the id is returned and the stored object is left as it is.
 * - 409 ConditionalRequestConflict (a concurrent write of the key in flight) and anything else:
 *   AuditLogError `write-failed`; the remediator then deletes nothing and the record is retried.
 *
 * A backend that ignores If-None-Match (fauxqs 1.9.2) would overwrite: tests of the 412 path run
 * against a stand-in that honours it (test/artifact/support/conditional-s3.ts).
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { assertAuditId, decodeAuditRecord, encodeAuditRecord } from '../app/audit-record.ts';
import { AuditLogError } from '../domain/errors.ts';
import type { RemediationRecord } from '../domain/remediation.ts';
import type { AuditLog } from '../ports.ts';
import type { ClientOrConfig } from './client-or-config.ts';

export type S3AuditLogOptions = {
  bucket: string;
  /** Key prefix. @default 'pushguard/audit/' */
  prefix?: string;
} & ClientOrConfig<S3Client, S3ClientConfig>;

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function status(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as SdkError | undefined)?.name;
  return status(err) === 404 && (name === 'NotFound' || name === 'NoSuchKey');
}

export class S3AuditLog implements AuditLog {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;

  constructor(options: S3AuditLogOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? 'pushguard/audit/';
    this.client = options.client ?? new S3Client(options.clientConfig ?? {});
  }

  keyOf(id: string): string {
    assertAuditId(id);
    return `${this.prefix}${id}.json`;
  }

  async write(record: RemediationRecord): Promise<string> {
    const key = this.keyOf(record.id);
    const where = `s3://${this.bucket}/${key}`;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: encodeAuditRecord(record),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        })
      );
    } catch (err) {
      if (status(err) === 412) return record.id;
      throw new AuditLogError('write-failed', `cannot write audit record ${where}`, { cause: err });
    }
    return record.id;
  }

  async read(id: string): Promise<RemediationRecord> {
    const key = this.keyOf(id);
    const where = `s3://${this.bucket}/${key}`;
    let text: string;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = (await res.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isNotFound(err)) throw new AuditLogError('not-found', `no audit record ${where}`);
      throw err;
    }
    return decodeAuditRecord(text, where);
  }
}
