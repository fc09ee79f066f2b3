/**
 * Gap: fauxqs routes UploadPartCopy (PUT `?partNumber&uploadId` with `x-amz-copy-source`) to
 * UploadPart with no body (500). The registry moves blobs over 32 MiB with a multipart copy in
 * `x-amz-copy-source-range` slices; without it the PUT fails and an orphan upload is left behind.
 */
import { copySourceOf } from './copy-source.ts';
import { partNumberOf, uploadOf } from './multipart.ts';
import { skipBody } from './request-body.ts';
import { header, objectCall, type S3Addition, xmlAnswer } from './s3-call.ts';
import { S3ApiError } from './s3-errors.ts';
import { el, s3Document } from './xml.ts';

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

export const uploadPartCopy: S3Addition = {
  name: 'UploadPartCopy',
  matches: (call) =>
    objectCall(call, ['PUT'], { uploadId: true, partNumber: true, copySource: true }),
  async handle(call, ctx) {
    await skipBody(call.raw);
    const partNumber = partNumberOf(call);
    const upload = uploadOf(call, ctx);
    const { object: src, headers } = copySourceOf(call, ctx);
    const range = header(call, 'x-amz-copy-source-range');
    const { start, end } = range
      ? parseCopyRange(range, src.body.length)
      : { start: 0, end: src.body.length - 1 };
    const slice = src.body.subarray(start, end + 1);
    const etag = ctx.store.uploadPart(upload.uploadId, partNumber, slice);
    const result = [el('LastModified', new Date().toISOString()), el('ETag', etag)];
    return xmlAnswer(s3Document('CopyPartResult', result), headers);
  },
};
