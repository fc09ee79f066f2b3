/**
 * Gap: fauxqs ignores `?versionId=` on GetObject and HeadObject (it serves the current object) and
 * sends no `x-amz-version-id`. This serves the version asked for (with `Range`), answers 405 with
 * `x-amz-delete-marker` for a delete marker as S3 does, and adds the version headers to the plain
 * GET and HEAD fauxqs answers in a bucket with versioning configured.
 */
import type { EmulatedObject } from './emulator-store.ts';
import { header, objectCall, type S3Addition, type S3Answer, type S3Call } from './s3-call.ts';
import { S3ApiError } from './s3-errors.ts';

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size` bytes; undefined when unsatisfiable. */
export function parseRange(
  range: string,
  size: number
): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n > 0 && size > 0 ? { start: Math.max(size - n, 0), end: size - 1 } : undefined;
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start < size && start <= end ? { start, end } : undefined;
}

/** GetObject / HeadObject of one stored object: its headers, and its bytes (or a range of them). */
export function objectAnswer(call: S3Call, obj: EmulatedObject, versionId: string): S3Answer {
  const headers: Record<string, string | number> = {
    'content-type': obj.contentType,
    etag: obj.etag,
    'last-modified': obj.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    'x-amz-version-id': versionId,
  };
  for (const [name, value] of Object.entries(obj.metadata)) headers[`x-amz-meta-${name}`] = value;
  const total = obj.body.length;
  const range = call.method === 'GET' ? header(call, 'range') : undefined;
  if (range === undefined) {
    headers['content-length'] = total;
    return { status: 200, headers, body: call.method === 'HEAD' ? '' : obj.body };
  }
  const r = parseRange(range, total);
  if (!r) {
    throw new S3ApiError('InvalidRange', 'The requested range is not satisfiable', 416, {
      headers: { 'content-range': `bytes */${total}` },
    });
  }
  headers['content-range'] = `bytes ${r.start}-${r.end}/${total}`;
  headers['content-length'] = r.end - r.start + 1;
  return { status: 206, headers, body: obj.body.subarray(r.start, r.end + 1) };
}

export const objectVersion: S3Addition = {
  name: 'GetObjectVersion',
  matches: (call) => objectCall(call, ['GET', 'HEAD'], { uploadId: false, versionId: true }),
  async handle(call, { store }) {
    const versionId = call.query['versionId'] ?? '';
    const version = store.version(call.bucket, call.key, versionId);
    if (!version.object) {
      throw new S3ApiError(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        405,
        {
          headers: {
            'x-amz-delete-marker': 'true',
            'x-amz-version-id': versionId,
            allow: 'DELETE',
          },
        }
      );
    }
    return objectAnswer(call, version.object, versionId);
  },
  decorate(call, { store }) {
    const read = objectCall(call, ['GET', 'HEAD'], { uploadId: false });
    if (!read || store.versions.status(call.bucket) === undefined) return {};
    const latest = store.versions.latest(call.bucket, call.key);
    if (!latest) return {};
    const id = { 'x-amz-version-id': latest.versionId };
    return latest.object ? id : { ...id, 'x-amz-delete-marker': 'true' };
  },
};
