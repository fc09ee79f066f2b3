/**
 * The reference grammar of distribution (pure): repository names, digests, tags, upload ids and
 * hashstate offsets, checked by hand on a range of a string (no backtracking regexes on untrusted
 * input, no copies). keys.ts classifies and builds storage keys with them.
 */
import { InvalidReferenceError } from './errors.ts';
import type { Digest } from './types.ts';

/** distribution's `NameTotalLengthMax`. */
export const REPOSITORY_NAME_MAX = 255;

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
export function startsAt(s: string, at: number, lit: string): boolean {
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
export function isRepositoryRange(s: string, start: number, end: number): boolean {
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
export function isAlgorithm(s: string, start: number, end: number): boolean {
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
export function isEncoded(algorithm: string, s: string, start: number, end: number): boolean {
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
export function isTagRange(s: string, start: number, end: number): boolean {
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
export function isUploadIdRange(s: string, start: number, end: number): boolean {
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
export function parseOffsetRange(s: string, start: number, end: number): number {
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

/** An upload session id as distribution's routes accept it: `[a-zA-Z0-9-_.=]+`. */
export function isValidUploadId(id: unknown): id is string {
  return typeof id === 'string' && isUploadIdRange(id, 0, id.length);
}
