/**
 * The object an `x-amz-copy-source` names (CopyObject, UploadPartCopy): the current object, or
 * with `?versionId=` that version (which is how a noncurrent version is restored server side).
 */
import type { EmulatedObject, EmulatorStore } from './emulator-store.ts';
import type { FauxS3Store } from './fauxqs-internals.ts';
import { header, parseCopySource, S3ApiError, type S3Call } from './s3-call.ts';

export interface CopySource {
  object: EmulatedObject;
  /** For `x-amz-copy-source-version-id`: the version copied, when the source has one. */
  headers: Record<string, string>;
}

export function copySourceOf(call: S3Call, store: EmulatorStore & FauxS3Store): CopySource {
  const source = parseCopySource(header(call, 'x-amz-copy-source') ?? '');
  if (source.versionId === undefined) {
    const object: EmulatedObject = store.getObject(source.bucket, source.key);
    const headers: Record<string, string> = object.versionId
      ? { 'x-amz-copy-source-version-id': object.versionId }
      : {};
    return { object, headers };
  }
  const version = store.version(source.bucket, source.key, source.versionId);
  if (!version.object) {
    throw new S3ApiError(
      'InvalidRequest',
      'The source of a copy request may not specifically refer to a delete marker by version id.',
      400
    );
  }
  return {
    object: version.object,
    headers: { 'x-amz-copy-source-version-id': version.versionId },
  };
}
