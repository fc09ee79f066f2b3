/**
 * Gap: fauxqs ignores `If-None-Match` and `If-Match` on writes. S3 honours them on PutObject,
 * CompleteMultipartUpload and CopyObject: `If-None-Match: *` fails with 412 PreconditionFailed
 * when the key has a current object (a delete marker counts as none), `If-Match: <etag>` when the
 * current ETag differs, or with 404 NoSuchKey when there is no object. Checked right before the
 * write, in the same synchronous turn, so no other request can write between check and write.
 */
import type { StoredObject } from './fauxqs-internals.ts';
import { header, type S3Call } from './s3-call.ts';
import { S3ApiError } from './s3-errors.ts';

function preconditionFailed(condition: string): S3ApiError {
  return new S3ApiError(
    'PreconditionFailed',
    'At least one of the pre-conditions you specified did not hold',
    412,
    { details: { Condition: condition } }
  );
}

function unquoted(etag: string): string {
  return etag.trim().replace(/^W\//, '').replaceAll('"', '');
}

/** Throws what S3 answers when the write's conditions do not hold against `current`. */
export function assertWriteConditions(call: S3Call, current: StoredObject | undefined): void {
  const ifNoneMatch = header(call, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') {
      throw new S3ApiError('NotImplemented', 'If-None-Match on writes accepts only *', 501, {
        details: { Header: 'If-None-Match' },
      });
    }
    if (current) throw preconditionFailed('If-None-Match');
  }
  const ifMatch = header(call, 'if-match');
  if (ifMatch !== undefined) {
    if (!current) throw new S3ApiError('NoSuchKey', 'The specified key does not exist.', 404);
    const wanted = ifMatch.split(',').map(unquoted);
    if (!wanted.includes('*') && !wanted.includes(unquoted(current.etag))) {
      throw preconditionFailed('If-Match');
    }
  }
}
