/**
 * Storage key classifier and builders for the distribution v2.8 layout on S3 (pure).
 *
 * Layout (under `[root/]docker/registry/v2/`, see harbor-internals.md §1.2):
 *   blobs/<alg>/<hh>/<hex>/data
 *   repositories/<repo>/_uploads/<uuid>/{data,startedat,hashstates/<alg>/<offset>}
 *   repositories/<repo>/_layers/<alg>/<hex>/link
 *   repositories/<repo>/_manifests/revisions/<alg>/<hex>/link
 *   repositories/<repo>/_manifests/tags/<tag>/current/link
 *   repositories/<repo>/_manifests/tags/<tag>/index/<alg>/<hex>/link
 *
 * Validation is hand-written (no backtracking regexes on untrusted input) and never throws from
 * `classifyKey`: anything off the layout is `unrelated`.
 */
import { InvalidReferenceError, MalformedEventError } from './errors.ts';
import {
  assertRepositoryName,
  isAlgorithm,
  isEncoded,
  isRepositoryRange,
  isTagRange,
  isUploadIdRange,
  isValidTag,
  parseDigest,
  parseOffsetRange,
  startsAt,
} from './reference-grammar.ts';
import type { Digest, StorageKey } from './types.ts';

export {
  assertRepositoryName,
  assertSha256Digest,
  isSha256Digest,
  isValidRepositoryName,
  isValidTag,
  isValidUploadId,
  parseDigest,
  REPOSITORY_NAME_MAX,
} from './reference-grammar.ts';

const V2 = 'docker/registry/v2/';

// ---------------------------------------------------------------------------------------------
// URL decoding and root directory
// ---------------------------------------------------------------------------------------------

/**
 * Form-style decode of an S3 event object key: `+` is a space, then `%XX` escapes (UTF-8).
 * Invalid escapes throw MalformedEventError naming `field`.
 */
export function decodeS3Key(raw: string, field = 'key'): string {
  if (typeof raw !== 'string') throw new MalformedEventError(field, 'expected a string');
  const hasPlus = raw.indexOf('+') !== -1;
  const hasPct = raw.indexOf('%') !== -1;
  if (!hasPlus && !hasPct) return raw;
  const spaced = hasPlus ? raw.replaceAll('+', ' ') : raw;
  if (!hasPct) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    throw new MalformedEventError(field, 'invalid percent-encoding');
  }
}

/** `'/harbor/'` → `'harbor'`, `undefined`/`'/'` → `''`. */
export function normalizeRootDirectory(p?: string): string {
  if (p === undefined || p === null) return '';
  let start = 0;
  let end = p.length;
  while (start < end && p.charCodeAt(start) === 47) start++;
  while (end > start && p.charCodeAt(end - 1) === 47) end--;
  return start === 0 && end === p.length ? p : p.slice(start, end);
}

/** Whatever precedes `docker/registry/v2/` (`''` when the key starts there), else undefined. */
export function detectRootDirectory(key: string): string | undefined {
  if (typeof key !== 'string') return undefined;
  const idx = key.indexOf(V2);
  if (idx === 0) return '';
  if (idx < 2 || key.charCodeAt(idx - 1) !== 47) return undefined;
  const root = key.slice(0, idx - 1);
  return normalizeRootDirectory(root) === root ? root : undefined;
}

/** `${root}/docker/registry/v2/`, or `docker/registry/v2/` for the empty root. */
export function registryPrefix(root: string): string {
  const r = normalizeRootDirectory(root);
  return r === '' ? V2 : `${r}/${V2}`;
}

// ---------------------------------------------------------------------------------------------
// Classifier
// ---------------------------------------------------------------------------------------------

export interface ClassifyOptions {
  /** The configured root directory; when absent, detected from the key. */
  rootDirectory?: string;
}

function unrelated(key: string, reason: string): StorageKey {
  return { kind: 'unrelated', key, reason };
}

/** The algorithm named by `key[start, end)`: the shared 'sha256' for the usual one, no copy. */
function algorithmAt(key: string, start: number, end: number): string {
  return end - start === 6 && startsAt(key, start, 'sha256') ? 'sha256' : key.slice(start, end);
}

/** `<alg>:<key[start, end)>`. */
function digestOf(alg: string, key: string, start: number, end: number): string {
  return alg === 'sha256' ? `sha256:${key.slice(start, end)}` : `${alg}:${key.slice(start, end)}`;
}

/** True when `key` ends with exactly `suffix` starting at `at`. */
function restIs(key: string, at: number, suffix: string): boolean {
  return key.length - at === suffix.length && startsAt(key, at, suffix);
}

/** The digest `<alg>:<key[h, e2)>` of the algorithm `key[a, e1)`, or undefined if invalid. */
function digestAt(key: string, a: number, e1: number, h: number, e2: number): Digest | undefined {
  if (!isAlgorithm(key, a, e1)) return undefined;
  const alg = algorithmAt(key, a, e1);
  if (!isEncoded(alg, key, h, e2)) return undefined;
  return digestOf(alg, key, h, e2);
}

/** `<alg>/<encoded>` + exactly `suffix` from `at` to the end of `key`: the digest, or undefined. */
function digestThen(key: string, at: number, suffix: string): Digest | undefined {
  const e1 = key.indexOf('/', at);
  if (e1 === -1) return undefined;
  const e2 = key.indexOf('/', e1 + 1);
  if (e2 === -1 || !restIs(key, e2, suffix)) return undefined;
  return digestAt(key, at, e1, e1 + 1, e2);
}

/**
 * What a bucket key is. Never throws: anything that is not exactly a layout key (other files,
 * invalid names, digests or tags) is `{ kind: 'unrelated', key, reason }`. Walks the key with
 * indexOf (no split, no regex): this runs once per storage event.
 */
export function classifyKey(key: string, opts?: ClassifyOptions): StorageKey {
  if (typeof key !== 'string') return unrelated(String(key), 'not a string');
  let root: string;
  let p: number;
  const configured = opts?.rootDirectory;
  if (configured !== undefined) {
    root = normalizeRootDirectory(configured);
    const prefix = root === '' ? V2 : `${root}/${V2}`;
    if (!key.startsWith(prefix)) return unrelated(key, `outside ${prefix}`);
    p = prefix.length;
  } else {
    const detected = detectRootDirectory(key);
    if (detected === undefined) return unrelated(key, `no ${V2} prefix`);
    root = detected;
    p = detected === '' ? V2.length : detected.length + 1 + V2.length;
  }
  if (startsAt(key, p, 'blobs/')) return classifyBlob(key, root, p + 6);
  if (!startsAt(key, p, 'repositories/')) {
    return unrelated(key, 'not under blobs/ or repositories/');
  }
  // the first component starting with `_` ends the repository name (name components cannot)
  const nameStart = p + 13;
  const nameEnd = key.indexOf('/_', nameStart);
  if (nameEnd === -1) return unrelated(key, 'no _uploads/_layers/_manifests component');
  if (!isRepositoryRange(key, nameStart, nameEnd)) return unrelated(key, 'invalid repository name');
  const at: RepositoryKey = {
    key,
    root,
    repository: key.slice(nameStart, nameEnd),
    m: nameEnd + 1,
  };
  if (startsAt(key, at.m, '_layers/')) {
    const digest = digestThen(key, at.m + 8, '/link');
    if (digest === undefined) return unrelated(key, 'not _layers/<alg>/<hex>/link');
    return { kind: 'layer-link', root, repository: at.repository, digest };
  }
  if (startsAt(key, at.m, '_uploads/')) return classifyUpload(at);
  if (startsAt(key, at.m, '_manifests/revisions/')) {
    const digest = digestThen(key, at.m + 21, '/link');
    if (digest === undefined) return unrelated(key, 'not _manifests/revisions/<alg>/<hex>/link');
    return { kind: 'revision-link', root, repository: at.repository, digest };
  }
  if (startsAt(key, at.m, '_manifests/tags/')) return classifyTag(at);
  return unrelated(key, 'unknown _uploads/_layers/_manifests object');
}

/** A key under `repositories/<repository>/`, `m` where the `_` component starts. */
interface RepositoryKey {
  key: string;
  root: string;
  repository: string;
  m: number;
}

/** `blobs/<alg>/<hh>/<hex>/data`, the algorithm starting at `a`. */
function classifyBlob(key: string, root: string, a: number): StorageKey {
  const e1 = key.indexOf('/', a);
  if (e1 === -1 || key.charCodeAt(e1 + 3) !== 47) {
    return unrelated(key, 'not blobs/<alg>/<hh>/<hex>/data');
  }
  const h = e1 + 4;
  const e2 = key.indexOf('/', h);
  if (e2 === -1 || !restIs(key, e2, '/data')) {
    return unrelated(key, 'not blobs/<alg>/<hh>/<hex>/data');
  }
  if (
    e2 - h < 2 ||
    key.charCodeAt(e1 + 1) !== key.charCodeAt(h) ||
    key.charCodeAt(e1 + 2) !== key.charCodeAt(h + 1)
  ) {
    return unrelated(key, 'blob shard mismatch');
  }
  const digest = digestAt(key, a, e1, h, e2);
  if (digest === undefined) return unrelated(key, 'invalid blob digest');
  return { kind: 'blob-data', root, digest };
}

/** `_uploads/<id>/{data,startedat,hashstates/<alg>/<offset>}`. */
function classifyUpload({ key, root, repository, m }: RepositoryKey): StorageKey {
  const a = m + 9;
  const e1 = key.indexOf('/', a);
  if (e1 === -1) return unrelated(key, 'invalid upload id');
  if (!isUploadIdRange(key, a, e1)) return unrelated(key, 'invalid upload id');
  const uploadId = key.slice(a, e1);
  if (restIs(key, e1, '/data')) return { kind: 'upload-data', root, repository, uploadId };
  if (restIs(key, e1, '/startedat')) {
    return { kind: 'upload-startedat', root, repository, uploadId };
  }
  if (startsAt(key, e1, '/hashstates/')) {
    const b = e1 + 12;
    const e2 = key.indexOf('/', b);
    const offset = e2 === -1 ? -1 : parseOffsetRange(key, e2 + 1, key.length);
    if (offset < 0 || !isAlgorithm(key, b, e2)) return unrelated(key, 'invalid hashstate');
    const algorithm = key.slice(b, e2);
    return { kind: 'upload-hashstate', root, repository, uploadId, algorithm, offset };
  }
  return unrelated(key, 'unknown _uploads object');
}

/** `_manifests/tags/<tag>/{current/link,index/<alg>/<hex>/link}`. */
function classifyTag({ key, root, repository, m }: RepositoryKey): StorageKey {
  const t = m + 16;
  const e1 = key.indexOf('/', t);
  if (e1 === -1 || !isTagRange(key, t, e1)) return unrelated(key, 'invalid tag');
  if (restIs(key, e1, '/current/link')) {
    return { kind: 'tag-current-link', root, repository, tag: key.slice(t, e1) };
  }
  if (startsAt(key, e1, '/index/')) {
    const digest = digestThen(key, e1 + 7, '/link');
    if (digest === undefined) return unrelated(key, 'invalid tag index link');
    return { kind: 'tag-index-link', root, repository, tag: key.slice(t, e1), digest };
  }
  return unrelated(key, 'unknown _manifests/tags object');
}

// ---------------------------------------------------------------------------------------------
// Builders (validate, then produce exactly the layout keys)
// ---------------------------------------------------------------------------------------------

function checkedDigest(digest: unknown): { algorithm: string; hex: string } {
  const d = parseDigest(digest);
  if (d === undefined) {
    throw new InvalidReferenceError(
      'digest',
      typeof digest === 'string' ? digest : String(digest),
      'expected <algorithm>:<encoded> (sha256 needs 64 lowercase hex)'
    );
  }
  if (d.hex.length < 2) {
    throw new InvalidReferenceError('digest', String(digest), 'encoded part shorter than 2');
  }
  return d;
}

function checkedTag(tag: unknown): string {
  if (!isValidTag(tag)) {
    throw new InvalidReferenceError(
      'tag',
      typeof tag === 'string' ? tag : String(tag),
      'expected [A-Za-z0-9_][A-Za-z0-9._-]{0,127}'
    );
  }
  return tag;
}

/** `<R>/blobs/<alg>/<hh>/<hex>/data` */
export function blobDataKey(root: string, digest: Digest): string {
  const d = checkedDigest(digest);
  return `${registryPrefix(root)}blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`;
}

/** `<R>/repositories/<repo>/_layers/<alg>/<hex>/link` */
export function layerLinkKey(root: string, repository: string, digest: Digest): string {
  assertRepositoryName(repository);
  const d = checkedDigest(digest);
  return `${registryPrefix(root)}repositories/${repository}/_layers/${d.algorithm}/${d.hex}/link`;
}

/** `<R>/repositories/<repo>/_manifests/revisions/<alg>/<hex>/link` */
export function revisionLinkKey(root: string, repository: string, digest: Digest): string {
  assertRepositoryName(repository);
  const d = checkedDigest(digest);
  return `${registryPrefix(root)}repositories/${repository}/_manifests/revisions/${d.algorithm}/${d.hex}/link`;
}

/** `<R>/repositories/<repo>/_manifests/tags/<tag>/current/link` */
export function tagCurrentLinkKey(root: string, repository: string, tag: string): string {
  assertRepositoryName(repository);
  const t = checkedTag(tag);
  return `${registryPrefix(root)}repositories/${repository}/_manifests/tags/${t}/current/link`;
}

/** `<R>/repositories/<repo>/_manifests/tags/<tag>/index/<alg>/<hex>/link` */
export function tagIndexLinkKey(
  root: string,
  repository: string,
  tag: string,
  digest: Digest
): string {
  assertRepositoryName(repository);
  const t = checkedTag(tag);
  const d = checkedDigest(digest);
  return `${registryPrefix(root)}repositories/${repository}/_manifests/tags/${t}/index/${d.algorithm}/${d.hex}/link`;
}
