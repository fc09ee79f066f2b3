/**
 * Gap: fauxqs routes `GET /bucket/key?uploadId=` to GetObject (404 NoSuchKey). The registry's
 * s3aws writer reads the parts of the upload it resumes through ListParts (size and ETag of each).
 */
import { uploadOf } from './multipart.ts';
import { LOCAL_OWNER, objectCall, pageSize, type S3Addition, xmlAnswer } from './s3-call.ts';
import { el, s3Document } from './xml.ts';

export const listParts: S3Addition = {
  name: 'ListParts',
  matches: (call) => objectCall(call, ['GET'], { uploadId: true }),
  async handle(call, ctx) {
    const upload = uploadOf(call, ctx);
    const marker = Number(call.query['part-number-marker'] ?? 0) || 0;
    const maxParts = pageSize(call, 'max-parts');
    const parts = [...upload.parts.values()]
      .filter((p) => p.partNumber > marker)
      .sort((a, b) => a.partNumber - b.partNumber);
    const page = parts.slice(0, maxParts);
    return xmlAnswer(
      s3Document('ListPartsResult', [
        el('Bucket', call.bucket),
        el('Key', call.key),
        el('UploadId', upload.uploadId),
        `<Initiator>${LOCAL_OWNER}</Initiator><Owner>${LOCAL_OWNER}</Owner>`,
        el('StorageClass', 'STANDARD'),
        el('PartNumberMarker', marker),
        el('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker),
        el('MaxParts', maxParts),
        el('IsTruncated', parts.length > maxParts),
        ...page.map(
          (p) =>
            `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', p.lastModified.toISOString())}` +
            `${el('ETag', p.etag)}${el('Size', p.body.length)}</Part>`
        ),
      ])
    );
  },
};
