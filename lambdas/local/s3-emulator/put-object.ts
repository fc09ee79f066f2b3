/**
 * PutObject (PUT of a key with no upload id and no copy source). fauxqs stores it correctly but
 * ignores write conditions (conditional-write.ts) and buffers through an 11 MiB body limit; this
 * streams the body, checks `If-None-Match` / `If-Match` right before the write, and stores it.
 */
import { assertWriteConditions } from './conditional-write.ts';
import { header, metadataOf, readPayload, type S3Addition, versionHeader } from './s3-call.ts';

export const putObject: S3Addition = {
  name: 'PutObject',
  matches: (call) =>
    call.method === 'PUT' &&
    call.key !== '' &&
    call.query['uploadId'] === undefined &&
    header(call, 'x-amz-copy-source') === undefined,
  async handle(call, { store }) {
    const body = await readPayload(call);
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
