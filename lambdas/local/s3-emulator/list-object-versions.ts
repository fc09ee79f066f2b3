/**
 * Gap: fauxqs has no ListObjectVersions (`GET /bucket?versions`; it answered as ListObjects).
 * Versions and delete markers in S3 order (keys in byte order, each key's newest first), with
 * IsLatest, `prefix`, `max-keys` and the `key-marker` / `version-id-marker` pagination.
 * `delimiter` is not supported (NotImplemented), rather than answered wrongly.
 */
import { bucketCall, LOCAL_OWNER, pageSize, type S3Addition, xmlAnswer } from './s3-call.ts';
import { assertBucket, S3ApiError } from './s3-errors.ts';
import { el, s3Document } from './xml.ts';

export const listObjectVersions: S3Addition = {
  name: 'ListObjectVersions',
  matches: (call) => bucketCall(call, ['GET'], 'versions'),
  async handle(call, { store }) {
    assertBucket(store, call.bucket);
    if (call.query['delimiter']) {
      throw new S3ApiError('NotImplemented', 'delimiter is not supported by the emulator', 501);
    }
    const prefix = call.query['prefix'] ?? '';
    const keyMarker = call.query['key-marker'] ?? '';
    const versionIdMarker = call.query['version-id-marker'] ?? '';
    const maxKeys = pageSize(call, 'max-keys');
    const page = store.versions.list(call.bucket, { prefix, keyMarker, versionIdMarker, maxKeys });
    const last = page.versions.at(-1);
    const entries = page.versions.map((v) => {
      const common = [
        el('Key', v.key),
        el('VersionId', v.versionId),
        el('IsLatest', v.isLatest),
        el('LastModified', v.lastModified.toISOString()),
      ].join('');
      if (!v.object) return `<DeleteMarker>${common}<Owner>${LOCAL_OWNER}</Owner></DeleteMarker>`;
      return (
        `<Version>${common}${el('ETag', v.object.etag)}${el('Size', v.object.contentLength)}` +
        `${el('StorageClass', 'STANDARD')}<Owner>${LOCAL_OWNER}</Owner></Version>`
      );
    });
    const next =
      page.isTruncated && last
        ? [el('NextKeyMarker', last.key), el('NextVersionIdMarker', last.versionId)]
        : [];
    return xmlAnswer(
      s3Document('ListVersionsResult', [
        el('Name', call.bucket),
        el('Prefix', prefix),
        el('KeyMarker', keyMarker),
        el('VersionIdMarker', versionIdMarker),
        ...next,
        el('MaxKeys', maxKeys),
        el('IsTruncated', page.isTruncated),
        ...entries,
      ])
    );
  },
};
