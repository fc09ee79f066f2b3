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
import type { Digest, StorageKey } from './types.ts';

const V2 = 'docker/registry/v2/';

/** distribution's `NameTotalLengthMax`. */
export const REPOSITORY_NAME_MAX = 255;

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
// Character classes
// ---------------------------------------------------------------------------------------------

/** [a-z0-9] */
function isLowerAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** [a-f0-9] */
function isLowerHex(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 48 && c <= 57);
}

/** [A-Za-z0-9] */
function isAlnum(c: number): boolean {
  return isLowerAlnum(c) || (c >= 65 && c <= 90);
}

/** Characters of upload ids, `[a-zA-Z0-9-_.=]`, and of tags after the first, `[A-Za-z0-9._-]`. */
const UPLOAD_CHAR = 1;
const TAG_CHAR = 2;
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (isAlnum(c) || c === 45 || c === 95 || c === 46) CHAR_CLASS[c] = UPLOAD_CHAR | TAG_CHAR;
  if (c === 61) CHAR_CLASS[c] = UPLOAD_CHAR;
}

/** `s` holds exactly `lit` at `at` (a char loop: cheaper than startsWith with a position). */
function startsAt(s: string, at: number, lit: string): boolean {
  const n = lit.length;
  if (at < 0 || at + n > s.length) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(at + i) !== lit.charCodeAt(i)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Repository names
// ---------------------------------------------------------------------------------------------

/**
 * One path component of distribution's name grammar, checked on `s[start, end)`:
 * `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
 */
function isPathComponent(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  if (!isLowerAlnum(s.charCodeAt(start)) || !isLowerAlnum(s.charCodeAt(end - 1))) return false;
  let i = start + 1;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (isLowerAlnum(c)) {
      i++;
      continue;
    }
    if (c === 46 /* . */) {
      i++;
    } else if (c === 95 /* _ */) {
      i++;
      if (i < end && s.charCodeAt(i) === 95) i++;
    } else if (c === 45 /* - */) {
      while (i < end && s.charCodeAt(i) === 45) i++;
    } else {
      return false;
    }
    // a separator must be followed by an alphanumeric
    if (i >= end || !isLowerAlnum(s.charCodeAt(i))) return false;
  }
  return true;
}

/** A repository name on `s[start, end)`: path components joined by '/', ≤ 255 characters. */
function isRepositoryRange(s: string, start: number, end: number): boolean {
  if (end <= start || end - start > REPOSITORY_NAME_MAX) return false;
  let from = start;
  for (let i = start; i <= end; i++) {
    if (i === end || s.charCodeAt(i) === 47) {
      if (!isPathComponent(s, from, i)) return false;
      from = i + 1;
    }
  }
  return true;
}

/** distribution's reference grammar for names (path components only, ≤ 255 characters). */
export function isValidRepositoryName(name: unknown): name is string {
  return typeof name === 'string' && isRepositoryRange(name, 0, name.length);
}

export function assertRepositoryName(name: unknown): asserts name is string {
  if (!isValidRepositoryName(name)) {
    const value = typeof name === 'string' ? name : String(name);
    const reason =
      typeof name !== 'string'
        ? 'not a string'
        : name.length > REPOSITORY_NAME_MAX
          ? `longer than ${REPOSITORY_NAME_MAX} characters`
          : 'does not match [a-z0-9]+((.|_|__|-*)[a-z0-9]+)* path components joined by /';
    throw new InvalidReferenceError('repository name', value, reason);
  }
}

// ---------------------------------------------------------------------------------------------
// Digests
// ---------------------------------------------------------------------------------------------

/** Encoded lengths of the algorithms go-digest knows; their hex must be lowercase. */
const KNOWN_HEX_LENGTH = new Map<string, number>([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

/** `[a-z0-9]+(?:[.+_-][a-z0-9]+)*` on `s[start, end)`. */
function isAlgorithm(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  let needAlnum = true;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isLowerAlnum(c)) {
      needAlnum = false;
    } else if (c === 46 || c === 43 || c === 95 || c === 45) {
      if (needAlnum) return false;
      needAlnum = true;
    } else {
      return false;
    }
  }
  return !needAlnum;
}

/** The encoded part of a digest, `s[start, end)`, for `algorithm`. */
function isEncoded(algorithm: string, s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  const known = KNOWN_HEX_LENGTH.get(algorithm);
  if (known !== undefined) {
    if (end - start !== known) return false;
    for (let i = start; i < end; i++) if (!isLowerHex(s.charCodeAt(i))) return false;
    return true;
  }
  // [a-zA-Z0-9=_-]+
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== 61 && c !== 95 && c !== 45) return false;
  }
  return true;
}

/**
 * `algorithm:encoded` per distribution's digest grammar; sha256/sha384/sha512 need exactly
 * 64/96/128 lowercase hex. Other algorithms are recognised by grammar only.
 */
export function parseDigest(s: unknown): { algorithm: string; hex: string } | undefined {
  if (typeof s !== 'string') return undefined;
  const colon = s.indexOf(':');
  if (colon <= 0 || !isAlgorithm(s, 0, colon)) return undefined;
  const algorithm = s.slice(0, colon);
  if (!isEncoded(algorithm, s, colon + 1, s.length)) return undefined;
  return { algorithm, hex: s.slice(colon + 1) };
}

/** `sha256:` + 64 lowercase hex: the only digests ever used to build Redis keys. */
export function isSha256Digest(s: unknown): s is Digest {
  if (typeof s !== 'string' || s.length !== 71 || !s.startsWith('sha256:')) return false;
  for (let i = 7; i < 71; i++) if (!isLowerHex(s.charCodeAt(i))) return false;
  return true;
}

export function assertSha256Digest(s: unknown): asserts s is Digest {
  if (!isSha256Digest(s)) {
    throw new InvalidReferenceError(
      'digest',
      typeof s === 'string' ? s : String(s),
      'expected sha256: followed by 64 lowercase hex characters'
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Tags and upload ids
// ---------------------------------------------------------------------------------------------

/** `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}` on `s[start, end)`. */
function isTagRange(s: string, start: number, end: number): boolean {
  if (end <= start || end - start > 128) return false;
  const c0 = s.charCodeAt(start);
  if (!isAlnum(c0) && c0 !== 95) return false;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c]! & TAG_CHAR) === 0) return false;
  }
  return true;
}

/** `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}` */
export function isValidTag(tag: unknown): tag is string {
  return typeof tag === 'string' && isTagRange(tag, 0, tag.length);
}

/** Upload session ids as distribution's routes accept them: `[a-zA-Z0-9-_.=]+`, on `s[start, end)`. */
function isUploadIdRange(s: string, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0 || n > 256) return false;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) dots++;
    else if (c >= 128 || (CHAR_CLASS[c]! & UPLOAD_CHAR) === 0) return false;
  }
  return dots !== n || n > 2; // not '.' or '..'
}

/**
 * A non-negative decimal integer without leading zeros, within the safe integer range, on
 * `s[start, end)`; -1 otherwise.
 */
function parseOffsetRange(s: string, start: number, end: number): number {
  const n = end - start;
  if (n <= 0 || n > 16 || (n > 1 && s.charCodeAt(start) === 48)) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return Number.isSafeInteger(v) ? v : -1;
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

  if (startsAt(key, p, 'blobs/')) {
    // blobs/<alg>/<hh>/<hex>/data
    const a = p + 6;
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

  if (!startsAt(key, p, 'repositories/')) {
    return unrelated(key, 'not under blobs/ or repositories/');
  }
  // the first component starting with `_` ends the repository name (name components cannot)
  const nameStart = p + 13;
  const nameEnd = key.indexOf('/_', nameStart);
  if (nameEnd === -1) return unrelated(key, 'no _uploads/_layers/_manifests component');
  if (!isRepositoryRange(key, nameStart, nameEnd)) return unrelated(key, 'invalid repository name');
  const repository = key.slice(nameStart, nameEnd);
  const m = nameEnd + 1;

  if (startsAt(key, m, '_layers/')) {
    const digest = digestThen(key, m + 8, '/link');
    if (digest === undefined) return unrelated(key, 'not _layers/<alg>/<hex>/link');
    return { kind: 'layer-link', root, repository, digest };
  }

  if (startsAt(key, m, '_uploads/')) {
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

  if (startsAt(key, m, '_manifests/revisions/')) {
    const digest = digestThen(key, m + 21, '/link');
    if (digest === undefined) return unrelated(key, 'not _manifests/revisions/<alg>/<hex>/link');
    return { kind: 'revision-link', root, repository, digest };
  }

  if (startsAt(key, m, '_manifests/tags/')) {
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
  return unrelated(key, 'unknown _uploads/_layers/_manifests object');
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
