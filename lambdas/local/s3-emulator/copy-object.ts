/**
 * CopyObject (PUT with `x-amz-copy-source`, no upload id). fauxqs copies the current object only;
 * this takes it over so the notification says `ObjectCreated:Copy` (the registry's Move of a blob
 * up to 32 MiB), a source `?versionId=` is honoured, and the write conditions hold.
 */
import { assertWriteConditions } from './conditional-write.ts';
import { copySourceOf } from './copy-source.ts';
import { skipBody } from './request-body.ts';
import {
  header,
  metadataOf,
  objectCall,
  type S3Addition,
  versionHeader,
  xmlAnswer,
} from './s3-call.ts';
import { el, s3Document } from './xml.ts';

export const copyObject: S3Addition = {
  name: 'CopyObject',
  matches: (call) => objectCall(call, ['PUT'], { uploadId: false, copySource: true }),
  async handle(call, ctx) {
    await skipBody(call.raw);
    const { object: src, headers } = copySourceOf(call, ctx);
    const { store } = ctx;
    assertWriteConditions(call, store.current(call.bucket, call.key));
    const replace = header(call, 'x-amz-metadata-directive') === 'REPLACE';
    const obj = store.putObjectAs('ObjectCreated:Copy', {
      bucket: call.bucket,
      key: call.key,
      body: src.body,
      contentType: replace ? (header(call, 'content-type') ?? src.contentType) : src.contentType,
      metadata: replace ? metadataOf(call) : src.metadata,
    });
    const result = [el('LastModified', obj.lastModified.toISOString()), el('ETag', obj.etag)];
    return xmlAnswer(s3Document('CopyObjectResult', result), { ...headers, ...versionHeader(obj) });
  },
};
