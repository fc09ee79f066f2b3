/**
 * What an emulator addition sees of one S3 request, what it answers, and how additions say which
 * requests they take over (`objectCall`, `bucketCall`) and build answers.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { EmulatorStore } from './emulator-store.ts';
import type { FauxqsInternals, FauxS3Store } from './fauxqs-internals.ts';

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

export function header(call: S3Call, name: string): string | undefined {
  const v = call.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** What an object request must carry (true), must not (false), or may (absent). */
export interface ObjectCallShape {
  uploadId?: boolean;
  partNumber?: boolean;
  versionId?: boolean;
  copySource?: boolean;
}

/** A request on an object (non-empty key) with one of `methods` and the given shape. */
export function objectCall(call: S3Call, methods: string[], shape: ObjectCallShape = {}): boolean {
  const has: Record<keyof ObjectCallShape, boolean> = {
    uploadId: call.query['uploadId'] !== undefined,
    partNumber: call.query['partNumber'] !== undefined,
    versionId: call.query['versionId'] !== undefined,
    copySource: header(call, 'x-amz-copy-source') !== undefined,
  };
  const fits = (Object.keys(shape) as (keyof ObjectCallShape)[]).every((k) => shape[k] === has[k]);
  return call.key !== '' && methods.includes(call.method) && fits;
}

/** A bucket request (empty key) with one of `methods` and the sub-resource `?name`. */
export function bucketCall(call: S3Call, methods: string[], subresource: string): boolean {
  return call.key === '' && methods.includes(call.method) && subresource in call.query;
}

/** A listing's page size from `?name=` (max-keys, max-uploads, max-parts): 1..1000, default 1000. */
export function pageSize(call: S3Call, name: string): number {
  return Math.min(Number(call.query[name] ?? 1000) || 1000, 1000);
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

/** A 200 XML answer, with extra headers. */
export function xmlAnswer(body: string, headers: Record<string, string> = {}): S3Answer {
  return { status: 200, headers: { 'content-type': 'application/xml', ...headers }, body };
}

/** The owner and initiator every upload reports (single-tenant emulator). */
export const LOCAL_OWNER = '<ID>000000000000</ID><DisplayName>local</DisplayName>';
