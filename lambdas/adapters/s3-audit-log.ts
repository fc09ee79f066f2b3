/**
 * AuditLog in an S3 bucket (in AWS: a bucket with Object Lock, written by the remediator only).
 * One object per record, `<prefix><id>.json`, written with `PutObject` + `IfNoneMatch: '*'`: S3
 * refuses (412 PreconditionFailed, or 409 ConditionalRequestConflict while a concurrent write is
 * in flight) to overwrite an existing key, atomically.
 *
 * fauxqs 1.9.2 ignores `If-None-Match` on PutObject, so a HeadObject runs first and refuses an
 * existing record. That check alone is racy (two writers of the same id could both see 404 and the
 * second Put would win on fauxqs); on real S3 the conditional Put closes the race, and ids carry
 * 32 random bits, so two writers of one id do not happen in practice.
 *
 * Any failure throws AuditLogError: the remediator then deletes nothing.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { assertAuditId, decodeAuditRecord, encodeAuditRecord } from '../app/audit-record.ts';
import { AuditLogError } from '../domain/errors.ts';
import type { RemediationRecord } from '../domain/remediation.ts';
import type { AuditLog } from '../ports.ts';

export type S3AuditLogOptions = {
  bucket: string;
  /** Key prefix. @default 'pushguard/audit/' */
  prefix?: string;
} & (
  | { client: S3Client; clientConfig?: never }
  | { client?: never; clientConfig?: S3ClientConfig }
);

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
    const body = encodeAuditRecord(record);
    const where = `s3://${this.bucket}/${key}`;
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      throw new AuditLogError('exists', `audit record ${where} already exists; not overwritten`);
    } catch (err) {
      if (err instanceof AuditLogError) throw err;
      if (!isNotFound(err)) {
        throw new AuditLogError('write-failed', `cannot check audit record ${where}`, {
          cause: err,
        });
      }
    }
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        })
      );
    } catch (err) {
      const code = status(err);
      if (code === 412 || code === 409) {
        throw new AuditLogError('exists', `audit record ${where} already exists; not overwritten`, {
          cause: err,
        });
      }
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
