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

/** distribution's reference grammar for names (path components only, ≤ 255 characters). */
export function isValidRepositoryName(name: unknown): name is string {
  if (typeof name !== 'string') return false;
  const n = name.length;
  if (n === 0 || n > REPOSITORY_NAME_MAX) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i === n || name.charCodeAt(i) === 47) {
      if (!isPathComponent(name, start, i)) return false;
      start = i + 1;
    }
  }
  return true;
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

/** `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}` */
export function isValidTag(tag: unknown): tag is string {
  if (typeof tag !== 'string') return false;
  const n = tag.length;
  if (n === 0 || n > 128) return false;
  const c0 = tag.charCodeAt(0);
  if (!isAlnum(c0) && c0 !== 95) return false;
  for (let i = 1; i < n; i++) {
    const c = tag.charCodeAt(i);
    if (!isAlnum(c) && c !== 95 && c !== 46 && c !== 45) return false;
  }
  return true;
}

/** Upload session ids as distribution's routes accept them: `[a-zA-Z0-9-_.=]+`. */
function isUploadId(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 256 || s === '.' || s === '..') return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== 45 && c !== 95 && c !== 46 && c !== 61) return false;
  }
  return true;
}

/** A non-negative decimal integer without leading zeros, within the safe integer range. */
function parseOffset(s: string): number | undefined {
  const n = s.length;
  if (n === 0 || n > 16 || (n > 1 && s.charCodeAt(0) === 48)) return undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : undefined;
}

// ---------------------------------------------------------------------------------------------
// Classifier
// ---------------------------------------------------------------------------------------------

export interface ClassifyOptions {
  /** The configured root directory; when absent, detected from the key. */
  rootDirectory?: string;
}

// One-entry memo: a process nearly always classifies with the same configured root.
let memoRootInput: string | undefined;
let memoRoot = '';
let memoPrefix = V2;

function unrelated(key: string, reason: string): StorageKey {
  return { kind: 'unrelated', key, reason };
}

/** `<alg>/<hex>` components at `parts[i]`, `parts[i+1]` as a digest, or undefined. */
function digestAt(parts: string[], i: number): Digest | undefined {
  const alg = parts[i];
  const hex = parts[i + 1];
  if (alg === undefined || hex === undefined) return undefined;
  if (!isAlgorithm(alg, 0, alg.length) || !isEncoded(alg, hex, 0, hex.length)) return undefined;
  return `${alg}:${hex}`;
}

/**
 * What a bucket key is. Never throws: anything that is not exactly a layout key (other files,
 * invalid names, digests or tags) is `{ kind: 'unrelated', key, reason }`.
 */
export function classifyKey(key: string, opts?: ClassifyOptions): StorageKey {
  if (typeof key !== 'string') return unrelated(String(key), 'not a string');
  let root: string;
  let restStart: number;
  const configured = opts?.rootDirectory;
  if (configured !== undefined) {
    if (configured !== memoRootInput) {
      memoRoot = normalizeRootDirectory(configured);
      memoPrefix = memoRoot === '' ? V2 : `${memoRoot}/${V2}`;
      memoRootInput = configured;
    }
    if (!key.startsWith(memoPrefix)) return unrelated(key, `outside ${memoPrefix}`);
    root = memoRoot;
    restStart = memoPrefix.length;
  } else {
    const detected = detectRootDirectory(key);
    if (detected === undefined) return unrelated(key, `no ${V2} prefix`);
    root = detected;
    restStart = detected === '' ? V2.length : detected.length + 1 + V2.length;
  }

  const parts = key.slice(restStart).split('/');
  const n = parts.length;
  const head = parts[0];

  if (head === 'blobs') {
    if (n !== 5 || parts[4] !== 'data') return unrelated(key, 'not blobs/<alg>/<hh>/<hex>/data');
    const hh = parts[2]!;
    const hex = parts[3]!;
    if (hh.length !== 2 || !hex.startsWith(hh)) return unrelated(key, 'blob shard mismatch');
    const alg = parts[1]!;
    if (!isAlgorithm(alg, 0, alg.length) || !isEncoded(alg, hex, 0, hex.length)) {
      return unrelated(key, 'invalid blob digest');
    }
    return { kind: 'blob-data', root, digest: `${alg}:${hex}` };
  }

  if (head !== 'repositories') return unrelated(key, 'not under blobs/ or repositories/');

  // the first component starting with `_` ends the repository name (name components cannot)
  let m = -1;
  for (let i = 2; i < n; i++) {
    const p = parts[i]!;
    if (p.charCodeAt(0) === 95) {
      if (p === '_uploads' || p === '_layers' || p === '_manifests') m = i;
      break;
    }
  }
  if (m === -1) return unrelated(key, 'no _uploads/_layers/_manifests component');
  const repository = m === 2 ? parts[1]! : parts.slice(1, m).join('/');
  if (!isValidRepositoryName(repository)) return unrelated(key, 'invalid repository name');
  const marker = parts[m];
  const tail = n - m; // components from the marker on

  if (marker === '_layers') {
    if (tail !== 4 || parts[m + 3] !== 'link')
      return unrelated(key, 'not _layers/<alg>/<hex>/link');
    const digest = digestAt(parts, m + 1);
    if (digest === undefined) return unrelated(key, 'invalid layer digest');
    return { kind: 'layer-link', root, repository, digest };
  }

  if (marker === '_uploads') {
    const uploadId = parts[m + 1];
    if (uploadId === undefined || !isUploadId(uploadId)) return unrelated(key, 'invalid upload id');
    const what = parts[m + 2];
    if (tail === 3 && what === 'data') return { kind: 'upload-data', root, repository, uploadId };
    if (tail === 3 && what === 'startedat') {
      return { kind: 'upload-startedat', root, repository, uploadId };
    }
    if (tail === 5 && what === 'hashstates') {
      const algorithm = parts[m + 3]!;
      const offset = parseOffset(parts[m + 4]!);
      if (!isAlgorithm(algorithm, 0, algorithm.length) || offset === undefined) {
        return unrelated(key, 'invalid hashstate');
      }
      return { kind: 'upload-hashstate', root, repository, uploadId, algorithm, offset };
    }
    return unrelated(key, 'unknown _uploads object');
  }

  // _manifests
  const sub = parts[m + 1];
  if (sub === 'revisions') {
    if (tail !== 5 || parts[m + 4] !== 'link') {
      return unrelated(key, 'not _manifests/revisions/<alg>/<hex>/link');
    }
    const digest = digestAt(parts, m + 2);
    if (digest === undefined) return unrelated(key, 'invalid revision digest');
    return { kind: 'revision-link', root, repository, digest };
  }
  if (sub === 'tags') {
    const tag = parts[m + 2];
    if (!isValidTag(tag)) return unrelated(key, 'invalid tag');
    if (tail === 5 && parts[m + 3] === 'current' && parts[m + 4] === 'link') {
      return { kind: 'tag-current-link', root, repository, tag };
    }
    if (tail === 7 && parts[m + 3] === 'index' && parts[m + 6] === 'link') {
      const digest = digestAt(parts, m + 4);
      if (digest === undefined) return unrelated(key, 'invalid tag index digest');
      return { kind: 'tag-index-link', root, repository, tag, digest };
    }
    return unrelated(key, 'unknown _manifests/tags object');
  }
  return unrelated(key, 'unknown _manifests object');
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
