/**
 * Gap: fauxqs has no bucket versioning. PutBucketVersioning (`PUT /bucket?versioning`, Status
 * Enabled or Suspended; a bucket never goes back to unversioned) and GetBucketVersioning (an empty
 * configuration until it was set). What versioning does to writes is in emulator-store.ts.
 */
import { readBody, type S3Addition, S3ApiError, xmlAnswer } from './s3-call.ts';
import { el, elementTexts, s3Document } from './xml.ts';

function assertBucket(exists: boolean, bucket: string): void {
  if (!exists) {
    throw new S3ApiError('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 404);
  }
}

export const bucketVersioning: S3Addition = {
  name: 'BucketVersioning',
  matches: (call) =>
    (call.method === 'PUT' || call.method === 'GET') &&
    call.key === '' &&
    'versioning' in call.query,
  async handle(call, { store }) {
    if (call.method === 'GET') {
      assertBucket(store.hasBucket(call.bucket), call.bucket);
      const status = store.versions.status(call.bucket);
      return xmlAnswer(s3Document('VersioningConfiguration', status ? [el('Status', status)] : []));
    }
    const body = (await readBody(call.raw, 64 * 1024)).toString('utf8');
    assertBucket(store.hasBucket(call.bucket), call.bucket);
    const status = elementTexts(body, 'Status')[0]?.trim();
    if (status !== 'Enabled' && status !== 'Suspended') {
      throw new S3ApiError('MalformedXML', 'Status must be Enabled or Suspended', 400);
    }
    store.versions.setStatus(call.bucket, status);
    return { status: 200 };
  },
};
