/**
 * Gap: fauxqs routes `GET /bucket/key?uploadId=` to GetObject (404 NoSuchKey). The registry's
 * s3aws writer reads the parts of the upload it resumes through ListParts (size and ETag of each).
 */
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
  return call.method === 'GET' && call.key !== '' && call.query['uploadId'] !== undefined;
}

async function handle(call: S3Call, { store }: S3Context): Promise<S3Answer> {
  const uploadId = call.query['uploadId'] ?? '';
  const upload = store.multipartUploads.get(uploadId);
  if (!upload || upload.bucket !== call.bucket || upload.key !== call.key) {
    throw new S3ApiError('NoSuchUpload', 'The specified multipart upload does not exist.', 404);
  }
  const marker = Number(call.query['part-number-marker'] ?? 0) || 0;
  const maxParts = Math.min(Number(call.query['max-parts'] ?? 1000) || 1000, 1000);
  const parts = [...upload.parts.values()]
    .filter((p) => p.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber);
  const page = parts.slice(0, maxParts);
  const truncated = parts.length > maxParts;
  return xmlAnswer(
    s3Document('ListPartsResult', [
      el('Bucket', call.bucket),
      el('Key', call.key),
      el('UploadId', uploadId),
      `<Initiator>${LOCAL_OWNER}</Initiator><Owner>${LOCAL_OWNER}</Owner>`,
      el('StorageClass', 'STANDARD'),
      el('PartNumberMarker', marker),
      el('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker),
      el('MaxParts', maxParts),
      el('IsTruncated', truncated),
      ...page.map(
        (p) =>
          `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', p.lastModified.toISOString())}` +
          `${el('ETag', p.etag)}${el('Size', p.body.length)}</Part>`
      ),
    ])
  );
}

export const listParts: S3Addition = { name: 'ListParts', matches, handle };
