/**
 * Issue 12's engine rules, pure: (1) a removal of blob data is acted on whether or not PushGuard
 * knows who links it; (2) every committed manifest's blobs are checked, its own data write seen
 * or not, unless the same push wrote them within the window.
 */
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  createState,
  type EngineConfig,
  type EngineState,
} from '../../../lambdas/domain/engine.ts';
import {
  blobDataKey,
  classifyKey,
  layerLinkKey,
  revisionLinkKey,
} from '../../../lambdas/domain/keys.ts';
import type {
  Check,
  CheckResultEvent,
  Finding,
  StorageEvent,
} from '../../../lambdas/domain/types.ts';

const ROOT = 'harbor';
const W = 60_000;
const T0 = Date.parse('2026-12-01T10:00:00Z');
const M = `sha256:${'1'.repeat(64)}`;
const L1 = `sha256:${'2'.repeat(64)}`;
const L2 = `sha256:${'3'.repeat(64)}`;
const REPO = 'team/sub/app';
const cfg: EngineConfig = { windowMs: W, reportUnverified: false, rootDirectory: ROOT };

let seq = 0;
function s3(
  op: 'created' | 'removed',
  key: string,
  time: number,
  eventName?: string
): StorageEvent {
  seq += 1;
  const sq = seq.toString(16).padStart(16, '0');
  return {
    source: 'storage',
    op,
    eventName: eventName ?? (op === 'created' ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete'),
    bucket: 'registry',
    key,
    storageKey: classifyKey(key),
    sequencer: sq,
    time,
    dedupeKey: `s3|registry|${key}|${sq}`,
  };
}

function answer(
  check: Check,
  presence: 'present' | 'missing' | 'unknown',
  time: number,
  references?: string[]
): CheckResultEvent {
  return { source: 'check', check, presence, time, ...(references ? { references } : {}) };
}

function apply(state: EngineState, e: StorageEvent | CheckResultEvent, now: number) {
  const out = applyEvent(state, e, now, cfg);
  return { findings: [...out.findings] as Finding[], checks: [...out.checks] };
}

describe('rule 1: clear on removal, known or not', () => {
  it('data nobody is known to link: checked at once, and a missing answer is a blob-data-removed finding', () => {
    for (const name of ['ObjectRemoved:Delete', 'LifecycleExpiration:Delete']) {
      const state = createState();
      const removed = apply(state, s3('removed', blobDataKey(ROOT, L1), T0, name), T0);
      expect(removed.findings).toEqual([]);
      expect(removed.checks).toEqual([
        { type: 'blob-data', digest: L1, key: blobDataKey(ROOT, L1) },
      ]);
      const out = apply(state, answer(removed.checks[0]!, 'missing', T0 + 100), T0 + 100);
      expect(out.findings).toHaveLength(1);
      expect(out.findings[0]).toMatchObject({
        kind: 'blob-data-removed',
        repository: '',
        digest: L1,
        verified: true,
        action: 'clear-cache',
      });
      expect(out.findings[0]!.evidence.join('\n')).toContain(`${name} ${blobDataKey(ROOT, L1)}`);
    }
  });

  it('data back (present) or doubt (unknown) reports nothing', () => {
    for (const presence of ['present', 'unknown'] as const) {
      const state = createState();
      const removed = apply(state, s3('removed', blobDataKey(ROOT, L1), T0), T0);
      expect(apply(state, answer(removed.checks[0]!, presence, T0 + 1), T0 + 1).findings).toEqual(
        []
      );
    }
  });

  it('data a repository is known to link keeps its data-missing finding and no removal finding', () => {
    const state = createState();
    apply(state, s3('created', blobDataKey(ROOT, L1), T0), T0);
    apply(state, s3('created', layerLinkKey(ROOT, REPO, L1), T0 + 1), T0 + 1);
    const removed = apply(state, s3('removed', blobDataKey(ROOT, L1), T0 + W * 2), T0 + W * 2);
    const check = removed.checks.find((c) => c.type === 'blob-data' && !c.repository)!;
    const out = apply(state, answer(check, 'missing', T0 + W * 2 + 5), T0 + W * 2 + 5);
    expect(out.findings.map((f) => `${f.kind} ${f.repository}`)).toEqual([
      `layer-data-missing ${REPO}`,
    ]);
  });
});

describe('rule 2: every committed manifest has its blobs', () => {
  it('a manifest whose data write was seen is still read, and blobs this push did not write are checked', () => {
    const state = createState();
    apply(state, s3('created', blobDataKey(ROOT, L1), T0), T0);
    apply(state, s3('created', blobDataKey(ROOT, M), T0 + 10), T0 + 10);
    const commit = apply(state, s3('created', revisionLinkKey(ROOT, REPO, M), T0 + 20), T0 + 20);
    expect(commit.checks).toEqual([
      { type: 'manifest', digest: M, key: blobDataKey(ROOT, M), repository: REPO },
    ]);
    const read = apply(state, answer(commit.checks[0]!, 'present', T0 + 30, [L1, L2]), T0 + 30);
    // L1 was written by this push within the window; L2 was not: only L2 is asked about.
    expect(read.checks).toEqual([
      { type: 'blob-data', digest: L2, key: blobDataKey(ROOT, L2), repository: REPO },
    ]);
    const missing = apply(state, answer(read.checks[0]!, 'missing', T0 + 40), T0 + 40);
    expect(missing.findings).toHaveLength(1);
    expect(missing.findings[0]).toMatchObject({
      kind: 'layer-data-missing',
      repository: REPO,
      digest: L2,
    });
    expect(missing.findings[0]!.evidence.join('\n')).toContain(`referenced by manifest ${M}`);
  });

  it('whole-image loss, state empty: the re-push that writes the manifest data gets its layers checked', () => {
    const state = createState();
    // Re-push #1: the stale cache skipped the data write; the manifest check finds it missing.
    const first = apply(state, s3('created', revisionLinkKey(ROOT, REPO, M), T0), T0);
    const gone = apply(state, answer(first.checks[0]!, 'missing', T0 + 5), T0 + 5);
    expect(gone.findings.map((f) => f.kind)).toEqual(['manifest-data-missing']);
    // Re-push #2 (same window) writes the manifest data, then the revision link again.
    apply(state, s3('created', blobDataKey(ROOT, M), T0 + 1_000), T0 + 1_000);
    const second = apply(
      state,
      s3('created', revisionLinkKey(ROOT, REPO, M), T0 + 1_001),
      T0 + 1_001
    );
    expect(second.checks).toEqual([
      { type: 'manifest', digest: M, key: blobDataKey(ROOT, M), repository: REPO },
    ]);
    const read = apply(
      state,
      answer(second.checks[0]!, 'present', T0 + 1_010, [L1, L2]),
      T0 + 1_010
    );
    expect(read.checks.map((c) => c.digest)).toEqual([L1, L2]);
    const lost = apply(state, answer(read.checks[0]!, 'missing', T0 + 1_020), T0 + 1_020);
    expect(lost.findings.map((f) => `${f.kind} ${f.digest}`)).toEqual([`layer-data-missing ${L1}`]);
  });
});
