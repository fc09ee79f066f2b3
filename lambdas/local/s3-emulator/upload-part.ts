/**
 * Gap: fauxqs buffers bodies through Fastify's 11 MiB `bodyLimit`; the registry sends parts of up
 * to about 2× its chunksize (20 MiB by default), gets 413, ignores it (PATCH still 202) and fails
 * the PUT later. This reads UploadPart bodies from the request stream, up to S3's 5 GiB part limit.
 */
import {
  header,
  MAX_PART_BYTES,
  readPayload,
  type S3Addition,
  type S3Answer,
  S3ApiError,
  type S3Call,
  type S3Context,
} from './s3-call.ts';

function matches(call: S3Call): boolean {
  return (
    call.method === 'PUT' &&
    call.key !== '' &&
    call.query['uploadId'] !== undefined &&
    call.query['partNumber'] !== undefined &&
    header(call, 'x-amz-copy-source') === undefined
  );
}

/** A valid S3 part number (1..10000) or an InvalidArgument error. */
export function partNumberOf(call: S3Call): number {
  const n = Number(call.query['partNumber']);
  if (!Number.isInteger(n) || n < 1 || n > 10000) {
    throw new S3ApiError('InvalidArgument', 'Part number must be an integer 1..10000', 400);
  }
  return n;
}

/** Checks the upload exists for this bucket and key (NoSuchUpload otherwise). */
export function assertUpload(call: S3Call, { store }: S3Context): string {
  const uploadId = call.query['uploadId'] ?? '';
  const upload = store.multipartUploads.get(uploadId);
  if (!upload || upload.bucket !== call.bucket || upload.key !== call.key) {
    throw new S3ApiError('NoSuchUpload', 'The specified multipart upload does not exist.', 404);
  }
  return uploadId;
}

async function handle(call: S3Call, ctx: S3Context): Promise<S3Answer> {
  const partNumber = partNumberOf(call);
  const body = await readPayload(call, MAX_PART_BYTES);
  const uploadId = assertUpload(call, ctx);
  const etag = ctx.store.uploadPart(uploadId, partNumber, body);
  return { status: 200, headers: { etag } };
}

export const uploadPart: S3Addition = { name: 'UploadPart', matches, handle };
