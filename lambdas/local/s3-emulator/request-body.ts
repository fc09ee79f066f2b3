/** Request bodies, read from the stream (not Fastify's 11 MiB buffer) with a size cap. */
import { constants } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { S3ApiError } from './s3-errors.ts';

/** S3's limit for one part (5 GiB), or the largest Buffer this Node.js can hold if smaller. */
export const MAX_PART_BYTES = Math.min(5 * 1024 ** 3, constants.MAX_LENGTH);

/** Reads the whole request body, failing with EntityTooLarge past `limit` bytes. */
export async function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(raw.headers['content-length'] ?? 0);
  if (declared > limit) {
    raw.resume();
    throw new S3ApiError('EntityTooLarge', `body of ${declared} bytes exceeds ${limit}`, 400);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      raw.resume();
      throw new S3ApiError('EntityTooLarge', `body exceeds ${limit} bytes`, 400);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

/** Reads a body the request should not have (copies): up to 1 MiB, ignored. */
export async function skipBody(raw: IncomingMessage): Promise<void> {
  await readBody(raw, 1024 * 1024);
}

/** Decodes `Content-Encoding: aws-chunked` framing (`<hex>;chunk-signature=…\r\n<data>\r\n`). */
export function decodeAwsChunked(buf: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const eol = buf.indexOf('\r\n', offset);
    if (eol === -1) break;
    const size = Number.parseInt(
      buf.subarray(offset, eol).toString('ascii').split(';')[0] ?? '',
      16
    );
    if (!Number.isFinite(size) || size === 0) break;
    chunks.push(buf.subarray(eol + 2, eol + 2 + size));
    offset = eol + 2 + size + 2;
  }
  return Buffer.concat(chunks);
}

/** The payload of a PUT, with aws-chunked framing removed when the client used it. */
export async function readPayload(raw: IncomingMessage, limit = MAX_PART_BYTES): Promise<Buffer> {
  const body = await readBody(raw, limit);
  const encoding = String(raw.headers['content-encoding'] ?? '');
  return encoding.includes('aws-chunked') ? decodeAwsChunked(body) : body;
}
