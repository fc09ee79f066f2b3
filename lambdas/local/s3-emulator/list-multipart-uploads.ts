/**
 * Gap: fauxqs routes `GET /bucket?uploads` to ListObjects. The registry's s3aws writer resumes every
 * upload (each PATCH and PUT) through ListMultipartUploads + ListParts; without them it answers
 * `Path not found …/_uploads/<uuid>/data` and PATCH 500.
 */
import { compareUtf8 } from './list-order.ts';
import {
  LOCAL_OWNER,
  type S3Addition,
  type S3Answer,
  S3ApiError,
  type S3Call,
  type S3Context,
  xmlAnswer,
} from './s3-call.ts';
import { el, s3Document } from './xml.ts';

function matches(call: S3Call): boolean {
  return call.method === 'GET' && call.key === '' && 'uploads' in call.query;
}

async function handle(call: S3Call, { store }: S3Context): Promise<S3Answer> {
  if (!store.hasBucket(call.bucket)) {
    throw new S3ApiError(
      'NoSuchBucket',
      `The specified bucket does not exist: ${call.bucket}`,
      404
    );
  }
  const prefix = call.query['prefix'] ?? '';
  const keyMarker = call.query['key-marker'] ?? '';
  const idMarker = call.query['upload-id-marker'] ?? '';
  const maxUploads = Math.min(Number(call.query['max-uploads'] ?? 1000) || 1000, 1000);
  const uploads = [...(store.multipartUploadsByBucket.get(call.bucket) ?? [])]
    .flatMap((id) => store.multipartUploads.get(id) ?? [])
    .filter((u) => u.key.startsWith(prefix))
    .sort(
      (a, b) =>
        compareUtf8(a.key, b.key) ||
        a.initiated.getTime() - b.initiated.getTime() ||
        compareUtf8(a.uploadId, b.uploadId)
    );
  let start = 0;
  if (keyMarker) {
    const markerAt = idMarker
      ? uploads.findIndex((u) => u.key === keyMarker && u.uploadId === idMarker)
      : -1;
    start =
      markerAt >= 0 ? markerAt + 1 : uploads.findIndex((u) => compareUtf8(u.key, keyMarker) > 0);
    if (start < 0) start = uploads.length;
  }
  const page = uploads.slice(start, start + maxUploads);
  const truncated = start + maxUploads < uploads.length;
  const last = page.at(-1);
  return xmlAnswer(
    s3Document('ListMultipartUploadsResult', [
      el('Bucket', call.bucket),
      el('KeyMarker', keyMarker),
      el('UploadIdMarker', idMarker),
      el('NextKeyMarker', truncated && last ? last.key : ''),
      el('NextUploadIdMarker', truncated && last ? last.uploadId : ''),
      el('Prefix', prefix),
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
}

export const listMultipartUploads: S3Addition = { name: 'ListMultipartUploads', matches, handle };
