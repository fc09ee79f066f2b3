/**
 * DeleteObject (DELETE of a key, no upload id). fauxqs deletes the current object and ignores
 * `?versionId=`. In a bucket with versioning configured, a delete without a version id creates a
 * delete marker (the previous object stays as a noncurrent version), and a delete with one removes
 * that version for good; both answer with `x-amz-version-id` and `x-amz-delete-marker` as S3 does.
 */
import type { ObjectVersion } from './object-versions.ts';
import { objectCall, type S3Addition } from './s3-call.ts';

function deleteHeaders(version: ObjectVersion | undefined): Record<string, string> {
  if (!version) return {};
  const headers: Record<string, string> = { 'x-amz-version-id': version.versionId };
  if (!version.object) headers['x-amz-delete-marker'] = 'true';
  return headers;
}

export const deleteObject: S3Addition = {
  name: 'DeleteObject',
  matches: (call) => objectCall(call, ['DELETE'], { uploadId: false }),
  async handle(call, { store }) {
    const versionId = call.query['versionId'];
    const version =
      versionId === undefined
        ? store.deleteCurrent(call.bucket, call.key)
        : store.deleteVersion(call.bucket, call.key, versionId);
    return { status: 204, headers: deleteHeaders(version) };
  },
};
