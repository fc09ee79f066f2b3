import { randomBytes } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  completeMultipartUpload,
  parseCompleteBody,
} from '../../../lambdas/local/s3-emulator/complete-multipart-upload.ts';
import {
  additionsWithout,
  raw,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.ts';

const MiB = 1024 * 1024;
const key = 'harbor/docker/registry/v2/blobs/sha256/fd/big/data';

/** Go's encoding/xml: `"` as `&#34;`; aws-sdk-go v1: `<Part>` children in map (random) order. */
function goStyleBody(parts: { n: number; etag: string }[], quote = '&#34;'): string {
  const xml = parts
    .map(({ n, etag }, i) => {
      const e = `<ETag>${etag.replaceAll('"', quote)}</ETag>`;
      const p = `<PartNumber>${n}</PartNumber>`;
      return `<Part>${i % 2 === 0 ? e + p : p + e}</Part>`;
    })
    .join('');
  return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${xml}</CompleteMultipartUpload>`;
}

async function threeParts(t: TestEmulator) {
  const { UploadId } = await t.s3.send(
    new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: key })
  );
  const bodies = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(777)];
  const etags: string[] = [];
  for (const [i, Body] of bodies.entries()) {
    const out = await t.s3.send(
      new UploadPartCommand({ Bucket: t.bucket, Key: key, UploadId, PartNumber: i + 1, Body })
    );
    etags.push(out.ETag ?? '');
  }
  // Shuffled, as aws-sdk-go v1 sends them.
  const shuffled = [2, 0, 1].map((i) => ({ n: i + 1, etag: etags[i]! }));
  const inOrder = [0, 1, 2].map((i) => ({ n: i + 1, etag: etags[i]! }));
  return {
    uploadId: UploadId ?? '',
    bodies,
    body: goStyleBody(shuffled),
    /** Ascending, `&quot;`, but children in mixed order. */
    mixedChildren: goStyleBody(inOrder, '&quot;'),
  };
}

describe('S3 emulator: CompleteMultipartUpload', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('decodes &#34; ETags, sorts shuffled parts and completes with all of them', async () => {
    t = await startTestEmulator();
    const { uploadId, bodies, body } = await threeParts(t);
    const res = await raw(t, 'POST', `/${t.bucket}/${key}?uploadId=${uploadId}`, { body });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/<ETag>&quot;[0-9a-f]{32}-3&quot;<\/ETag>/);
    const obj = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    const stored = Buffer.from(await obj.Body!.transformToByteArray());
    expect(stored.length).toBe(10 * MiB + 777);
    expect(stored.equals(Buffer.concat(bodies))).toBe(true);
  });

  it('parses hex references and both child orders, and rejects duplicates', () => {
    expect(
      parseCompleteBody(
        '<Part><ETag>&#x22;b&#x22;</ETag><PartNumber>2</PartNumber></Part>' +
          '<Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part>'
      )
    ).toEqual([
      { partNumber: 1, etag: '"a"' },
      { partNumber: 2, etag: '"b"' },
    ]);
    expect(() =>
      parseCompleteBody('<Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>'.repeat(2))
    ).toThrow(/listed twice/);
    expect(() => parseCompleteBody('<CompleteMultipartUpload/>')).toThrow(/no Part/);
  });

  it('rejects a wrong ETag with InvalidPart', async () => {
    t = await startTestEmulator();
    const { uploadId } = await threeParts(t);
    const body = goStyleBody(
      [1, 2, 3].map((n) => ({ n, etag: '"00000000000000000000000000000000"' }))
    );
    const res = await raw(t, 'POST', `/${t.bucket}/${key}?uploadId=${uploadId}`, { body });
    expect(res.status).toBe(400);
    expect(res.body).toContain('<Code>InvalidPart</Code>');
  });

  it('fauxqs alone fails the same body with InvalidPart (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(completeMultipartUpload) });
    const { uploadId, body } = await threeParts(t);
    const res = await raw(t, 'POST', `/${t.bucket}/${key}?uploadId=${uploadId}`, { body });
    expect(res.status).toBe(400);
    expect(res.body).toContain('InvalidPart');
  });

  it('fauxqs alone completes only the <PartNumber><ETag> parts when child order is mixed (the gap)', async () => {
    t = await startTestEmulator({ additions: additionsWithout(completeMultipartUpload) });
    const { uploadId, mixedChildren } = await threeParts(t);
    const res = await raw(t, 'POST', `/${t.bucket}/${key}?uploadId=${uploadId}`, {
      body: mixedChildren,
    });
    expect(res.status).toBe(200);
    const obj = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    expect(obj.ContentLength).toBe(5 * MiB);
  });

  it('completes the same mixed-order body with all parts', async () => {
    t = await startTestEmulator();
    const { uploadId, mixedChildren } = await threeParts(t);
    const res = await raw(t, 'POST', `/${t.bucket}/${key}?uploadId=${uploadId}`, {
      body: mixedChildren,
    });
    expect(res.status).toBe(200);
    const obj = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    expect(obj.ContentLength).toBe(10 * MiB + 777);
  });
});
