/**
 * The object an `x-amz-copy-source` names (CopyObject, UploadPartCopy): the current object, or
 * with `?versionId=` that version (which is how a noncurrent version is restored server side).
 */
import type { EmulatedObject } from './emulator-store.ts';
import { header, type S3Call, type S3Context } from './s3-call.ts';
import { S3ApiError } from './s3-errors.ts';

export interface CopySource {
  object: EmulatedObject;
  /** For `x-amz-copy-source-version-id`: the version copied, when the source has one. */
  headers: Record<string, string>;
}

/** `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, URL-encoded or not): bucket, key, version. */
export function parseCopySource(value: string): {
  bucket: string;
  key: string;
  versionId?: string;
} {
  const [withoutVersion = '', versionId] = value.split('?versionId=');
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion);
  } catch {
    decoded = withoutVersion;
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new S3ApiError('InvalidArgument', `invalid x-amz-copy-source ${value}`, 400);
  }
  const source = { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
  return versionId ? { ...source, versionId: decodeURIComponent(versionId) } : source;
}

export function copySourceOf(call: S3Call, { store }: S3Context): CopySource {
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
