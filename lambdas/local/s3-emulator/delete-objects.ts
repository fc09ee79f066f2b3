/**
 * DeleteObjects (`POST /bucket?delete`), which the registry uses for every delete. fauxqs decodes
 * only named entities in keys and ignores `<VersionId>`, so in a versioned bucket it would add a
 * delete marker where a version was to be removed. This deletes each `<Object>` as DeleteObject
 * does (store.deleteCurrent / deleteVersion, one event each) and answers with S3's per-key
 * `DeleteMarker` / `DeleteMarkerVersionId` / `VersionId`; `<Quiet>` answers errors only.
 */
import type { ObjectVersion } from './object-versions.ts';
import { readBody } from './request-body.ts';
import { bucketCall, type S3Addition, xmlAnswer } from './s3-call.ts';
import { assertBucket, S3ApiError } from './s3-errors.ts';
import { el, elementTexts, s3Document } from './xml.ts';

/** The `<Object>`s of a DeleteObjects body (at most 1000, as S3 allows). */
export function parseDeleteBody(xml: string): { key: string; versionId?: string }[] {
  const objects = [...xml.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((m) => {
    const inner = m[1] ?? '';
    const key = elementTexts(inner, 'Key')[0];
    const versionId = elementTexts(inner, 'VersionId')[0];
    if (key === undefined || key === '') {
      throw new S3ApiError('MalformedXML', 'each Object needs a Key', 400);
    }
    return versionId === undefined ? { key } : { key, versionId };
  });
  if (objects.length === 0 || objects.length > 1000) {
    throw new S3ApiError('MalformedXML', 'a Delete lists 1 to 1000 Objects', 400);
  }
  return objects;
}

function deleted(key: string, asked: string | undefined, version: ObjectVersion | undefined) {
  const parts = [el('Key', key)];
  if (asked !== undefined) parts.push(el('VersionId', asked));
  if (version && !version.object) {
    parts.push(el('DeleteMarker', true), el('DeleteMarkerVersionId', version.versionId));
  }
  return `<Deleted>${parts.join('')}</Deleted>`;
}

export const deleteObjects: S3Addition = {
  name: 'DeleteObjects',
  matches: (call) => bucketCall(call, ['POST'], 'delete'),
  async handle(call, { store }) {
    const body = (await readBody(call.raw, 2 * 1024 * 1024)).toString('utf8');
    assertBucket(store, call.bucket);
    const quiet = elementTexts(body, 'Quiet')[0]?.trim() === 'true';
    const results: string[] = [];
    for (const { key, versionId } of parseDeleteBody(body)) {
      const version =
        versionId === undefined
          ? store.deleteCurrent(call.bucket, key)
          : store.deleteVersion(call.bucket, key, versionId);
      if (!quiet) results.push(deleted(key, versionId, version));
    }
    return xmlAnswer(s3Document('DeleteResult', results));
  },
};
