/**
 * Every line of the traces recorded from a real registry (distribution 2.8.2 on an S3 emulator,
 * registry-on-s3-emulator.md §2) through normalizeMessage, with the kinds each line must give.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeMessage, sequencerCompare } from '../../../lambdas/domain/events.ts';
import type { StorageEvent, StorageKeyKind } from '../../../lambdas/domain/types.ts';

function trace(name: string): string[] {
  const t = readFileSync(
    new URL(`../../fixtures/registry-traces/${name}.s3events.ndjson`, import.meta.url),
    'utf8'
  );
  return t.split('\n').filter((l) => l.trim() !== '');
}

/** One event per line (the emulator sends one record per message). */
function replay(name: string, rootDirectory?: string): StorageEvent[] {
  return trace(name).map((line, i) => {
    const r = normalizeMessage(line, rootDirectory === undefined ? {} : { rootDirectory });
    expect(r.skipped, `line ${i + 1}`).toBeUndefined();
    expect(r.events, `line ${i + 1}`).toHaveLength(1);
    const e = r.events[0] as StorageEvent;
    expect(e.source).toBe('storage');
    expect(e.storageKey.kind, `line ${i + 1}: ${e.key}`).not.toBe('unrelated');
    return e;
  });
}

type Step = [op: 'created' | 'removed', eventName: string, kind: StorageKeyKind];

/** The 12 events of one blob upload (registry-on-s3-emulator.md §2a). */
const BLOB: Step[] = [
  ['created', 'ObjectCreated:Put', 'upload-startedat'],
  ['created', 'ObjectCreated:Put', 'upload-hashstate'],
  ['created', 'ObjectCreated:Put', 'upload-hashstate'],
  ['created', 'ObjectCreated:Put', 'upload-hashstate'],
  ['created', 'ObjectCreated:CompleteMultipartUpload', 'upload-data'],
  ['created', 'ObjectCreated:Put', 'upload-hashstate'],
  ['created', 'ObjectCreated:Copy', 'blob-data'],
  ['removed', 'ObjectRemoved:Delete', 'upload-data'],
  ['created', 'ObjectCreated:Put', 'layer-link'],
  ['removed', 'ObjectRemoved:Delete', 'upload-hashstate'],
  ['removed', 'ObjectRemoved:Delete', 'upload-hashstate'],
  ['removed', 'ObjectRemoved:Delete', 'upload-startedat'],
];

/** The manifest PUT of a new image: data, revision link, tag index link, tag current link. */
const MANIFEST: Step[] = [
  ['created', 'ObjectCreated:Put', 'blob-data'],
  ['created', 'ObjectCreated:Put', 'revision-link'],
  ['created', 'ObjectCreated:Put', 'tag-index-link'],
  ['created', 'ObjectCreated:Put', 'tag-current-link'],
];

const steps = (events: StorageEvent[]): Step[] =>
  events.map((e) => [e.op, e.eventName, e.storageKey.kind]);

/** Checks one blob's 12 events beyond their kinds: one upload session, one digest, offsets. */
function checkBlob(events: StorageEvent[], repository: string, root: string): string {
  expect(steps(events)).toEqual(BLOB);
  const keys = events.map((e) => e.storageKey);
  expect(keys.filter((sk) => !('root' in sk) || sk.root !== root)).toEqual([]);
  expect(keys.filter((sk) => 'repository' in sk && sk.repository !== repository)).toEqual([]);
  const uploads = new Set(keys.flatMap((sk) => ('uploadId' in sk ? [sk.uploadId] : [])));
  const hashstates = keys.flatMap((sk) => (sk.kind === 'upload-hashstate' ? [sk] : []));
  expect(hashstates.map((h) => h.algorithm)).toEqual(Array(6).fill('sha256'));
  const offsets = hashstates.map((h) => h.offset);
  expect(uploads.size).toBe(1);
  const size = events[4]!.size!;
  expect(size).toBeGreaterThan(0);
  // hashstates: 0 at POST, <size> twice at PATCH, 0 again at PUT, then both deleted
  expect(offsets).toEqual([0, size, size, 0, 0, size]);
  const blob = events[6]!.storageKey;
  const link = events[8]!.storageKey;
  if (blob.kind !== 'blob-data' || link.kind !== 'layer-link') throw new Error('unreachable');
  expect(link.digest).toBe(blob.digest);
  expect(events[6]!.size).toBe(size);
  expect(events[8]!.size).toBe(71);
  return blob.digest;
}

function checkManifest(
  events: StorageEvent[],
  repository: string,
  root: string,
  tag: string
): string {
  expect(steps(events)).toEqual(MANIFEST);
  const [data, rev, index, current] = events.map((e) => e.storageKey);
  if (
    data?.kind !== 'blob-data' ||
    rev?.kind !== 'revision-link' ||
    index?.kind !== 'tag-index-link' ||
    current?.kind !== 'tag-current-link'
  ) {
    throw new Error('unreachable');
  }
  expect(rev.digest).toBe(data.digest);
  expect(index.digest).toBe(data.digest);
  for (const sk of [data, rev, index, current]) expect(sk.root).toBe(root);
  for (const sk of [rev, index, current]) expect(sk.repository).toBe(repository);
  expect(index.tag).toBe(tag);
  expect(current.tag).toBe(tag);
  return data.digest;
}

const A_MANIFEST = 'sha256:2e5f30335435090b159c7142b2d0e275e53038b6760d8b78a0783373dd1f5b11';
const E_MANIFEST = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';

describe('recorded registry traces', () => {
  it.each([
    ['a-normal-push', 'harbor', 'harbor'],
    ['a-normal-push', undefined, 'harbor'],
    ['noroot-a-normal-push', undefined, ''],
    ['noroot-a-normal-push', '', ''],
  ])('%s (root option %j): 4 blobs × 12 events, then the 4 manifest Puts', (name, opt, root) => {
    const events = replay(name, opt);
    expect(events).toHaveLength(52);
    const digests = new Set<string>();
    for (let b = 0; b < 4; b++) {
      digests.add(checkBlob(events.slice(b * 12, b * 12 + 12), 'library/app', root));
    }
    expect(digests.size).toBe(4);
    expect(checkManifest(events.slice(48), 'library/app', root, 'v1')).toBe(A_MANIFEST);
    expect(digests.has(A_MANIFEST)).toBe(false);
    // the recorder's sequencer is one counter: strictly increasing in delivery order
    for (let i = 1; i < events.length; i++) {
      expect(sequencerCompare(events[i - 1]!.sequencer!, events[i]!.sequencer!)).toBeLessThan(0);
    }
    expect(new Set(events.map((e) => e.dedupeKey)).size).toBe(52);
  });

  it('a-normal-push under the wrong configured root: every key unrelated', () => {
    for (const line of trace('a-normal-push')) {
      const r = normalizeMessage(line, { rootDirectory: 'other' });
      expect(r.skipped?.reason).toBe('unrelated-only');
      expect((r.events[0] as StorageEvent).storageKey.kind).toBe('unrelated');
    }
  });

  it('b1-repush-same: three link Puts, no data', () => {
    const events = replay('b1-repush-same', 'harbor');
    expect(steps(events)).toEqual(MANIFEST.slice(1));
    for (const e of events) expect(e.storageKey).toMatchObject({ repository: 'library/app' });
    expect(events[0]!.storageKey).toMatchObject({ digest: A_MANIFEST });
  });

  it('e1-push: 3 blobs × 12 events, then the manifest of library/stale', () => {
    const events = replay('e1-push', 'harbor');
    expect(events).toHaveLength(40);
    for (let b = 0; b < 3; b++)
      checkBlob(events.slice(b * 12, b * 12 + 12), 'library/stale', 'harbor');
    expect(checkManifest(events.slice(36), 'library/stale', 'harbor', 'v1')).toBe(E_MANIFEST);
  });

  it('e2-lose-manifest-data: one removal of the manifest data', () => {
    const events = replay('e2-lose-manifest-data', 'harbor');
    expect(steps(events)).toEqual([['removed', 'ObjectRemoved:Delete', 'blob-data']]);
    expect(events[0]!.storageKey).toEqual({
      kind: 'blob-data',
      root: 'harbor',
      digest: E_MANIFEST,
    });
    expect(events[0]!.size).toBeUndefined();
  });

  it('e3-repush-stale: the same shape as b1 (only the data tells them apart)', () => {
    const e3 = replay('e3-repush-stale', 'harbor');
    const b1 = replay('b1-repush-same', 'harbor');
    expect(steps(e3)).toEqual(steps(b1));
    expect(e3[0]!.storageKey).toEqual({
      kind: 'revision-link',
      root: 'harbor',
      repository: 'library/stale',
      digest: E_MANIFEST,
    });
  });
});
