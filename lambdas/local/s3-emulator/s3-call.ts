/**
 * What an emulator addition sees of one S3 request, what it answers, and the helpers every addition
 * shares (body reading with a size cap, aws-chunked decoding, copy-source parsing, S3 errors).
 */
import { constants } from 'node:buffer';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PushGuardError } from '../../domain/errors.ts';
import type { EmulatorStore } from './emulator-store.ts';
import type { FauxqsInternals, FauxS3Store } from './fauxqs-internals.ts';
import { el, escapeXml } from './xml.ts';

export interface S3Call {
  method: string;
  bucket: string;
  /** Decoded object key; empty for bucket-level requests. */
  key: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The raw request, for streaming the body. */
  raw: IncomingMessage;
  requestId: string;
}

export interface S3Answer {
  status: number;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
}

export interface S3Context {
  store: EmulatorStore & FauxS3Store;
  internals: FauxqsInternals;
}

/** One emulator addition: which requests it takes over and how it answers them. */
export interface S3Addition {
  name: string;
  matches(call: S3Call): boolean;
  handle(call: S3Call, ctx: S3Context): Promise<S3Answer>;
  /** Headers to add to a request this addition does not take over (fauxqs answers it). */
  decorate?(call: S3Call, ctx: S3Context): Record<string, string>;
}

/** An S3 error answer (`<Error><Code>…`), e.g. NoSuchUpload, InvalidPart, EntityTooLarge. */
export class S3ApiError extends PushGuardError {
  readonly code: string;
  readonly statusCode: number;
  /** Extra elements of the error document, e.g. `Condition` on PreconditionFailed. */
  readonly details: Readonly<Record<string, string>>;
  /** Headers S3 sends with this error, e.g. `x-amz-delete-marker`. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    code: string,
    message: string,
    statusCode: number,
    extra: { details?: Record<string, string>; headers?: Record<string, string> } = {}
  ) {
    super(message);
    this.code = code;
    this.statusCode = statusCode;
    this.details = extra.details ?? {};
    this.headers = extra.headers ?? {};
  }
  toXml(requestId: string): string {
    const details = Object.entries(this.details).map(([name, value]) => el(name, value));
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<Error><Code>${escapeXml(this.code)}</Code><Message>${escapeXml(this.message)}</Message>`,
      ...details,
      `<RequestId>${requestId}</RequestId><HostId>pushguard-local</HostId></Error>`,
    ].join('');
  }
}

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
export async function readPayload(call: S3Call, limit = MAX_PART_BYTES): Promise<Buffer> {
  const body = await readBody(call.raw, limit);
  const encoding = String(call.headers['content-encoding'] ?? '');
  return encoding.includes('aws-chunked') ? decodeAwsChunked(body) : body;
}

/** `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, URL-encoded or not): bucket, key, version. */
export function parseCopySource(header: string): {
  bucket: string;
  key: string;
  versionId?: string;
} {
  const [withoutVersion = '', versionId] = header.split('?versionId=');
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion);
  } catch {
    decoded = withoutVersion;
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new S3ApiError('InvalidArgument', `invalid x-amz-copy-source ${header}`, 400);
  }
  const source = { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
  return versionId ? { ...source, versionId: decodeURIComponent(versionId) } : source;
}

export function header(call: S3Call, name: string): string | undefined {
  const v = call.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The `x-amz-meta-*` headers of a request, as S3 stores them (names without the prefix). */
export function metadataOf(call: S3Call): Record<string, string> {
  const meta: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(call.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) {
      meta[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? (value[0] ?? '') : value;
    }
  }
  return meta;
}

/** `x-amz-version-id` of an object in a bucket with versioning configured, else nothing. */
export function versionHeader(obj: { versionId?: string }): Record<string, string> {
  return obj.versionId ? { 'x-amz-version-id': obj.versionId } : {};
}

export function xmlAnswer(body: string, status = 200): S3Answer {
  return { status, headers: { 'content-type': 'application/xml' }, body };
}

/** The owner and initiator every upload reports (single-tenant emulator). */
export const LOCAL_OWNER = '<ID>000000000000</ID><DisplayName>local</DisplayName>';
