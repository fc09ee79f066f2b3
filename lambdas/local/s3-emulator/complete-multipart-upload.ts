/**
 * Gap: fauxqs decodes only named entities in the CompleteMultipartUpload body (Go's encoding/xml
 * writes ETags as `&#34;…&#34;`: 400 InvalidPart), and when the `<Part>` children come in both
 * orders (aws-sdk-go v1 writes them in map order) it keeps only the `<PartNumber><ETag>` ones and
 * silently completes a subset. This reads every `<Part>` whatever its child order, decodes numeric
 * character references, sorts by PartNumber and completes with all of them.
 */

import { assertWriteConditions } from './conditional-write.ts';
import type { EmulatedObject } from './emulator-store.ts';
import { uploadOf } from './multipart.ts';
import { readBody } from './request-body.ts';
import { objectCall, type S3Addition, versionHeader, xmlAnswer } from './s3-call.ts';
import { S3ApiError } from './s3-errors.ts';
import { el, elementTexts, s3Document } from './xml.ts';

/** Every `<Part>` of a CompleteMultipartUpload body, sorted by part number. */
export function parseCompleteBody(xml: string): { partNumber: number; etag: string }[] {
  const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => {
    const inner = m[1] ?? '';
    const number = elementTexts(inner, 'PartNumber')[0]?.trim() ?? '';
    const etag = elementTexts(inner, 'ETag')[0]?.trim();
    if (!/^\d+$/.test(number) || etag === undefined) {
      throw new S3ApiError('MalformedXML', 'each Part needs a PartNumber and an ETag', 400);
    }
    return { partNumber: Number(number), etag };
  });
  if (parts.length === 0) throw new S3ApiError('MalformedXML', 'no Part in the request', 400);
  parts.sort((a, b) => a.partNumber - b.partNumber);
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.partNumber === parts[i - 1]!.partNumber) {
      throw new S3ApiError('InvalidPartOrder', `part ${parts[i]!.partNumber} listed twice`, 400);
    }
  }
  return parts;
}

export const completeMultipartUpload: S3Addition = {
  name: 'CompleteMultipartUpload',
  matches: (call) => objectCall(call, ['POST'], { uploadId: true }),
  async handle(call, ctx) {
    const body = (await readBody(call.raw, 16 * 1024 * 1024)).toString('utf8');
    const upload = uploadOf(call, ctx);
    const parts = parseCompleteBody(body);
    const { store } = ctx;
    assertWriteConditions(call, store.current(call.bucket, call.key));
    const obj: EmulatedObject = store.completeMultipartUpload(upload.uploadId, parts);
    const host = String(call.headers.host ?? '127.0.0.1');
    const result = [
      el('Location', `http://${host}/${call.bucket}/${call.key}`),
      el('Bucket', call.bucket),
      el('Key', call.key),
      el('ETag', obj.etag),
    ];
    return xmlAnswer(s3Document('CompleteMultipartUploadResult', result), versionHeader(obj));
  },
};
