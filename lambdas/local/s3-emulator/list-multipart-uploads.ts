/**
 * Gap: fauxqs routes `GET /bucket?uploads` to ListObjects. The registry's s3aws writer resumes every
 * upload (each PATCH and PUT) through ListMultipartUploads + ListParts; without them it answers
 * `Path not found …/_uploads/<uuid>/data` and PATCH 500.
 */
import type { StoredUpload } from './fauxqs-internals.ts';
import { compareUtf8 } from './list-order.ts';
import {
  bucketCall,
  LOCAL_OWNER,
  pageSize,
  type S3Addition,
  type S3Call,
  type S3Context,
  xmlAnswer,
} from './s3-call.ts';
import { assertBucket } from './s3-errors.ts';
import { el, s3Document } from './xml.ts';

/** The bucket's uploads under `prefix`, in S3 order (key, then initiation), after the markers. */
function uploadsAfter(call: S3Call, { store }: S3Context): StoredUpload[] {
  const prefix = call.query['prefix'] ?? '';
  const keyMarker = call.query['key-marker'] ?? '';
  const idMarker = call.query['upload-id-marker'] ?? '';
  const uploads = [...(store.multipartUploadsByBucket.get(call.bucket) ?? [])]
    .flatMap((id) => store.multipartUploads.get(id) ?? [])
    .filter((u) => u.key.startsWith(prefix))
    .sort(
      (a, b) =>
        compareUtf8(a.key, b.key) ||
        a.initiated.getTime() - b.initiated.getTime() ||
        compareUtf8(a.uploadId, b.uploadId)
    );
  if (!keyMarker) return uploads;
  const markerAt = idMarker
    ? uploads.findIndex((u) => u.key === keyMarker && u.uploadId === idMarker)
    : -1;
  const start =
    markerAt >= 0 ? markerAt + 1 : uploads.findIndex((u) => compareUtf8(u.key, keyMarker) > 0);
  return start < 0 ? [] : uploads.slice(start);
}

export const listMultipartUploads: S3Addition = {
  name: 'ListMultipartUploads',
  matches: (call) => bucketCall(call, ['GET'], 'uploads'),
  async handle(call, ctx) {
    assertBucket(ctx.store, call.bucket);
    const maxUploads = pageSize(call, 'max-uploads');
    const uploads = uploadsAfter(call, ctx);
    const page = uploads.slice(0, maxUploads);
    const truncated = uploads.length > maxUploads;
    const last = page.at(-1);
    return xmlAnswer(
      s3Document('ListMultipartUploadsResult', [
        el('Bucket', call.bucket),
        el('KeyMarker', call.query['key-marker'] ?? ''),
        el('UploadIdMarker', call.query['upload-id-marker'] ?? ''),
        el('NextKeyMarker', truncated && last ? last.key : ''),
        el('NextUploadIdMarker', truncated && last ? last.uploadId : ''),
        el('Prefix', call.query['prefix'] ?? ''),
        el('MaxUploads', maxUploads),
        el('IsTruncated', truncated),
        ...page.map(
          (u) =>
            `<Upload>${el('Key', u.key)}${el('UploadId', u.uploadId)}` +
            `<Initiator>${LOCAL_OWNER}</Initiator><Owner>${LOCAL_OWNER}</Owner>` +
            `${el('StorageClass', 'STANDARD')}${el('Initiated', u.initiated.toISOString())}</Upload>`
        ),
      ])
    );
  },
};
