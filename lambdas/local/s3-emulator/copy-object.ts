/**
 * CopyObject (PUT with `x-amz-copy-source`, no upload id). fauxqs copies the current object only;
 * this takes it over so the notification says `ObjectCreated:Copy` (the registry's Move of a blob
 * up to 32 MiB), a source `?versionId=` is honoured, and the write conditions hold.
 */
import { assertWriteConditions } from './conditional-write.ts';
import { copySourceOf } from './copy-source.ts';
import {
  header,
  metadataOf,
  readBody,
  type S3Addition,
  type S3Answer,
  type S3Call,
  type S3Context,
  versionHeader,
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
  const { object: src, headers } = copySourceOf(call, store);
  assertWriteConditions(call, store.current(call.bucket, call.key));
  const replace = header(call, 'x-amz-metadata-directive') === 'REPLACE';
  const obj = store.putObjectAs('ObjectCreated:Copy', {
    bucket: call.bucket,
    key: call.key,
    body: src.body,
    contentType: replace ? (header(call, 'content-type') ?? src.contentType) : src.contentType,
    metadata: replace ? metadataOf(call) : src.metadata,
  });
  const answer = xmlAnswer(
    s3Document('CopyObjectResult', [
      el('LastModified', obj.lastModified.toISOString()),
      el('ETag', obj.etag),
    ])
  );
  return { ...answer, headers: { ...answer.headers, ...headers, ...versionHeader(obj) } };
}

export const copyObject: S3Addition = { name: 'CopyObject', matches, handle };
