/**
 * PutObject (PUT of a key with no upload id and no copy source). fauxqs stores it correctly but
 * ignores write conditions (conditional-write.ts) and buffers through an 11 MiB body limit; this
 * streams the body, checks `If-None-Match` / `If-Match` right before the write, and stores it.
 */
import { assertWriteConditions } from './conditional-write.ts';
import { readPayload } from './request-body.ts';
import { header, metadataOf, objectCall, type S3Addition, versionHeader } from './s3-call.ts';

export const putObject: S3Addition = {
  name: 'PutObject',
  matches: (call) => objectCall(call, ['PUT'], { uploadId: false, copySource: false }),
  async handle(call, { store }) {
    const body = await readPayload(call.raw);
    assertWriteConditions(call, store.current(call.bucket, call.key));
    const obj = store.putObjectAs('ObjectCreated:Put', {
      bucket: call.bucket,
      key: call.key,
      body,
      contentType: header(call, 'content-type') ?? 'application/octet-stream',
      metadata: metadataOf(call),
    });
    return { status: 200, headers: { etag: obj.etag, ...versionHeader(obj) } };
  },
};
