/**
 * Generators of the names PushGuard meets, for property tests: repositories, tags, projects and
 * upload ids that include JavaScript's prototype member names, unicode-looking names the grammar
 * allows (punycode, look-alike letters and digits), names at their maximal length and nesting,
 * and integer-like names (which plain objects would reorder).
 */
import fc from 'fast-check';
import { REPOSITORY_NAME_MAX } from '../../lambdas/domain/keys.ts';

/** Members of Object.prototype (and friends) in the spellings each grammar allows. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toString',
  'toLocaleString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'prototype',
  'length',
  'then',
];

/** Lowercase path components for repository names (the grammar has no uppercase, no leading `_`). */
const PROTOTYPE_COMPONENTS = [
  'constructor',
  'hasownproperty',
  'isprototypeof',
  'tostring',
  'valueof',
  'prototype',
  'proto__x',
  'length',
  'then',
  'xn--80ak6aa92e', // punycode of a Cyrillic word
  'xn--e1afmkfd',
  'paypa1',
  'rnicrosoft', // rn for m
  'g00gle',
  '0',
  '1',
  '4294967295',
];

const TAG_LIKE = [
  ...PROTOTYPE_NAMES,
  'latest',
  'v1',
  '1',
  '0',
  '4294967294',
  'xn--80ak6aa92e',
  'I1l',
  'O0o',
  'A'.repeat(128), // maximal tag length
];

const UPLOAD_LIKE = [
  ...PROTOTYPE_NAMES,
  '0',
  '1',
  '123456',
  'e95d718e-47d0-4dbd-aa27-dc3c08ce5781',
  'a=b.c_d-e',
];

const lowerAlnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''));

/** One path component of the name grammar. */
const component = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTOTYPE_COMPONENTS) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.array(lowerAlnum, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('', '.', '_', '__', '-', '---'),
        fc.array(lowerAlnum, { minLength: 1, maxLength: 6 })
      )
      .map(([a, sep, b]) => `${a.join('')}${sep}${b.join('')}`),
  }
);

/** A repository name: 1..4 components, sometimes padded to the maximal 255 characters. */
export const repository = fc
  .tuple(fc.array(component, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat(40))
  .map(([parts, longest, depth]) => {
    const name = parts.join('/');
    if (!longest) return name;
    // maximal length and nesting: a/a/a/... up to 255 characters
    const nested = `${name}/${Array.from({ length: depth + 60 }, () => 'a').join('/')}`;
    return nested.slice(0, REPOSITORY_NAME_MAX).replace(/\/+$/, '');
  });

/** A project: a repository's first component, or a namespace of its own. */
export const project = component;

export const tag = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TAG_LIKE) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/) }
);

export const uploadId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...UPLOAD_LIKE) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z0-9_.=-]{1,20}$/) }
);

/** Digests from a small pool, so streams link, remove and re-link the same blobs. */
export const digest = fc.integer({ min: 0, max: 5 }).map((i) => `sha256:${String(i).repeat(64)}`);
