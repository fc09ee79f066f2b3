/** S3 error answers (`<Error><Code>…`) the additions and the store raise, and the common ones. */
import { PushGuardError } from '../../domain/errors.ts';
import { el, escapeXml } from './xml.ts';

/** An S3 error answer, e.g. NoSuchUpload, InvalidPart, EntityTooLarge, PreconditionFailed. */
export class S3ApiError extends PushGuardError {
  readonly code: string;
  readonly statusCode: number;
  /** Extra elements of the error document, e.g. `Condition` on PreconditionFailed. */
  readonly details: Readonly<Record<string, string>>;
  /** Headers S3 sends with this error, e.g. `x-amz-delete-marker`. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    code: string,
    message: string,
    statusCode: number,
    extra: { details?: Record<string, string>; headers?: Record<string, string> } = {}
  ) {
    super(message);
    this.code = code;
    this.statusCode = statusCode;
    this.details = extra.details ?? {};
    this.headers = extra.headers ?? {};
  }
  toXml(requestId: string): string {
    const details = Object.entries(this.details).map(([name, value]) => el(name, value));
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<Error><Code>${escapeXml(this.code)}</Code><Message>${escapeXml(this.message)}</Message>`,
      ...details,
      `<RequestId>${requestId}</RequestId><HostId>pushguard-local</HostId></Error>`,
    ].join('');
  }
}

export function noSuchBucket(bucket: string): S3ApiError {
  return new S3ApiError('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 404);
}

/** NoSuchBucket unless `store` has the bucket. */
export function assertBucket(store: { hasBucket(name: string): boolean }, bucket: string): void {
  if (!store.hasBucket(bucket)) throw noSuchBucket(bucket);
}
