/**
 * Gap: fauxqs buffers bodies through Fastify's 11 MiB `bodyLimit`; the registry sends parts of up
 * to about 2× its chunksize (20 MiB by default), gets 413, ignores it (PATCH still 202) and fails
 * the PUT later. This reads UploadPart bodies from the request stream, up to S3's 5 GiB part limit.
 */
import { partNumberOf, uploadOf } from './multipart.ts';
import { readPayload } from './request-body.ts';
import { objectCall, type S3Addition } from './s3-call.ts';

export const uploadPart: S3Addition = {
  name: 'UploadPart',
  matches: (call) =>
    objectCall(call, ['PUT'], { uploadId: true, partNumber: true, copySource: false }),
  async handle(call, ctx) {
    const partNumber = partNumberOf(call);
    const body = await readPayload(call.raw);
    const upload = uploadOf(call, ctx);
    const etag = ctx.store.uploadPart(upload.uploadId, partNumber, body);
    return { status: 200, headers: { etag } };
  },
};
