/**
 * CopyObject (PUT with `x-amz-copy-source`, no upload id). fauxqs copies correctly; this takes it
 * over only so the notification says `ObjectCreated:Copy` (the registry's Move of a blob up to
 * 32 MiB), not `ObjectCreated:Put`.
 */
import { assertWriteConditions } from './conditional-write.ts';
import {
  header,
  metadataOf,
  parseCopySource,
  readBody,
  type S3Addition,
  type S3Answer,
  type S3Call,
  type S3Context,
  xmlAnswer,
} from './s3-call.ts';
import { el, s3Document } from './xml.ts';

function matches(call: S3Call): boolean {
  return (
    call.method === 'PUT' &&
    call.key !== '' &&
    call.query['uploadId'] === undefined &&
    header(call, 'x-amz-copy-source') !== undefined
  );
}

async function handle(call: S3Call, { store }: S3Context): Promise<S3Answer> {
  await readBody(call.raw, 1024 * 1024);
  const source = parseCopySource(header(call, 'x-amz-copy-source') ?? '');
  const src = store.getObject(source.bucket, source.key);
  assertWriteConditions(call, store.current(call.bucket, call.key));
  const replace = header(call, 'x-amz-metadata-directive') === 'REPLACE';
  const obj = store.putObjectAs(
    'ObjectCreated:Copy',
    call.bucket,
    call.key,
    src.body,
    replace ? (header(call, 'content-type') ?? src.contentType) : src.contentType,
    replace ? metadataOf(call) : src.metadata
  );
  return xmlAnswer(
    s3Document('CopyObjectResult', [
      el('LastModified', obj.lastModified.toISOString()),
      el('ETag', obj.etag),
    ])
  );
}

export const copyObject: S3Addition = { name: 'CopyObject', matches, handle };
