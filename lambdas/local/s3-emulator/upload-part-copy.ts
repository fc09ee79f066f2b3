/**
 * Gap: fauxqs routes UploadPartCopy (PUT `?partNumber&uploadId` with `x-amz-copy-source`) to
 * UploadPart with no body (500). The registry moves blobs over 32 MiB with a multipart copy in
 * `x-amz-copy-source-range` slices; without it the PUT fails and an orphan upload is left behind.
 */
import { copySourceOf } from './copy-source.ts';
import {
  header,
  readBody,
  type S3Addition,
  type S3Answer,
  S3ApiError,
  type S3Call,
  type S3Context,
  xmlAnswer,
} from './s3-call.ts';
import { assertUpload, partNumberOf } from './upload-part.ts';
import { el, s3Document } from './xml.ts';

function matches(call: S3Call): boolean {
  return (
    call.method === 'PUT' &&
    call.key !== '' &&
    call.query['uploadId'] !== undefined &&
    call.query['partNumber'] !== undefined &&
    header(call, 'x-amz-copy-source') !== undefined
  );
}

/** `bytes=first-last` (inclusive) within an object of `size` bytes. */
export function parseCopyRange(range: string, size: number): { start: number; end: number } {
  const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
  const start = Number(m?.[1]);
  const end = Number(m?.[2]);
  if (!m || start > end || end >= size) {
    throw new S3ApiError(
      'InvalidArgument',
      `Range specified is not valid for source object of size: ${size}`,
      400
    );
  }
  return { start, end };
}

async function handle(call: S3Call, ctx: S3Context): Promise<S3Answer> {
  await readBody(call.raw, 1024 * 1024);
  const partNumber = partNumberOf(call);
  const uploadId = assertUpload(call, ctx);
  const { object: src, headers } = copySourceOf(call, ctx.store);
  const range = header(call, 'x-amz-copy-source-range');
  const { start, end } = range
    ? parseCopyRange(range, src.body.length)
    : { start: 0, end: src.body.length - 1 };
  const slice = src.body.subarray(start, end + 1);
  const etag = ctx.store.uploadPart(uploadId, partNumber, slice);
  const answer = xmlAnswer(
    s3Document('CopyPartResult', [el('LastModified', new Date().toISOString()), el('ETag', etag)])
  );
  return { ...answer, headers: { ...answer.headers, ...headers } };
}

export const uploadPartCopy: S3Addition = { name: 'UploadPartCopy', matches, handle };
