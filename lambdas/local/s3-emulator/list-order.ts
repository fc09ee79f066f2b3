/**
 * Gap: fauxqs lists keys in `localeCompare` order; S3 lists them in UTF-8 binary order. The order
 * decides what the registry's recursive `Delete()` removes (`tags/v1.0/…` sorts before `tags/v1/…`
 * in S3, after it in locale order). Used by the emulator store for ListObjects v1 and v2.
 */
import type { ListOptions, ListResult, StoredObject } from './fauxqs-internals.ts';

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/** Compares two strings as their UTF-8 bytes compare (that is, by code point). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate encodes a code point above U+FFFF: it sorts after every BMP character.
    const xs = isSurrogate(x);
    if (xs !== isSurrogate(y)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** ListObjects over one bucket's objects, in S3 order, with prefix, delimiter, marker and max-keys. */
export function listInByteOrder(
  objects: ReadonlyMap<string, StoredObject>,
  options: ListOptions = {}
): ListResult {
  const prefix = options.prefix ?? '';
  const delimiter = options.delimiter || undefined;
  const maxKeys = options.maxKeys ?? 1000;
  const after = options.startAfter || options.marker || '';
  const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareUtf8);
  const result: StoredObject[] = [];
  const prefixes: string[] = [];
  let count = 0;
  let isTruncated = false;
  for (const key of keys) {
    if (after && compareUtf8(key, after) <= 0) continue;
    let common: string | undefined;
    if (delimiter) {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) common = key.slice(0, at + delimiter.length);
    }
    if (common !== undefined) {
      if (prefixes.at(-1) === common || (after && compareUtf8(common, after) <= 0)) continue;
    }
    if (count >= maxKeys) {
      isTruncated = true;
      break;
    }
    if (common !== undefined) prefixes.push(common);
    else result.push(objects.get(key) as StoredObject);
    count++;
  }
  return { objects: result, commonPrefixes: prefixes, isTruncated };
}
