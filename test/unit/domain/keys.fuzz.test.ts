/**
 * Property tests of the key classifier and the S3 key decoder: random and mutated keys never
 * throw, anything classified is exactly a layout key (it rebuilds to itself), and generated valid
 * names, digests and tags round-trip through the builders.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidReferenceError, MalformedEventError } from '../../../lambdas/domain/errors.ts';
import {
  blobDataKey,
  classifyKey,
  decodeS3Key,
  isValidRepositoryName,
  isValidTag,
  layerLinkKey,
  normalizeRootDirectory,
  parseDigest,
  registryPrefix,
  revisionLinkKey,
  tagCurrentLinkKey,
  tagIndexLinkKey,
} from '../../../lambdas/domain/keys.ts';
import type { StorageKey } from '../../../lambdas/domain/types.ts';
import { thrown } from '../../support/thrown.ts';

/** The key a classification stands for, rebuilt from its fields (builders validate them). */
function rebuild(sk: Exclude<StorageKey, { kind: 'unrelated' }>): string {
  switch (sk.kind) {
    case 'blob-data':
      return blobDataKey(sk.root, sk.digest);
    case 'layer-link':
      return layerLinkKey(sk.root, sk.repository, sk.digest);
    case 'revision-link':
      return revisionLinkKey(sk.root, sk.repository, sk.digest);
    case 'tag-current-link':
      return tagCurrentLinkKey(sk.root, sk.repository, sk.tag);
    case 'tag-index-link':
      return tagIndexLinkKey(sk.root, sk.repository, sk.tag, sk.digest);
    case 'upload-data':
    case 'upload-startedat':
    case 'upload-hashstate': {
      if (!isValidRepositoryName(sk.repository)) throw new Error('invalid repository accepted');
      const base = `${registryPrefix(sk.root)}repositories/${sk.repository}/_uploads/${sk.uploadId}/`;
      if (sk.kind === 'upload-data') return `${base}data`;
      if (sk.kind === 'upload-startedat') return `${base}startedat`;
      if (!Number.isSafeInteger(sk.offset) || sk.offset < 0) throw new Error('bad offset');
      return `${base}hashstates/${sk.algorithm}/${sk.offset}`;
    }
  }
}

/** What is wrong with a classification of `key` under `opts` (nothing: an empty list). */
function classificationProblems(
  key: string,
  sk: StorageKey,
  opts?: { rootDirectory?: string }
): string[] {
  if (sk.kind === 'unrelated') {
    return sk.key === key && typeof sk.reason === 'string' && sk.reason.length > 0
      ? []
      : [`unrelated: ${JSON.stringify(sk)}`];
  }
  const p: string[] = [];
  if (rebuild(sk) !== key) p.push(`rebuilds as ${rebuild(sk)}`);
  if (opts?.rootDirectory !== undefined && sk.root !== normalizeRootDirectory(opts.rootDirectory))
    p.push(`root ${sk.root}`);
  if ('digest' in sk && parseDigest(sk.digest) === undefined) p.push(`digest ${sk.digest}`);
  if ('tag' in sk && !isValidTag(sk.tag)) p.push(`tag ${sk.tag}`);
  return p;
}

/** Invariants of any classification of `key` under `opts`. */
function checkClassification(key: string, opts?: { rootDirectory?: string }): StorageKey {
  const sk = classifyKey(key, opts);
  expect(classificationProblems(key, sk, opts)).toEqual([]);
  return sk;
}

const traceKeys: string[] = (() => {
  const keys = new Set<string>();
  for (const name of ['a-normal-push', 'noroot-a-normal-push', 'e1-push', 'e3-repush-stale']) {
    const text = readFileSync(
      new URL(`../../fixtures/registry-traces/${name}.s3events.ndjson`, import.meta.url),
      'utf8'
    );
    for (const line of text.split('\n')) {
      if (line.trim() !== '') keys.add(JSON.parse(line).Records[0].s3.object.key);
    }
  }
  return [...keys];
})();

const TOKENS = [
  '',
  '.',
  '..',
  '_',
  '__',
  '-',
  'A',
  '*',
  '?',
  '[',
  ']',
  '\\',
  '::',
  ' ',
  '%2F',
  '+',
  'blobs',
  'repositories',
  '_uploads',
  '_layers',
  '_manifests',
  'revisions',
  'tags',
  'index',
  'current',
  'link',
  'data',
  'startedat',
  'hashstates',
  'sha256',
  'sha512',
  'SHA256',
  'docker',
  'registry',
  'v2',
  'docker/registry/v2',
  '0',
  '01',
  '9007199254740993',
  'constructor',
  '__proto__',
  'ab',
  'e95d718e-47d0-4dbd-aa27-dc3c08ce5781',
];

const noise = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...'abcdef0123456789/_.-:'), maxLength: 12 }),
  fc.constantFrom(...TOKENS)
);

/** One edit of a key at the component or character level. */
const mutation = fc.record({
  op: fc.nat(9),
  at: fc.nat(),
  text: noise,
});

function mutate(key: string, muts: { op: number; at: number; text: string }[]): string {
  let k = key;
  for (const m of muts) {
    const parts = k.split('/');
    const i = m.at % parts.length;
    const c = m.at % (k.length + 1);
    switch (m.op) {
      case 0:
        parts[i] = m.text;
        k = parts.join('/');
        break;
      case 1:
        parts.splice(i, 1);
        k = parts.join('/');
        break;
      case 2:
        parts.splice(i, 0, m.text);
        k = parts.join('/');
        break;
      case 3:
        parts.splice(i, 0, parts[i]!);
        k = parts.join('/');
        break;
      case 4:
        k = k.slice(0, c) + m.text + k.slice(c);
        break;
      case 5:
        k = k.slice(0, c) + k.slice(c + 1 + (m.at % 3));
        break;
      case 6:
        k = k.slice(0, c) + k.charAt(c).toUpperCase() + k.slice(c + 1);
        break;
      case 7:
        k = `${m.text}/${k}`;
        break;
      case 8:
        k = k.slice(0, c);
        break;
      default:
        k = `${k}/${m.text}`;
    }
  }
  return k;
}

const rootOpt = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('', '/', 'harbor', '/harbor/', 'a/b', 's3/object/name/prefix'),
  noise
);

// ---- generators of valid references -----------------------------------------------------------

const alnum = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
  minLength: 1,
  maxLength: 6,
});
const separator = fc.constantFrom('.', '_', '__', '-', '--', '---');
const component = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([s, a]) => s + a).join(''));
const repoName = fc
  .array(component, { minLength: 1, maxLength: 5 })
  .map((cs) => cs.join('/'))
  .filter((n) => n.length <= 255);
const hexOf = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const digest = fc.oneof(
  { weight: 4, arbitrary: hexOf(64).map((h) => `sha256:${h}`) },
  { weight: 1, arbitrary: hexOf(128).map((h) => `sha512:${h}`) },
  { weight: 1, arbitrary: hexOf(96).map((h) => `sha384:${h}`) }
);
const tag = fc
  .tuple(
    fc.constantFrom(...'abcXYZ019_'),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019_.-'), maxLength: 127 })
  )
  .map(([a, b]) => a + b);
const root = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.string({ unit: fc.constantFrom(...'abcxyz019-_.'), minLength: 1, maxLength: 8 }), {
      minLength: 1,
      maxLength: 3,
    })
    .map((cs) => cs.join('/'))
    .filter((r) => !`${r}/`.includes('docker/registry/v2/'))
);
const uploadId = fc.uuid();

describe('classifyKey properties', () => {
  it('random strings: never a throw; anything classified rebuilds to itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), rootOpt, (key, r) => {
        checkClassification(key, r === undefined ? undefined : { rootDirectory: r });
        checkClassification(`docker/registry/v2/${key}`);
        checkClassification(`harbor/docker/registry/v2/repositories/${key}`, {
          rootDirectory: 'harbor',
        });
      }),
      { numRuns: 3000 }
    );
  });

  it('mutated real keys: never a throw; anything classified rebuilds to itself', () => {
    let classified = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...traceKeys),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        rootOpt,
        (key, muts, r) => {
          const k = mutate(key, muts);
          const sk = checkClassification(k, r === undefined ? undefined : { rootDirectory: r });
          if (sk.kind !== 'unrelated') classified++;
        }
      ),
      { numRuns: 4000 }
    );
    // the mutations keep some keys valid (e.g. a doubled repository component)
    expect(classified).toBeGreaterThan(0);
  });

  it('generated valid references round-trip through the builders', () => {
    fc.assert(
      fc.property(
        root,
        repoName,
        digest,
        tag,
        uploadId,
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (rt, repo, d, t, id, offset) => {
          const expectations: [string, StorageKey][] = [
            [blobDataKey(rt, d), { kind: 'blob-data', root: rt, digest: d }],
            [
              layerLinkKey(rt, repo, d),
              { kind: 'layer-link', root: rt, repository: repo, digest: d },
            ],
            [
              revisionLinkKey(rt, repo, d),
              { kind: 'revision-link', root: rt, repository: repo, digest: d },
            ],
            [
              tagCurrentLinkKey(rt, repo, t),
              { kind: 'tag-current-link', root: rt, repository: repo, tag: t },
            ],
            [
              tagIndexLinkKey(rt, repo, t, d),
              { kind: 'tag-index-link', root: rt, repository: repo, tag: t, digest: d },
            ],
            [
              `${registryPrefix(rt)}repositories/${repo}/_uploads/${id}/hashstates/sha256/${offset}`,
              {
                kind: 'upload-hashstate',
                root: rt,
                repository: repo,
                uploadId: id,
                algorithm: 'sha256',
                offset,
              },
            ],
            [
              `${registryPrefix(rt)}repositories/${repo}/_uploads/${id}/startedat`,
              { kind: 'upload-startedat', root: rt, repository: repo, uploadId: id },
            ],
          ];
          for (const [key, expected] of expectations) {
            expect(classifyKey(key)).toEqual(expected);
            expect(classifyKey(key, { rootDirectory: rt })).toEqual(expected);
            expect(classifyKey(key, { rootDirectory: `/${rt}/` })).toEqual(expected);
            expect(classifyKey(key, { rootDirectory: `${rt}x` }).kind).toBe('unrelated');
          }
        }
      ),
      { numRuns: 2000 }
    );
  });

  it('names or digests with glob characters are rejected by builders and classifier', () => {
    fc.assert(
      fc.property(
        repoName,
        digest,
        fc.constantFrom('*', '?', '[', ']', '\\', ' ', 'A', '::', '//'),
        fc.nat(),
        (repo, d, bad, at) => {
          const i = at % (repo.length + 1);
          const badRepo = repo.slice(0, i) + bad + repo.slice(i);
          expect(isValidRepositoryName(badRepo)).toBe(false);
          expect(() => layerLinkKey('harbor', badRepo, d)).toThrow(InvalidReferenceError);
          const j = 7 + (at % (d.length - 7));
          const badDigest = d.slice(0, j) + bad + d.slice(j + 1);
          expect(() => blobDataKey('harbor', badDigest)).toThrow(InvalidReferenceError);
          const key = `harbor/docker/registry/v2/repositories/${badRepo}/_layers/sha256/${d.slice(7)}/link`;
          expect(classifyKey(key).kind).toBe('unrelated');
        }
      ),
      { numRuns: 1000 }
    );
  });
});

describe('decodeS3Key properties', () => {
  it('random strings: a string or a MalformedEventError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: fc.constantFrom(...'%+0123456789abcdefABCDEFGz/ '), maxLength: 40 })
        ),
        (raw) => {
          // Without '%' decoding cannot fail and only turns '+' into ' ' (so nothing else
          // changes without '+' either); with '%', a string or a MalformedEventError.
          const err = thrown(() => decodeS3Key(raw));
          const out = err === undefined ? decodeS3Key(raw) : undefined;
          expect(err === undefined || err instanceof MalformedEventError).toBe(true);
          expect(err === undefined || raw.includes('%')).toBe(true);
          expect(raw.includes('%') || out === raw.replaceAll('+', ' ')).toBe(true);
        }
      ),
      { numRuns: 3000 }
    );
  });

  it('inverts S3 form-style encoding of any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (s) => {
        const encoded = encodeURIComponent(s).replaceAll('%20', '+');
        expect(decodeS3Key(encoded)).toBe(s);
      }),
      { numRuns: 2000 }
    );
  });
});
