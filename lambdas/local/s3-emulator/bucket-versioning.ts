/**
 * Gap: fauxqs has no bucket versioning. PutBucketVersioning (`PUT /bucket?versioning`, Status
 * Enabled or Suspended; a bucket never goes back to unversioned) and GetBucketVersioning (an empty
 * configuration until it was set). What versioning does to writes is in emulator-store.ts.
 */
import { readBody } from './request-body.ts';
import { bucketCall, type S3Addition, xmlAnswer } from './s3-call.ts';
import { assertBucket, S3ApiError } from './s3-errors.ts';
import { el, elementTexts, s3Document } from './xml.ts';

export const bucketVersioning: S3Addition = {
  name: 'BucketVersioning',
  matches: (call) => bucketCall(call, ['PUT', 'GET'], 'versioning'),
  async handle(call, { store }) {
    if (call.method === 'GET') {
      assertBucket(store, call.bucket);
      const status = store.versions.status(call.bucket);
      return xmlAnswer(s3Document('VersioningConfiguration', status ? [el('Status', status)] : []));
    }
    const body = (await readBody(call.raw, 64 * 1024)).toString('utf8');
    assertBucket(store, call.bucket);
    const status = elementTexts(body, 'Status')[0]?.trim();
    if (status !== 'Enabled' && status !== 'Suspended') {
      throw new S3ApiError('MalformedXML', 'Status must be Enabled or Suspended', 400);
    }
    store.versions.setStatus(call.bucket, status);
    return { status: 200 };
  },
};
