/** What the multipart additions share: the upload a request names, and its part number. */
import type { StoredUpload } from './fauxqs-internals.ts';
import type { S3Call, S3Context } from './s3-call.ts';
import { S3ApiError } from './s3-errors.ts';

/** The upload of `?uploadId=` for this bucket and key, or NoSuchUpload. */
export function uploadOf(call: S3Call, { store }: S3Context): StoredUpload {
  const upload = store.multipartUploads.get(call.query['uploadId'] ?? '');
  if (!upload || upload.bucket !== call.bucket || upload.key !== call.key) {
    throw new S3ApiError('NoSuchUpload', 'The specified multipart upload does not exist.', 404);
  }
  return upload;
}

/** A valid S3 part number (1..10000) or an InvalidArgument error. */
export function partNumberOf(call: S3Call): number {
  const n = Number(call.query['partNumber']);
  if (!Number.isInteger(n) || n < 1 || n > 10000) {
    throw new S3ApiError('InvalidArgument', 'Part number must be an integer 1..10000', 400);
  }
  return n;
}
